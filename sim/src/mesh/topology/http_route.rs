//! Compiles Gateway API HTTPRoutes attached to a Service (GAMMA: a `parentRef` of group `""` and
//! kind `Service`) into the routing a sidecar or waypoint applies for that Service: each match
//! of each rule a route of its own, ordered by the spec's precedence (exact path, longest prefix,
//! method, most headers, most query parameters, then the older route and the earlier rule), and
//! each rule's backendRefs weighted relative to each other (a missing weight is 1, weight 0 gets
//! nothing, a rule whose weights are all 0 or whose backends are all invalid answers 500, an
//! invalid backend's share 500, a backend without ready endpoints 503). Sources:
//! `docs/gateway-api.md`.

use super::compile::{name_of, namespace_of};
use super::hosts::fqdn;
use super::virtual_service::RouteContext;
use super::{Action, Fault, HttpRoute, RequestMatch, StringMatch, Target};
use crate::mesh::metrics::ServiceLabels;
use regex::Regex;
use serde_json::Value;

/// Whether `route` attaches to Service `name` in `namespace` (a GAMMA parentRef).
pub(super) fn attaches_to(route: &Value, name: &str, namespace: &str) -> bool {
    let home = namespace_of(route).unwrap_or_default();
    route
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            p.get("group").and_then(Value::as_str) == Some("")
                && p.get("kind").and_then(Value::as_str) == Some("Service")
                && p.get("name").and_then(Value::as_str) == Some(name)
                && p.get("namespace").and_then(Value::as_str).unwrap_or(home) == namespace
        })
}

/// Precedence of one compiled match, smaller first (`HTTPRouteRule.matches`).
type Precedence = (
    u8,
    std::cmp::Reverse<usize>,
    u8,
    std::cmp::Reverse<usize>,
    std::cmp::Reverse<usize>,
    usize,
    usize,
);

/// The routes of every HTTPRoute in `routes` (oldest first), for the Service they attach to.
pub(super) fn compile_http_routes(
    routes: &[&Value],
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> Vec<HttpRoute> {
    let mut compiled: Vec<(Precedence, HttpRoute)> = Vec::new();
    for (age, route) in routes.iter().enumerate() {
        let namespace = namespace_of(route).unwrap_or_default();
        let context = format!(
            "HTTPRoute {namespace}/{}",
            name_of(route).unwrap_or_default()
        );
        let rules = route
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, rule) in rules.iter().enumerate() {
            let context = format!("{context} rules[{index}]");
            let action = compile_backends(rule, namespace, &context, ctx, warnings);
            let matches: Vec<Value> = rule
                .get("matches")
                .and_then(Value::as_array)
                .cloned()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| vec![serde_json::json!({})]);
            for m in &matches {
                let (compiled_match, path_rank, prefix_len) = compile_match(m, &context, warnings);
                let method = u8::from(m.get("method").is_none());
                let headers = list_len(m.get("headers"));
                let queries = list_len(m.get("queryParams"));
                compiled.push((
                    (
                        path_rank,
                        std::cmp::Reverse(prefix_len),
                        method,
                        std::cmp::Reverse(headers),
                        std::cmp::Reverse(queries),
                        age,
                        index,
                    ),
                    HttpRoute {
                        matches: vec![compiled_match],
                        action: action.clone(),
                        fault: Fault::default(),
                        timeout_us: None,
                    },
                ));
            }
        }
    }
    compiled.sort_by_key(|a| a.0);
    compiled.into_iter().map(|(_, route)| route).collect()
}

fn list_len(v: Option<&Value>) -> usize {
    v.and_then(Value::as_array).map_or(0, Vec::len)
}

