//! Host names in Istio routing objects: a short name is resolved relative to the namespace of
//! the object that contains it, anything with a dot is taken literally (Istio's
//! `ResolveShortnameToFQDN`; see `docs/console-rules.md`, "Hosts").

use std::net::IpAddr;

/// The cluster's DNS domain. Istio's default, and the only one the console supports.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The host a `host` field of an object in `namespace` refers to, as Istio resolves it: a name
/// without a dot is a service of that namespace (`review` in `hands-on` is
/// `review.hands-on.svc.cluster.local`); a name with a dot, `*`, or an IP address is taken as
/// written, so `review.other` stays `review.other` (Istio does not expand it DNS-style).
pub fn resolve(host: &str, namespace: &str) -> String {
    if host.is_empty() || host == "*" || host.contains('.') || host.parse::<IpAddr>().is_ok() {
        return host.to_owned();
    }
    if namespace.is_empty() {
        return format!("{host}.svc.{CLUSTER_DOMAIN}");
    }
    format!("{host}.{namespace}.svc.{CLUSTER_DOMAIN}")
}

/// The Kubernetes Service (name, namespace) a resolved host names, if it is one:
/// `review.hands-on.svc.cluster.local` → (`review`, `hands-on`). Other hosts (`review.other`,
/// external names, wildcards) name no Service.
pub fn kubernetes_service(fqdn: &str) -> Option<(String, String)> {
    let rest = fqdn.strip_suffix(CLUSTER_DOMAIN)?.strip_suffix(".svc.")?;
    let (name, namespace) = rest.split_once('.')?;
    let label = |s: &str| !s.is_empty() && !s.contains('.') && !s.contains('*');
    (label(name) && label(namespace)).then(|| (name.to_owned(), namespace.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_is_a_service_of_the_objects_namespace() {
        assert_eq!(
            resolve("review", "hands-on"),
            "review.hands-on.svc.cluster.local"
        );
        // The namespace of the rule, not of any service called `review` elsewhere.
        assert_eq!(resolve("review", "other"), "review.other.svc.cluster.local");
    }

    #[test]
    fn a_dotted_name_is_taken_literally() {
        // Not `review.other.svc.cluster.local`: Istio appends nothing once there is a dot.
        assert_eq!(resolve("review.other", "hands-on"), "review.other");
        assert_eq!(
            resolve("review.hands-on.svc.cluster.local", "x"),
            "review.hands-on.svc.cluster.local"
        );
        assert_eq!(resolve("api.example.com", "x"), "api.example.com");
        assert_eq!(resolve("*.example.com", "x"), "*.example.com");
    }

    #[test]
    fn wildcards_and_addresses_are_taken_literally() {
        assert_eq!(resolve("*", "x"), "*");
        assert_eq!(resolve("10.0.0.7", "x"), "10.0.0.7");
        // An IPv6 address has no dot but is not a short name either.
        assert_eq!(resolve("fd00::7", "x"), "fd00::7");
        assert_eq!(resolve("", "x"), "");
    }

    #[test]
    fn only_service_hosts_name_a_kubernetes_service() {
        assert_eq!(
            kubernetes_service("review.hands-on.svc.cluster.local"),
            Some(("review".into(), "hands-on".into()))
        );
        assert_eq!(kubernetes_service("review.other"), None);
        assert_eq!(kubernetes_service("api.example.com"), None);
        assert_eq!(kubernetes_service("*.hands-on.svc.cluster.local"), None);
        assert_eq!(kubernetes_service("a.b.hands-on.svc.cluster.local"), None);
        assert_eq!(kubernetes_service("hands-on.svc.cluster.local"), None);
    }
}
