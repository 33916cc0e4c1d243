//! Pure reading of HTTPRoute objects: rules with their matches summarised, backendRefs with their
//! Service, port, weight and requested share (Gateway API's relative weights), and the Services a
//! route attaches to in the mesh. No I/O.

use serde_json::Value;
use switchyard_protocol::{backend_shares, BackendDestination, HttpRouteRoutes, RouteRule};

/// Where an HTTPRoute's rules are (JSON pointer), and the field of a rule holding its backends.
pub const RULES: &str = "/spec/rules";
pub const BACKENDS: &str = "backendRefs";

/// The console's view of one HTTPRoute. `weight_managers` is left empty (`cluster::view` knows
/// which controllers count).
pub fn http_route_routes(object: &Value) -> HttpRouteRoutes {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let namespace = text("/metadata/namespace");
    let routes = object
        .pointer(RULES)
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .enumerate()
                .map(|(index, rule)| route_rule(index, rule, &namespace))
                .collect()
        })
        .unwrap_or_default();
    HttpRouteRoutes {
        hosts: parent_services(object)
            .into_iter()
            .map(|(ns, name)| qualified(&ns, &name, &namespace))
            .collect(),
        name: text("/metadata/name"),
        resource_version: text("/metadata/resourceVersion"),
        namespace,
        routes,
        weight_managers: Vec::new(),
    }
}

fn route_rule(index: usize, rule: &Value, namespace: &str) -> RouteRule {
    let backends: Vec<&Value> = rule
        .get(BACKENDS)
        .and_then(Value::as_array)
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    let weights: Vec<u32> = backends.iter().map(|b| weight_of(b)).collect();
    let shares = backend_shares(&weights);
    RouteRule {
        index,
        name: rule.get("name").and_then(Value::as_str).map(str::to_owned),
        match_summary: match_summary(rule.get("matches")),
        destinations: backends
            .iter()
            .zip(weights.iter().zip(shares))
            .map(|(b, (&weight, share))| BackendDestination {
                host: backend_host(b, namespace),
                port: b
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u32::try_from(p).ok()),
                weight,
                requested_share: share,
                observed_share: None,
            })
            .collect(),
    }
}

/// A backendRef's weight as Gateway API reads it: absent counts as 1; a value that is not a
/// whole number 0 or more (which the CRD refuses) as 0, no traffic.
pub fn weight_of(entry: &Value) -> u32 {
    match entry.get("weight") {
        None | Some(Value::Null) => 1,
        Some(w) => w
            .as_u64()
            .map(|w| u32::try_from(w).unwrap_or(u32::MAX))
            .unwrap_or(0),
    }
}