/// A rule's backendRefs as weighted targets.
fn compile_backends(
    rule: &Value,
    namespace: &str,
    context: &str,
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> Action {
    let entries = rule
        .get("backendRefs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.is_empty() {
        warnings.push(format!("{context}: no backendRefs; requests get 500"));
        return Action::Respond(500);
    }
    let mut destinations = Vec::new();
    for entry in &entries {
        let weight = match entry.get("weight") {
            None | Some(Value::Null) => 1,
            Some(w) => w.as_i64().unwrap_or(0),
        };
        if weight <= 0 {
            continue;
        }
        let weight = u32::try_from(weight).unwrap_or(u32::MAX);
        destinations.push((
            weight,
            backend_target(entry, namespace, context, ctx, warnings),
        ));
    }
    if destinations.is_empty() {
        warnings.push(format!(
            "{context}: every backendRef has weight 0; requests get 500"
        ));
        return Action::Respond(500);
    }
    let total = destinations
        .iter()
        .fold(0u32, |sum, (w, _)| sum.saturating_add(*w));
    Action::Forward {
        destinations,
        total,
    }
}

/// One backendRef: a Service of the core group with its ready endpoints, or an invalid backend
/// (another kind, or a Service that does not exist), whose share is answered with 500.
fn backend_target(
    entry: &Value,
    namespace: &str,
    context: &str,
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> Target {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let backend_ns = entry
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(namespace);
    let host = fqdn(name, backend_ns);
    let group = entry.get("group").and_then(Value::as_str).unwrap_or("");
    let kind = entry
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Service");
    let service = (group.is_empty() && kind == "Service")
        .then(|| ctx.by_host.get(host.as_str()).copied())
        .flatten();
    match service {
        Some(service) => Target::Endpoints {
            service: ctx.services[service].labels,
            endpoints: ctx.services[service].endpoints.clone(),
        },
        None => {
            warnings.push(format!(
                "{context}: backendRef {kind} {backend_ns}/{name} is not a Service; its share gets 500"
            ));
            Target::Invalid {
                service: ctx.registry.service_id(ServiceLabels::for_host(&host)),
            }
        }
    }
}

/// One `HTTPRouteMatch`, with its path's precedence: (0 exact, 1 prefix, 2 other) and the
/// prefix's length.
fn compile_match(
    m: &Value,
    context: &str,
    warnings: &mut Vec<String>,
) -> (RequestMatch, u8, usize) {
    let mut regex = |pattern: &str| match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(re) => StringMatch::Regex(re),
        Err(e) => {
            warnings.push(format!(
                "{context}: regular expression {pattern:?} does not compile ({e}); it never matches"
            ));
            StringMatch::Never
        }
    };
    let path_type = m
        .pointer("/path/type")
        .and_then(Value::as_str)
        .unwrap_or("PathPrefix");
    let path_value = m
        .pointer("/path/value")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let (uri, rank, prefix) = match path_type {
        "Exact" => (
            Some(StringMatch::Exact(path_value.to_owned())),
            0,
            path_value.len(),
        ),
        "PathPrefix" if path_value.trim_end_matches('/').is_empty() => (None, 1, 1),
        "PathPrefix" => {
            // Element-wise: `/abc` matches `/abc`, `/abc/` and `/abc/def`, not `/abcd`.
            let trimmed = path_value.trim_end_matches('/');
            let pattern = format!("{}(/.*)?", regex::escape(trimmed));
            (Some(regex(&pattern)), 1, trimmed.len())
        }
        _ => (Some(regex(path_value)), 2, 0),
    };
    let mut pairs = |field: &str, lowercase: bool| -> Vec<(String, StringMatch)> {
        m.get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|entry| {
                let name = entry
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let value = entry
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let matcher = match entry.get("type").and_then(Value::as_str) {
                    Some("RegularExpression") => regex(value),
                    _ => StringMatch::Exact(value.to_owned()),
                };
                let name = if lowercase {
                    name.to_ascii_lowercase()
                } else {
                    name.to_owned()
                };
                (name, matcher)
            })
            .collect()
    };
    let headers = pairs("headers", true);
    let query_params = pairs("queryParams", false);
    let method = m
        .get("method")
        .and_then(Value::as_str)
        .map(|v| StringMatch::Exact(v.to_owned()));
    (
        RequestMatch {
            headers,
            query_params,
            uri,
            method,
            applies_to_mesh: true,
            ..RequestMatch::default()
        },
        rank,
        prefix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attaches_to_services_named_as_gamma_parents() {
        let route = json!({"metadata": {"namespace": "ns"}, "spec": {"parentRefs": [
            {"group": "", "kind": "Service", "name": "review"},
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "product"},
            {"group": "", "kind": "Service", "name": "other", "namespace": "elsewhere"}
        ]}});
        assert!(attaches_to(&route, "review", "ns"));
        assert!(!attaches_to(&route, "review", "other-ns"));
        assert!(!attaches_to(&route, "product", "ns"));
        assert!(attaches_to(&route, "other", "elsewhere"));
    }

    #[test]
    fn path_prefixes_match_whole_elements() {
        let mut warnings = Vec::new();
        let (m, rank, len) = compile_match(
            &json!({"path": {"type": "PathPrefix", "value": "/abc/"}}),
            "t",
            &mut warnings,
        );
        assert_eq!((rank, len), (1, 4));
        let uri = m.uri.unwrap();
        for (path, want) in [
            ("/abc", true),
            ("/abc/", true),
            ("/abc/def", true),
            ("/abcd", false),
        ] {
            assert_eq!(uri.matches(path, false), want, "{path}");
        }
        let (m, rank, _) = compile_match(
            &json!({"path": {"type": "PathPrefix", "value": "/"}}),
            "t",
            &mut warnings,
        );
        assert!(m.uri.is_none());
        assert_eq!(rank, 1);
        let (m, _, _) = compile_match(
            &json!({"headers": [{"name": "X-Group", "value": "test"}]}),
            "t",
            &mut warnings,
        );
        assert_eq!(m.headers[0].0, "x-group");
        assert!(warnings.is_empty());
    }
}
