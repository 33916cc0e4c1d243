//! Compiles a VirtualService's `http` routes: matches, weighted destinations (resolved to
//! endpoints through the DestinationRules' subsets), direct responses, faults and timeouts.

use super::annotations::parse_duration_us;
use super::compile::{labels_match, name_of, namespace_of, string_map, PodInfo};
use super::hosts::{host_specificity, resolve_host};
use super::{Action, Fault, HttpRoute, RequestMatch, Service, StringMatch, Target};
use crate::mesh::metrics::{Registry, ServiceLabels};
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(super) struct RouteContext<'a> {
    pub(super) services: &'a [Service],
    pub(super) selected: &'a [Vec<usize>],
    pub(super) pods: &'a [PodInfo<'a>],
    pub(super) by_host: &'a HashMap<Arc<str>, usize>,
    pub(super) destination_rules: &'a [&'a Value],
    pub(super) registry: &'a Registry,
}

pub(super) fn compile_virtual_service(
    vs: &Value,
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> Vec<HttpRoute> {
    let namespace = namespace_of(vs).unwrap_or_default();
    let context = format!(
        "VirtualService {namespace}/{}",
        name_of(vs).unwrap_or_default()
    );
    let Some(http) = vs.pointer("/spec/http").and_then(Value::as_array) else {
        return Vec::new();
    };
    http.iter()
        .enumerate()
        .map(|(i, route)| {
            compile_route(
                route,
                namespace,
                &format!("{context} http[{i}]"),
                ctx,
                warnings,
            )
        })
        .collect()
}

fn compile_route(
    route: &Value,
    namespace: &str,
    context: &str,
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> HttpRoute {
    let matches = route
        .get("match")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| compile_match(m, context, warnings))
                .collect()
        })
        .unwrap_or_default();
    let action = if let Some(status) = route
        .pointer("/directResponse/status")
        .and_then(Value::as_u64)
    {
        Action::Respond(u16::try_from(status).unwrap_or(500))
    } else if route.get("redirect").is_some() {
        let code = route
            .pointer("/redirect/redirectCode")
            .and_then(Value::as_u64)
            .unwrap_or(301);
        Action::Respond(u16::try_from(code).unwrap_or(301))
    } else {
        let entries = route
            .get("route")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut destinations = Vec::new();
        if entries.len() == 1 {
            // A lone destination gets everything, whatever its weight (docs/istio-routing.md).
            destinations.push((
                1,
                compile_target(&entries[0], namespace, context, ctx, warnings),
            ));
        } else {
            for entry in &entries {
                let weight = entry.get("weight").and_then(Value::as_i64).unwrap_or(0);
                if weight < 0 {
                    warnings.push(format!(
                        "{context}: weight {weight} < 0; the destination gets no traffic"
                    ));
                }
                // Istio drops zero-weight destinations from Envoy's weighted clusters.
                if weight > 0 {
                    let weight = u32::try_from(weight).unwrap_or(u32::MAX);
                    destinations.push((
                        weight,
                        compile_target(entry, namespace, context, ctx, warnings),
                    ));
                }
            }
            if destinations.is_empty() {
                warnings.push(format!(
                    "{context}: total destination weight = 0; requests get 503 NC"
                ));
            }
        }
        let total = destinations
            .iter()
            .fold(0u32, |sum, (w, _)| sum.saturating_add(*w));
        // Relative weights past u32 are not meaningful; keep picks in range if they saturate.
        if total == u32::MAX {
            warnings.push(format!(
                "{context}: weights are too large to simulate exactly"
            ));
        }
        Action::Forward {
            destinations,
            total,
        }
    };
    let fault = compile_fault(route.get("fault"), context, warnings);
    let timeout_us = route
        .get("timeout")
        .and_then(Value::as_str)
        .and_then(|t| parse_duration_us(t, ""));
    HttpRoute {
        matches,
        action,
        fault,
        timeout_us,
    }
}

fn compile_target(
    entry: &Value,
    namespace: &str,
    context: &str,
    ctx: &RouteContext,
    warnings: &mut Vec<String>,
) -> Target {
    let host = entry
        .pointer("/destination/host")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let fqdn = resolve_host(host, namespace);
    let Some(&service) = ctx.by_host.get(fqdn.as_str()) else {
        warnings.push(format!(
            "{context}: host {host:?} is not a service; requests get 503 NC"
        ));
        return Target::NoCluster {
            service: ctx.registry.service_id(ServiceLabels::for_host(&fqdn)),
        };
    };
    let labels = ctx.services[service].labels;
    let Some(subset) = entry.pointer("/destination/subset").and_then(Value::as_str) else {
        return Target::Endpoints {
            service: labels,
            endpoints: ctx.services[service].endpoints.clone(),
        };
    };
    let subset_labels = ctx.destination_rules.iter().find_map(|dr| {
        let dr_ns = namespace_of(dr)?;
        let dr_host = resolve_host(dr.pointer("/spec/host")?.as_str()?, dr_ns);
        host_specificity(&dr_host, &fqdn)?;
        dr.pointer("/spec/subsets")?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(subset))
            .map(|s| string_map(s.get("labels")))
    });
    let Some(subset_labels) = subset_labels else {
        warnings.push(format!(
            "{context}: subset {subset:?} of {fqdn} is defined in no DestinationRule; requests get 503 NC"
        ));
        return Target::NoCluster { service: labels };
    };
    let endpoints = ctx.selected[service]
        .iter()
        .filter(|p| labels_match(&subset_labels, &ctx.pods[**p].labels))
        .map(|p| ctx.pods[*p].workload)
        .collect();
    Target::Endpoints {
        service: labels,
        endpoints,
    }
}

