//! Host names: Istio's short-name resolution for VirtualService and DestinationRule hosts, a
//! pod's DNS search path, and how well a host pattern matches a service.

/// How well a VirtualService/DestinationRule host pattern matches an FQDN: 2 exact, 1 wildcard.
pub(super) fn host_specificity(pattern: &str, fqdn: &str) -> Option<u8> {
    if pattern == fqdn {
        Some(2)
    } else if pattern == "*" {
        Some(1)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        fqdn.ends_with(suffix).then_some(1)
    } else {
        None
    }
}

/// Istio's short-name resolution for VirtualService and DestinationRule hosts
/// (`ResolveShortnameToFQDN`, see docs/istio-routing.md): `*`, an IP address and any host with a
/// dot are taken literally (so `review.other` stays `review.other`); a bare name is a service in
/// the rule's namespace. An empty host stays empty and matches nothing.
pub(crate) fn resolve_host(host: &str, namespace: &str) -> String {
    let literal = host.is_empty()
        || host == "*"
        || host.contains('.')
        || host.parse::<std::net::IpAddr>().is_ok();
    if literal {
        host.to_owned()
    } else {
        fqdn(host, namespace)
    }
}

/// DNS resolution from a pod, as the search path `ns.svc.cluster.local svc.cluster.local` does:
/// `name`, `name.ns`, or a full host.
pub(crate) fn dns_host(name: &str, namespace: &str) -> String {
    match name.matches('.').count() {
        0 => fqdn(name, namespace),
        1 => format!("{name}.svc.cluster.local"),
        _ => name.to_owned(),
    }
}

pub(super) fn fqdn(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.svc.cluster.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_resolution() {
        assert_eq!(
            resolve_host("review", "hands-on"),
            "review.hands-on.svc.cluster.local"
        );
        assert_eq!(
            resolve_host("review.other.svc.cluster.local", "x"),
            "review.other.svc.cluster.local"
        );
        // A dot makes a rule host literal, where a pod's resolver would expand it.
        assert_eq!(resolve_host("review.other", "x"), "review.other");
        assert_eq!(resolve_host("*", "x"), "*");
        assert_eq!(
            resolve_host("*.hands-on.svc.cluster.local", "x"),
            "*.hands-on.svc.cluster.local"
        );
        assert_eq!(resolve_host("10.0.0.7", "x"), "10.0.0.7");
        assert_eq!(resolve_host("::1", "x"), "::1");
        assert_eq!(resolve_host("", "x"), "");
        assert_eq!(
            dns_host("review.other", "x"),
            "review.other.svc.cluster.local"
        );
        assert_eq!(
            host_specificity(
                "*.hands-on.svc.cluster.local",
                "review.hands-on.svc.cluster.local"
            ),
            Some(1)
        );
        assert_eq!(
            host_specificity("review.x.svc.cluster.local", "review.y.svc.cluster.local"),
            None
        );
    }
}
