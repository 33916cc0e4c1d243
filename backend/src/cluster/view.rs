//! Pure conversion of VirtualService objects into the console's route view: match summaries,
//! destinations and requested shares. No I/O.

use serde_json::Value;
use switchyard_protocol::{requested_shares, Destination, HttpRoute, VirtualServiceRoutes};

/// The console's view of one VirtualService (`spec.http` only; tcp/tls routes are not shown).
pub fn virtual_service_routes(object: &Value) -> VirtualServiceRoutes {
    let meta = &object["metadata"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let hosts = object
        .pointer("/spec/hosts")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let routes = object
        .pointer("/spec/http")
        .and_then(Value::as_array)
        .map(|http| {
            http.iter()
                .enumerate()
                .map(|(i, r)| http_route(i, r))
                .collect()
        })
        .unwrap_or_default();
    VirtualServiceRoutes {
        namespace: text(&meta["namespace"]),
        name: text(&meta["name"]),
        resource_version: text(&meta["resourceVersion"]),
        hosts,
        routes,
        weight_managers: weight_managers(object),
    }
}

/// Field managers that are known rollout or GitOps controllers. A manager is one when its name is
/// one of these or starts with one followed by `-` (`argocd-application-controller`). People's
/// tools (`kubectl`, `kubectl-client-side-apply`, `kubectl-edit`) and the console itself are not.
/// The names these tools use: `docs/ownership.md`.
pub const CONTROLLER_MANAGERS: &[&str] =
    &["argo-rollouts", "rollouts-controller", "flagger", "argocd"];

/// The controllers among the field managers that own `spec.http` (all of it or any route in it),
/// in the order `managedFields` lists them, each once.
pub fn weight_managers(object: &Value) -> Vec<String> {
    managers_owning(object, "/fieldsV1/f:spec/f:http")
}

/// The controllers among the field managers whose `fieldsV1` has `field` (a JSON pointer such as
/// `/fieldsV1/f:spec/f:rules` for an HTTPRoute's rules), in `managedFields` order, each once.
pub fn managers_owning(object: &Value, field: &str) -> Vec<String> {
    let Some(entries) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut managers: Vec<String> = Vec::new();
    for entry in entries {
        let Some(manager) = entry.get("manager").and_then(Value::as_str) else {
            continue;
        };
        let owns_http = entry.pointer(field).is_some_and(|v| !v.is_null());
        let known = CONTROLLER_MANAGERS.iter().any(|c| {
            manager == *c
                || manager
                    .strip_prefix(c)
                    .is_some_and(|rest| rest.starts_with('-'))
        });
        if owns_http && known && !managers.iter().any(|m| m == manager) {
            managers.push(manager.to_owned());
        }
    }
    managers
}

fn http_route(index: usize, route: &Value) -> HttpRoute {
    let entries: Vec<&Value> = route
        .get("route")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let weights: Vec<u32> = entries.iter().map(|d| weight_of(d)).collect();
    let shares = requested_shares(&weights);
    let destinations = entries
        .iter()
        .zip(weights.iter().zip(shares))
        .map(|(d, (&weight, share))| Destination {
            host: d
                .pointer("/destination/host")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            subset: d
                .pointer("/destination/subset")
                .and_then(Value::as_str)
                .map(str::to_owned),
            weight,
            requested_share: share,
            observed_share: None,
        })
        .collect();
    HttpRoute {
        index,
        name: route.get("name").and_then(Value::as_str).map(str::to_owned),
        match_summary: match_summary(route.get("match")),
        destinations,
    }
}

/// A destination's weight as Istio reads it: absent, negative or non-integer counts as 0.
pub fn weight_of(entry: &Value) -> u32 {
    entry
        .get("weight")
        .and_then(Value::as_u64)
        .map(|w| u32::try_from(w).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// Readable form of `http[].match`: entries are ORed, fields inside one entry ANDed.
pub fn match_summary(matches: Option<&Value>) -> String {
    let Some(entries) = matches.and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return "all requests".to_owned();
    };
    entries
        .iter()
        .map(match_entry)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn match_entry(entry: &Value) -> String {
    let mut parts = Vec::new();
    for field in ["uri", "scheme", "method", "authority"] {
        if let Some(m) = entry.get(field) {
            parts.push(format!("{field} {}", string_match(m)));
        }
    }
    for (key, label) in [
        ("headers", "header"),
        ("withoutHeaders", "without header"),
        ("queryParams", "query"),
    ] {
        if let Some(map) = entry.get(key).and_then(Value::as_object) {
            for (name, m) in map {
                parts.push(format!("{label} {name} {}", string_match(m)));
            }
        }
    }
    if let Some(port) = entry.get("port").and_then(Value::as_u64) {
        parts.push(format!("port {port}"));
    }
    if let Some(labels) = entry.get("sourceLabels").and_then(Value::as_object) {
        let sel: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        parts.push(format!("from {}", sel.join(",")));
    }
    if parts.is_empty() {
        "all requests".to_owned()
    } else {
        parts.join(" and ")
    }
}

fn string_match(m: &Value) -> String {
    if let Some(v) = m.get("exact").and_then(Value::as_str) {
        format!("= {v}")
    } else if let Some(v) = m.get("prefix").and_then(Value::as_str) {
        format!("starts with {v}")
    } else if let Some(v) = m.get("regex").and_then(Value::as_str) {
        format!("~ {v}")
    } else {
        "present".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review() -> Value {
        json!({
            "metadata": {"name": "review", "namespace": "hands-on", "resourceVersion": "7"},
            "spec": {"hosts": ["review"], "http": [
                {"match": [{"headers": {"x-group": {"exact": "test"}}}],
                 "route": [{"destination": {"host": "review", "subset": "new"}}]},
                {"route": [
                    {"destination": {"host": "review", "subset": "old"}, "weight": 1},
                    {"destination": {"host": "review", "subset": "new"}, "weight": 3}]}
            ]}
        })
    }

    #[test]
    fn controllers_owning_http_are_weight_managers() {
        let mut vs = review();
        vs["metadata"]["managedFields"] = json!([
            {"manager": "kubectl-client-side-apply", "operation": "Update",
             "fieldsV1": {"f:spec": {"f:http": {}}}},
            {"manager": "argo-rollouts", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:http": {}, "f:hosts": {}}}},
            {"manager": "argocd-controller", "operation": "Apply",
             "fieldsV1": {"f:metadata": {"f:labels": {}}}},
            {"manager": "flagger", "operation": "Update",
             "fieldsV1": {"f:spec": {"f:http": {}}}},
            {"manager": "argo-rollouts", "operation": "Update",
             "fieldsV1": {"f:spec": {"f:http": {}}}},
            {"manager": "argocdx", "fieldsV1": {"f:spec": {"f:http": {}}}}
        ]);
        // argocd-controller owns only labels; argocdx is not argocd; each manager once.
        assert_eq!(
            virtual_service_routes(&vs).weight_managers,
            ["argo-rollouts", "flagger"]
        );
        assert!(virtual_service_routes(&review()).weight_managers.is_empty());
    }

    #[test]
    fn converts_routes_with_relative_shares() {
        let view = virtual_service_routes(&review());
        assert_eq!(view.name, "review");
        assert_eq!(view.resource_version, "7");
        assert_eq!(view.routes.len(), 2);
        assert_eq!(view.routes[0].match_summary, "header x-group = test");
        // A lone destination gets everything whatever its weight.
        assert_eq!(view.routes[0].destinations[0].requested_share, 100.0);
        assert_eq!(view.routes[0].destinations[0].weight, 0);
        let d = &view.routes[1].destinations;
        assert_eq!((d[0].requested_share, d[1].requested_share), (25.0, 75.0));
        assert_eq!(d[1].subset.as_deref(), Some("new"));
        assert_eq!(view.weighted_routes().count(), 1);
    }

    #[test]
    fn summarises_matches() {
        let cases = [
            (json!(null), "all requests"),
            (json!([]), "all requests"),
            (
                json!([{"uri": {"prefix": "/api/"}}]),
                "uri starts with /api/",
            ),
            (
                json!([{"uri": {"exact": "/a"}, "headers": {"end-user": {"exact": "jason"}}}, {"method": {"regex": "GET|HEAD"}}]),
                "uri = /a and header end-user = jason or method ~ GET|HEAD",
            ),
            (
                json!([{"headers": {"x-present": {}}}]),
                "header x-present present",
            ),
            (
                json!([{"port": 9080, "sourceLabels": {"app": "productpage"}}]),
                "port 9080 and from app=productpage",
            ),
        ];
        for (m, want) in cases {
            assert_eq!(match_summary(Some(&m)), want, "for {m}");
        }
    }

    #[test]
    fn tolerates_malformed_objects() {
        let view =
            virtual_service_routes(&json!({"spec": {"http": [{"route": [{"weight": -4}, {}]}]}}));
        assert_eq!(view.name, "");
        assert_eq!(view.routes[0].destinations[0].weight, 0);
        assert_eq!(view.routes[0].destinations[0].requested_share, 0.0);
        let empty = virtual_service_routes(&json!("not an object"));
        assert!(empty.routes.is_empty());
    }
}