pub(crate) fn compile_match(m: &Value, context: &str, warnings: &mut Vec<String>) -> RequestMatch {
    let mut string_match = |v: &Value| compile_string_match(v, context, warnings);
    let header_list = |v: Option<&Value>, string_match: &mut dyn FnMut(&Value) -> StringMatch| {
        v.and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), string_match(v)))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let headers = header_list(m.get("headers"), &mut string_match);
    let without_headers = header_list(m.get("withoutHeaders"), &mut string_match);
    let query_params = m
        .get("queryParams")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), string_match(v)))
                .collect()
        })
        .unwrap_or_default();
    let uri = m.get("uri").map(&mut string_match);
    let method = m.get("method").map(&mut string_match);
    let authority = m.get("authority").map(&mut string_match);
    let source_labels = string_map(m.get("sourceLabels"))
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let applies_to_mesh = match m.get("gateways").and_then(Value::as_array) {
        Some(gws) if !gws.is_empty() => gws.iter().any(|g| g.as_str() == Some("mesh")),
        _ => true,
    };
    RequestMatch {
        headers,
        without_headers,
        uri,
        ignore_uri_case: m
            .get("ignoreUriCase")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        method,
        authority,
        query_params,
        source_labels,
        source_namespace: m
            .get("sourceNamespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        applies_to_mesh,
    }
}

fn compile_string_match(v: &Value, context: &str, warnings: &mut Vec<String>) -> StringMatch {
    if let Some(exact) = v.get("exact").and_then(Value::as_str) {
        StringMatch::Exact(exact.to_owned())
    } else if let Some(prefix) = v.get("prefix").and_then(Value::as_str) {
        StringMatch::Prefix(prefix.to_owned())
    } else if let Some(pattern) = v.get("regex").and_then(Value::as_str) {
        // Envoy's safe_regex is RE2 and must match the whole value.
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) => StringMatch::Regex(re),
            Err(e) => {
                warnings.push(format!(
                    "{context}: regex {pattern:?} does not compile ({e}); it never matches"
                ));
                StringMatch::Never
            }
        }
    } else if v.as_object().is_some_and(|o| o.is_empty()) {
        StringMatch::Present
    } else {
        warnings.push(format!(
            "{context}: string match {v} has no exact, prefix or regex; it never matches"
        ));
        StringMatch::Never
    }
}

fn compile_fault(fault: Option<&Value>, context: &str, warnings: &mut Vec<String>) -> Fault {
    let Some(fault) = fault else {
        return Fault::default();
    };
    let delay = fault.get("delay").and_then(|d| {
        let Some(fixed) = d.get("fixedDelay").and_then(Value::as_str) else {
            warnings.push(format!(
                "{context}: only fault.delay.fixedDelay is simulated"
            ));
            return None;
        };
        let us = parse_duration_us(fixed, "")?;
        // Without `percentage` Istio falls back to the deprecated integer `percent` for delays.
        let per_million = match d.pointer("/percentage/value").and_then(Value::as_f64) {
            Some(p) => per_million(p),
            None => per_million(d.get("percent").and_then(Value::as_f64).unwrap_or(0.0)),
        };
        Some((us, per_million))
    });
    let abort = fault.get("abort").and_then(|a| {
        let Some(status) = a.get("httpStatus").and_then(Value::as_u64) else {
            warnings.push(format!(
                "{context}: only fault.abort.httpStatus is simulated"
            ));
            return None;
        };
        // Without `percentage` an abort applies to no request.
        let share = a
            .pointer("/percentage/value")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        Some((u16::try_from(status).unwrap_or(500), per_million(share)))
    });
    Fault { delay, abort }
}

/// A percentage (0–100, resolution 0.0001) as Envoy's millionths.
fn per_million(percent: f64) -> u32 {
    (percent.clamp(0.0, 100.0) * 10_000.0).round() as u32
}

pub(super) fn applies_to_mesh(vs: &Value) -> bool {
    match vs.pointer("/spec/gateways").and_then(Value::as_array) {
        Some(gws) if !gws.is_empty() => gws.iter().any(|g| g.as_str() == Some("mesh")),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_matches() {
        let mut warnings = Vec::new();
        let m = |v: Value, w: &mut Vec<String>| compile_string_match(&v, "t", w);
        assert!(m(json!({"exact": "test"}), &mut warnings).matches("test", false));
        assert!(!m(json!({"exact": "test"}), &mut warnings).matches("Test", false));
        assert!(m(json!({"exact": "test"}), &mut warnings).matches("Test", true));
        assert!(m(json!({"prefix": "/api"}), &mut warnings).matches("/api/v1", false));
        assert!(m(json!({"prefix": "/API"}), &mut warnings).matches("/api/v1", true));
        // Regexes must match the whole value.
        assert!(m(json!({"regex": "v[0-9]+"}), &mut warnings).matches("v12", false));
        assert!(!m(json!({"regex": "v[0-9]+"}), &mut warnings).matches("xv12", false));
        assert!(m(json!({}), &mut warnings).matches("", false));
        assert!(warnings.is_empty());
        assert!(!m(json!({"regex": "("}), &mut warnings).matches("(", false));
        assert_eq!(warnings.len(), 1);
    }
}