/// `name`, or `namespace/name` for an object in another namespace than `home`.
fn qualified(namespace: &str, name: &str, home: &str) -> String {
    if namespace == home {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// The key a backendRef is addressed by: its Service's name, `namespace/name` when it names
/// another namespace than the route's (`home`).
pub fn backend_host(entry: &Value, home: &str) -> String {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace = entry
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(home);
    qualified(namespace, name, home)
}

/// (namespace, name) of the Service a backend key (from [`backend_host`]) names.
pub fn backend_service(host: &str, home: &str) -> (String, String) {
    match host.split_once('/') {
        Some((namespace, name)) => (namespace.to_owned(), name.to_owned()),
        None => (home.to_owned(), host.to_owned()),
    }
}

/// Whether a backendRef names a Kubernetes Service: `group` empty (the core group) and `kind`
/// `Service`, which are also what an absent group and kind mean.
pub fn is_service_backend(entry: &Value) -> bool {
    let group = entry.get("group").and_then(Value::as_str).unwrap_or("");
    let kind = entry
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Service");
    group.is_empty() && kind == "Service"
}

/// The Services an HTTPRoute attaches to in the mesh, as (namespace, name): its `parentRefs`
/// whose `group` is the core group (`""`) and whose `kind` is `Service` (GAMMA). A parentRef
/// without a group or kind means a Gateway (the CRD's defaults), so it does not count.
pub fn parent_services(object: &Value) -> Vec<(String, String)> {
    let home = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut parents: Vec<(String, String)> = Vec::new();
    for parent in object
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let group = parent.get("group").and_then(Value::as_str);
        let kind = parent.get("kind").and_then(Value::as_str);
        if group != Some("") || kind != Some("Service") {
            continue;
        }
        let Some(name) = parent.get("name").and_then(Value::as_str) else {
            continue;
        };
        let namespace = parent
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or(home);
        let key = (namespace.to_owned(), name.to_owned());
        if !parents.contains(&key) {
            parents.push(key);
        }
    }
    parents
}

/// Readable form of a rule's `matches`: entries are ORed, the conditions inside one ANDed. A
/// rule without matches, or whose only match is the CRD's default (path prefix `/`), matches
/// every request.
pub fn match_summary(matches: Option<&Value>) -> String {
    let entries: Vec<String> = matches
        .and_then(Value::as_array)
        .map(|entries| entries.iter().map(match_entry).collect())
        .unwrap_or_default();
    if entries.is_empty() || entries.iter().any(|e| e.is_empty()) {
        return "all requests".to_owned();
    }
    entries.join(" or ")
}

/// One match's conditions, `""` when it matches everything.
fn match_entry(entry: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(path) = entry.get("path") {
        let kind = path
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("PathPrefix");
        let value = path.get("value").and_then(Value::as_str).unwrap_or("/");
        match kind {
            "PathPrefix" if value == "/" => {}
            "PathPrefix" => parts.push(format!("path starts with {value}")),
            "Exact" => parts.push(format!("path = {value}")),
            _ => parts.push(format!("path ~ {value}")),
        }
    }
    if let Some(method) = entry.get("method").and_then(Value::as_str) {
        parts.push(format!("method {method}"));
    }
    for (field, label) in [("headers", "header"), ("queryParams", "query")] {
        for m in entry
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
            let value = m.get("value").and_then(Value::as_str).unwrap_or_default();
            let op = match m.get("type").and_then(Value::as_str) {
                Some("RegularExpression") => "~",
                _ => "=",
            };
            parts.push(format!("{label} {name} {op} {value}"));
        }
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The demo's review route as the API server stores it (defaults filled in).
    fn review(weights: [Option<u32>; 2]) -> Value {
        let backend = |name: &str, weight: Option<u32>| {
            let mut b = json!({"group": "", "kind": "Service", "name": name, "port": 80});
            if let Some(w) = weight {
                b["weight"] = json!(w);
            }
            b
        };
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "review", "namespace": "hands-on-gateway", "resourceVersion": "9"},
            "spec": {
                "parentRefs": [{"group": "", "kind": "Service", "name": "review", "port": 80}],
                "rules": [
                    {"matches": [{"headers": [{"type": "Exact", "name": "x-group", "value": "test"}],
                                  "path": {"type": "PathPrefix", "value": "/"}}],
                     "backendRefs": [backend("review-v2", Some(1))]},
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                     "backendRefs": [backend("review-v1", weights[0]), backend("review-v2", weights[1])]}
                ]
            }
        })
    }

    #[test]
    fn weights_are_relative_and_a_missing_weight_is_one() {
        let view = http_route_routes(&review([Some(1), Some(3)]));
        assert_eq!(view.name, "review");
        assert_eq!(view.namespace, "hands-on-gateway");
        assert_eq!(view.resource_version, "9");
        assert_eq!(view.hosts, ["review"]);
        let d = &view.routes[1].destinations;
        assert_eq!(
            (d[0].host.as_str(), d[0].weight, d[0].requested_share),
            ("review-v1", 1, 25.0)
        );
        assert_eq!((d[1].weight, d[1].requested_share), (3, 75.0));
        assert_eq!(d[1].port, Some(80));

        let missing = http_route_routes(&review([None, Some(3)]));
        let d = &missing.routes[1].destinations;
        assert_eq!((d[0].weight, d[0].requested_share), (1, 25.0));

        let off = http_route_routes(&review([Some(0), Some(5)]));
        let d = &off.routes[1].destinations;
        assert_eq!((d[0].requested_share, d[1].requested_share), (0.0, 100.0));
        // Weights far above 100 are fine: only their ratio counts.
        let big = http_route_routes(&review([Some(1_000_000), Some(1_000_000)]));
        assert_eq!(big.routes[1].destinations[0].requested_share, 50.0);
    }

    #[test]
    fn matches_are_summarised() {
        let view = http_route_routes(&review([Some(1), Some(1)]));
        assert_eq!(view.routes[0].match_summary, "header x-group = test");
        assert_eq!(view.routes[1].match_summary, "all requests");
        let cases = [
            (json!(null), "all requests"),
            (json!([]), "all requests"),
            (
                json!([{"path": {"value": "/api"}}]),
                "path starts with /api",
            ),
            (
                json!([{"path": {"type": "Exact", "value": "/a"}, "method": "GET"}, {"queryParams": [{"name": "q", "value": "1"}]}]),
                "path = /a and method GET or query q = 1",
            ),
            (
                json!([{"headers": [{"type": "RegularExpression", "name": "user", "value": "j.*"}]}]),
                "header user ~ j.*",
            ),
            (
                json!([{"path": {"type": "RegularExpression", "value": "/v[0-9]"}}]),
                "path ~ /v[0-9]",
            ),
            // A match for everything makes the whole rule match everything.
            (
                json!([{"headers": [{"name": "a", "value": "b"}]}, {}]),
                "all requests",
            ),
        ];
        for (m, want) in cases {
            assert_eq!(match_summary(Some(&m)), want, "for {m}");
        }
    }

    #[test]
    fn gamma_parents_are_core_services() {
        let route = json!({
            "metadata": {"namespace": "ns"},
            "spec": {"parentRefs": [
                {"group": "", "kind": "Service", "name": "review"},
                {"group": "", "kind": "Service", "name": "review"},
                {"group": "", "kind": "Service", "name": "shared", "namespace": "other"},
                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"},
                {"name": "defaults-to-a-gateway"},
                {"kind": "Service", "name": "no-group-is-the-gateway-group"}
            ]}
        });
        assert_eq!(
            parent_services(&route),
            [
                ("ns".to_owned(), "review".to_owned()),
                ("other".to_owned(), "shared".to_owned())
            ]
        );
        assert_eq!(http_route_routes(&route).hosts, ["review", "other/shared"]);
    }

    #[test]
    fn backends_in_other_namespaces_are_qualified() {
        let b = json!({"name": "review-v1", "namespace": "other", "port": 80});
        assert_eq!(backend_host(&b, "ns"), "other/review-v1");
        assert_eq!(
            backend_service("other/review-v1", "ns"),
            ("other".to_owned(), "review-v1".to_owned())
        );
        assert_eq!(
            backend_service("review-v1", "ns"),
            ("ns".to_owned(), "review-v1".to_owned())
        );
        assert!(is_service_backend(&b));
        assert!(!is_service_backend(
            &json!({"group": "x.io", "kind": "Backend", "name": "b"})
        ));
    }

    #[test]
    fn malformed_objects_degrade() {
        let view = http_route_routes(
            &json!({"spec": {"rules": [{"backendRefs": [{"weight": -4}, {"weight": "2"}, {}]}]}}),
        );
        let d = &view.routes[0].destinations;
        assert_eq!(d.iter().map(|d| d.weight).collect::<Vec<_>>(), [0, 0, 1]);
        assert_eq!(d[2].requested_share, 100.0);
        assert!(http_route_routes(&json!("not an object")).routes.is_empty());
    }
}
