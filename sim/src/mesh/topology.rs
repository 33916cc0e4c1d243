//! Compiles the simulated cluster's objects (Services, Pods, Deployments, VirtualServices,
//! DestinationRules) into routing tables the request path reads without touching JSON. Pure apart
//! from interning label sets in the metrics registry.

use super::metrics::{PeerId, PeerLabels, Registry, ServiceId, ServiceLabels};
use crate::store::Store;
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Services a workload calls for every request it serves: comma-separated service names, short
/// (`review`, same namespace), `name.namespace`, or a full `*.svc.cluster.local` host.
pub const ANNOTATION_CALLS: &str = "sim.switchyard.dev/calls";
/// A workload's own latency: `p50=20ms,p95=60ms`, or a single duration taken as the median (p95
/// is then twice it). Durations take `us`, `ms` (the default unit) or `s`.
pub const ANNOTATION_LATENCY: &str = "sim.switchyard.dev/latency";
/// Share of requests the workload answers with an error: `0.05` or `5%`.
pub const ANNOTATION_ERROR_RATE: &str = "sim.switchyard.dev/error-rate";
/// The status of those errors; default 500.
pub const ANNOTATION_ERROR_CODE: &str = "sim.switchyard.dev/error-code";

pub const DEFAULT_P50_MS: f64 = 10.0;
pub const DEFAULT_P95_MS: f64 = 25.0;
pub const DEFAULT_ERROR_CODE: u16 = 500;

/// The z-score of the 95th percentile of a standard normal distribution.
const Z95: f64 = 1.644_853_6;

pub(crate) const SERVICES: &str = "services";
pub(crate) const PODS: &str = "pods";
pub(crate) const DEPLOYMENTS: &str = "deployments.apps";
pub(crate) const VIRTUAL_SERVICES: &str = "virtualservices.networking.istio.io";
pub(crate) const DESTINATION_RULES: &str = "destinationrules.networking.istio.io";

/// The objects a topology is compiled from.
#[derive(Default)]
pub struct Objects {
    pub services: Vec<Arc<Value>>,
    pub pods: Vec<Arc<Value>>,
    pub deployments: Vec<Arc<Value>>,
    pub virtual_services: Vec<Arc<Value>>,
    pub destination_rules: Vec<Arc<Value>>,
}

impl Objects {
    /// Every namespace's objects; the revision read before listing, so a write that lands during
    /// the listing makes the next request rebuild again.
    pub fn from_store(store: &Store) -> (Self, u64) {
        let revision = store.revision();
        let list = |resource| store.list(resource, None).0;
        let objects = Objects {
            services: list(SERVICES),
            pods: list(PODS),
            deployments: list(DEPLOYMENTS),
            virtual_services: list(VIRTUAL_SERVICES),
            destination_rules: list(DESTINATION_RULES),
        };
        (objects, revision)
    }
}

/// A workload's simulated behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// Log-normal latency: `ln(ms)` has this mean and standard deviation.
    pub latency_mu: f64,
    pub latency_sigma: f64,
    pub error_rate: f64,
    pub error_code: u16,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour::from_percentiles(DEFAULT_P50_MS, DEFAULT_P95_MS, 0.0, DEFAULT_ERROR_CODE)
    }
}

impl Behaviour {
    fn from_percentiles(p50_ms: f64, p95_ms: f64, error_rate: f64, error_code: u16) -> Self {
        Behaviour {
            latency_mu: p50_ms.ln(),
            latency_sigma: (p95_ms / p50_ms).ln() / Z95,
            error_rate,
            error_code,
        }
    }
}

/// One workload (Istio's notion: a Deployment's pods, or a bare pod).
pub(crate) struct Workload {
    pub name: Arc<str>,
    pub namespace: Arc<str>,
    pub peer: PeerId,
    /// The pod labels (of the first ready pod seen), for `sourceLabels` matches.
    pub labels: BTreeMap<String, String>,
    pub behaviour: Behaviour,
    /// Indexes into [`Topology::services`].
    pub calls: Vec<usize>,
}

pub(crate) enum StringMatch {
    Exact(String),
    Prefix(String),
    Regex(Regex),
    /// `{}`: the header is present.
    Present,
    /// A match that cannot be compiled never matches (Istio's webhook would have refused it).
    Never,
}

impl StringMatch {
    pub fn matches(&self, value: &str, ignore_case: bool) -> bool {
        match self {
            StringMatch::Exact(want) if ignore_case => value.eq_ignore_ascii_case(want),
            StringMatch::Exact(want) => value == want,
            StringMatch::Prefix(want) if ignore_case => value
                .get(..want.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(want)),
            StringMatch::Prefix(want) => value.starts_with(want.as_str()),
            StringMatch::Regex(re) => re.is_match(value),
            StringMatch::Present => true,
            StringMatch::Never => false,
        }
    }
}

/// One entry of `http[].match`: every present field must hold.
#[derive(Default)]
pub(crate) struct RequestMatch {
    /// Lowercase header names.
    pub headers: Vec<(String, StringMatch)>,
    pub without_headers: Vec<(String, StringMatch)>,
    pub uri: Option<StringMatch>,
    pub ignore_uri_case: bool,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    pub query_params: Vec<(String, StringMatch)>,
    pub source_labels: Vec<(String, String)>,
    pub source_namespace: Option<String>,
    /// False when the match names gateways and `mesh` is not one: sidecars skip it.
    pub applies_to_mesh: bool,
}

/// Where a route destination leads.
pub(crate) enum Target {
    /// A known service (or subset): the workload of each ready pod, possibly none.
    Endpoints {
        service: ServiceId,
        endpoints: Vec<usize>,
    },
    /// Envoy has no cluster for it: unknown host or undefined subset.
    NoCluster { service: ServiceId },
}

pub(crate) enum Action {
    /// Weighted destinations, zero weights already dropped; a lone destination has weight 1.
    Forward {
        destinations: Vec<(u32, Target)>,
        total: u32,
    },
    /// `directResponse` or `redirect`: the client proxy answers itself.
    Respond(u16),
}

#[derive(Default)]
pub(crate) struct Fault {
    /// Fixed delay in µs and the share of requests it applies to, in millionths (Envoy's
    /// FractionalPercent with denominator MILLION).
    pub delay: Option<(u64, u32)>,
    pub abort: Option<(u16, u32)>,
}

pub(crate) struct HttpRoute {
    /// Empty: matches every request.
    pub matches: Vec<RequestMatch>,
    pub action: Action,
    pub fault: Fault,
    pub timeout_us: Option<u64>,
}

/// How a client sidecar routes requests for one service.
pub(crate) enum Routing {
    /// No VirtualService: every ready pod of the service.
    Default(Target),
    /// The http routes of the VirtualService that owns the host; first match wins.
    Virtual(Vec<HttpRoute>),
}

pub(crate) struct Service {
    pub name: Arc<str>,
    pub fqdn: Arc<str>,
    pub labels: ServiceId,
    /// The workload of each ready pod the selector matches (what kube-proxy balances over).
    pub endpoints: Vec<usize>,
    pub routing: Routing,
}

/// The compiled mesh. Indexes are only meaningful within one topology.
pub struct Topology {
    pub(crate) revision: u64,
    pub(crate) services: Vec<Service>,
    by_host: HashMap<Arc<str>, usize>,
    pub(crate) workloads: Vec<Workload>,
    /// Problems found while compiling, as sentences a user can act on.
    pub warnings: Vec<String>,
}

/// A pod as the compiler sees it.
struct PodInfo<'a> {
    namespace: &'a str,
    labels: BTreeMap<&'a str, &'a str>,
    workload: usize,
}

impl Topology {
    /// A topology that matches no store revision, so the first request compiles a real one.
    pub fn empty() -> Self {
        Topology {
            revision: u64::MAX,
            services: Vec::new(),
            by_host: HashMap::new(),
            workloads: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn workload_label(&self, workload: usize, key: &str) -> Option<&str> {
        self.workloads
            .get(workload)?
            .labels
            .get(key)
            .map(String::as_str)
    }

    /// The service index for `name` as a client in `namespace` would resolve it.
    pub(crate) fn service_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.by_host
            .get(dns_host(name, namespace).as_str())
            .copied()
    }

    pub fn compile(objects: &Objects, revision: u64, registry: &Registry) -> Topology {
        let mut warnings = Vec::new();
        let deployments: HashMap<(&str, &str), &Value> = objects
            .deployments
            .iter()
            .filter_map(|d| Some(((namespace_of(d)?, name_of(d)?), &**d)))
            .collect();

        // Workloads and ready pods.
        let mut workloads: Vec<Workload> = Vec::new();
        let mut workload_index: HashMap<(String, String), usize> = HashMap::new();
        // Each workload's calls annotation, resolved once services are known.
        let mut calls_of: Vec<(usize, String)> = Vec::new();
        let mut pods: Vec<PodInfo> = Vec::new();
        for pod in &objects.pods {
            let (Some(namespace), Some(pod_name)) = (namespace_of(pod), name_of(pod)) else {
                continue;
            };
            if !is_ready(pod) {
                continue;
            }
            let workload_name = workload_name(pod, pod_name);
            let key = (namespace.to_owned(), workload_name.clone());
            let index = match workload_index.get(&key) {
                Some(i) => *i,
                None => {
                    // Behaviour is declared on the Deployment (what `kubectl annotate deploy`
                    // edits); bare pods carry it themselves.
                    let annotated = deployments
                        .get(&(namespace, workload_name.as_str()))
                        .copied()
                        .unwrap_or(pod);
                    let annotations = string_map(annotated.pointer("/metadata/annotations"));
                    let context = format!("{namespace}/{workload_name}");
                    let behaviour = parse_behaviour(&annotations, &context, &mut warnings);
                    if let Some(calls) = annotations.get(ANNOTATION_CALLS) {
                        calls_of.push((workloads.len(), (*calls).to_owned()));
                    }
                    let peer = registry.peer_id(peer_labels(pod, namespace, &workload_name));
                    let labels = string_map(pod.pointer("/metadata/labels"))
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect();
                    workloads.push(Workload {
                        name: Arc::from(workload_name.as_str()),
                        namespace: Arc::from(namespace),
                        peer,
                        labels,
                        behaviour,
                        calls: Vec::new(),
                    });
                    workload_index.insert(key, workloads.len() - 1);
                    workloads.len() - 1
                }
            };
            pods.push(PodInfo {
                namespace,
                labels: string_map(pod.pointer("/metadata/labels")),
                workload: index,
            });
        }

        // Services and their endpoints.
        let mut services: Vec<Service> = Vec::new();
        let mut by_host: HashMap<Arc<str>, usize> = HashMap::new();
        // Per service: the pods it selects, kept for subset filtering.
        let mut selected: Vec<Vec<usize>> = Vec::new();
        for svc in &objects.services {
            let (Some(namespace), Some(name)) = (namespace_of(svc), name_of(svc)) else {
                continue;
            };
            let selector = string_map(svc.pointer("/spec/selector"));
            // A Service without a selector has no pod endpoints (its Endpoints are managed by hand).
            let pod_indexes: Vec<usize> = if selector.is_empty() {
                Vec::new()
            } else {
                pods.iter()
                    .enumerate()
                    .filter(|(_, p)| p.namespace == namespace && labels_match(&selector, &p.labels))
                    .map(|(i, _)| i)
                    .collect()
            };
            let fqdn: Arc<str> = Arc::from(fqdn(name, namespace).as_str());
            let labels = registry.service_id(ServiceLabels::for_host(&fqdn));
            let endpoints = pod_indexes.iter().map(|i| pods[*i].workload).collect();
            by_host.insert(fqdn.clone(), services.len());
            services.push(Service {
                name: Arc::from(name),
                fqdn,
                labels,
                endpoints,
                routing: Routing::Default(Target::NoCluster { service: labels }),
            });
            selected.push(pod_indexes);
        }

        for (workload, calls) in calls_of {
            let namespace = workloads[workload].namespace.clone();
            for call in calls.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                match by_host.get(dns_host(call, &namespace).as_str()) {
                    Some(service) => workloads[workload].calls.push(*service),
                    None => warnings.push(format!(
                        "{namespace}/{}: annotation {ANNOTATION_CALLS} names {call:?}, which is not a service; the call is skipped",
                        workloads[workload].name
                    )),
                }
            }
        }

        // Routing: the oldest VirtualService for a host owns it, as for Istio sidecars.
        let virtual_services = by_age(&objects.virtual_services);
        let destination_rules = by_age(&objects.destination_rules);
        let ctx = RouteContext {
            services: &services,
            selected: &selected,
            pods: &pods,
            by_host: &by_host,
            destination_rules: &destination_rules,
            registry,
        };
        let mut routings = Vec::with_capacity(services.len());
        for (service, svc) in services.iter().enumerate() {
            let owner = virtual_services
                .iter()
                .filter(|vs| applies_to_mesh(vs))
                .filter_map(|vs| {
                    let ns = namespace_of(vs)?;
                    let hosts = vs.pointer("/spec/hosts")?.as_array()?;
                    let best = hosts
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(|h| host_specificity(&resolve_host(h, ns), &svc.fqdn))
                        .max()?;
                    Some((best, *vs))
                })
                // An exact host beats a wildcard; among equals the oldest (first) wins.
                .fold(None::<(u8, &Value)>, |acc, (spec, vs)| match acc {
                    Some((s, _)) if s >= spec => acc,
                    _ => Some((spec, vs)),
                });
            let routing = match owner {
                Some((_, vs)) => Routing::Virtual(compile_virtual_service(vs, &ctx, &mut warnings)),
                None => Routing::Default(Target::Endpoints {
                    service: svc.labels,
                    endpoints: svc.endpoints.clone(),
                }),
            };
            routings.push((service, routing));
        }
        for (service, routing) in routings {
            services[service].routing = routing;
        }

        Topology {
            revision,
            services,
            by_host,
            workloads,
            warnings,
        }
    }
}

struct RouteContext<'a> {
    services: &'a [Service],
    selected: &'a [Vec<usize>],
    pods: &'a [PodInfo<'a>],
    by_host: &'a HashMap<Arc<str>, usize>,
    destination_rules: &'a [&'a Value],
    registry: &'a Registry,
}

fn compile_virtual_service(
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
            // A lone destination gets everything, whatever its weight (reference §1.4).
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

fn applies_to_mesh(vs: &Value) -> bool {
    match vs.pointer("/spec/gateways").and_then(Value::as_array) {
        Some(gws) if !gws.is_empty() => gws.iter().any(|g| g.as_str() == Some("mesh")),
        _ => true,
    }
}

/// How well a VirtualService/DestinationRule host pattern matches an FQDN: 2 exact, 1 wildcard.
fn host_specificity(pattern: &str, fqdn: &str) -> Option<u8> {
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

/// Istio's short-name resolution for VirtualService/DestinationRule hosts: a name without a dot
/// is a service in the object's namespace; anything else is taken literally.
pub(crate) fn resolve_host(host: &str, namespace: &str) -> String {
    if host.contains('.') || host.contains('*') {
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

fn fqdn(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.svc.cluster.local")
}

/// Oldest first (creationTimestamp is RFC 3339 in UTC, so it sorts as text), then by
/// namespace/name so equal timestamps order deterministically.
fn by_age(objects: &[Arc<Value>]) -> Vec<&Value> {
    let mut sorted: Vec<&Value> = objects.iter().map(|o| &**o).collect();
    sorted.sort_by_key(|o| {
        (
            o.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or(""),
            namespace_of(o).unwrap_or(""),
            name_of(o).unwrap_or(""),
        )
    });
    sorted
}

fn namespace_of(o: &Value) -> Option<&str> {
    o.pointer("/metadata/namespace").and_then(Value::as_str)
}

fn name_of(o: &Value) -> Option<&str> {
    o.pointer("/metadata/name").and_then(Value::as_str)
}

fn string_map(v: Option<&Value>) -> BTreeMap<&str, &str> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn labels_match(selector: &BTreeMap<&str, &str>, labels: &BTreeMap<&str, &str>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A pod serves traffic unless it is terminating, not running, or not Ready. A pod with no
/// status at all (created by hand; the simulator has no kubelet) counts as running.
fn is_ready(pod: &Value) -> bool {
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        return false;
    }
    if let Some(phase) = pod.pointer("/status/phase").and_then(Value::as_str) {
        if phase != "Running" {
            return false;
        }
    }
    let not_ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) != Some("True")
            })
        });
    !not_ready
}

/// Istio's workload name: the Deployment for a ReplicaSet-owned pod (the owner name without the
/// `-<pod-template-hash>` suffix), the owner for other controllers, else the pod itself.
pub(crate) fn workload_name(pod: &Value, pod_name: &str) -> String {
    let hash = pod
        .pointer("/metadata/labels/pod-template-hash")
        .and_then(Value::as_str);
    let owners = pod
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array);
    let owner = owners.and_then(|os| {
        os.iter()
            .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| os.first())
    });
    let Some(owner) = owner else {
        return pod_name.to_owned();
    };
    let kind = owner
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = owner
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(pod_name);
    if kind == "ReplicaSet" {
        if let Some(deployment) = hash.and_then(|h| name.strip_suffix(h)?.strip_suffix('-')) {
            return deployment.to_owned();
        }
    }
    name.to_owned()
}

fn peer_labels(pod: &Value, namespace: &str, workload: &str) -> PeerLabels {
    let labels = string_map(pod.pointer("/metadata/labels"));
    let first = |keys: &[&str]| keys.iter().find_map(|k| labels.get(k).copied());
    let service_account = pod
        .pointer("/spec/serviceAccountName")
        .or_else(|| pod.pointer("/spec/serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    PeerLabels {
        workload: Arc::from(workload),
        namespace: Arc::from(namespace),
        principal: Arc::from(
            format!("spiffe://cluster.local/ns/{namespace}/sa/{service_account}").as_str(),
        ),
        app: Arc::from(labels.get("app").copied().unwrap_or("unknown")),
        version: Arc::from(labels.get("version").copied().unwrap_or("unknown")),
        canonical_service: Arc::from(
            first(&[
                "service.istio.io/canonical-name",
                "app.kubernetes.io/name",
                "app",
            ])
            .unwrap_or(workload),
        ),
        canonical_revision: Arc::from(
            first(&[
                "service.istio.io/canonical-revision",
                "app.kubernetes.io/version",
                "version",
            ])
            .unwrap_or("latest"),
        ),
        cluster: Arc::from("Kubernetes"),
    }
}

fn parse_behaviour(
    annotations: &BTreeMap<&str, &str>,
    context: &str,
    warnings: &mut Vec<String>,
) -> Behaviour {
    let (mut p50, mut p95) = (DEFAULT_P50_MS, DEFAULT_P95_MS);
    if let Some(latency) = annotations.get(ANNOTATION_LATENCY) {
        match parse_latency(latency) {
            Some((a, b)) => (p50, p95) = (a, b),
            None => warnings.push(format!(
                "{context}: annotation {ANNOTATION_LATENCY}={latency:?} is not like \"p50=20ms,p95=60ms\"; using p50={DEFAULT_P50_MS}ms,p95={DEFAULT_P95_MS}ms"
            )),
        }
    }
    let mut error_rate = 0.0;
    if let Some(rate) = annotations.get(ANNOTATION_ERROR_RATE) {
        match parse_rate(rate) {
            Some(r) => error_rate = r,
            None => warnings.push(format!(
                "{context}: annotation {ANNOTATION_ERROR_RATE}={rate:?} is not a share like 0.05 or 5%; using 0"
            )),
        }
    }
    let mut error_code = DEFAULT_ERROR_CODE;
    if let Some(code) = annotations.get(ANNOTATION_ERROR_CODE) {
        match code.trim().parse::<u16>() {
            Ok(c) if (200..=599).contains(&c) => error_code = c,
            _ => warnings.push(format!(
                "{context}: annotation {ANNOTATION_ERROR_CODE}={code:?} is not an HTTP status 200-599; using {DEFAULT_ERROR_CODE}"
            )),
        }
    }
    Behaviour::from_percentiles(p50, p95, error_rate, error_code)
}

/// `p50=20ms,p95=60ms` (either order), `p50=20ms`, or `20ms`; a missing p95 is twice the median.
/// Returns milliseconds; p95 below p50 is refused.
pub(crate) fn parse_latency(text: &str) -> Option<(f64, f64)> {
    let (mut p50, mut p95) = (None, None);
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) if k.trim() == "p50" => p50 = Some(parse_duration_us(v, "ms")?),
            Some((k, v)) if k.trim() == "p95" => p95 = Some(parse_duration_us(v, "ms")?),
            Some(_) => return None,
            None if p50.is_none() => p50 = Some(parse_duration_us(part, "ms")?),
            None => return None,
        }
    }
    let p50 = p50? as f64 / 1000.0;
    let p95 = p95.map_or(p50 * 2.0, |us| us as f64 / 1000.0);
    (p50 > 0.0 && p95 >= p50).then_some((p50, p95))
}

/// A duration like `5s`, `100ms`, `250us`, `1.5s`, `1m`; a bare number takes `default_unit`
/// (none: refused). Returns microseconds.
pub(crate) fn parse_duration_us(text: &str, default_unit: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let unit = if unit.is_empty() { default_unit } else { unit };
    let scale = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        "m" => 60_000_000.0,
        "h" => 3_600_000_000.0,
        _ => return None,
    };
    let us = value * scale;
    (us.is_finite() && us >= 0.0).then_some(us.round() as u64)
}

/// `0.05` or `5%`, within 0..=1.
pub(crate) fn parse_rate(text: &str) -> Option<f64> {
    let text = text.trim();
    let rate = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    (0.0..=1.0).contains(&rate).then_some(rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latency_annotation_forms() {
        let cases: [(&str, Option<(f64, f64)>); 7] = [
            ("p50=20ms,p95=60ms", Some((20.0, 60.0))),
            ("p95=1s, p50=250ms", Some((250.0, 1000.0))),
            ("30", Some((30.0, 60.0))),
            ("p50=500us", Some((0.5, 1.0))),
            ("p50=60ms,p95=20ms", None),
            ("fast", None),
            ("p99=1s", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_latency(text), want, "{text}");
        }
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration_us("5s", ""), Some(5_000_000));
        assert_eq!(parse_duration_us("1.5ms", ""), Some(1_500));
        assert_eq!(parse_duration_us("7", ""), None);
        assert_eq!(parse_duration_us("7", "ms"), Some(7_000));
        assert_eq!(parse_rate("0.05"), Some(0.05));
        assert_eq!(parse_rate("5%"), Some(0.05));
        assert_eq!(parse_rate("1.5"), None);
        assert_eq!(parse_rate("-1%"), None);
    }

    #[test]
    fn behaviour_percentiles_map_to_lognormal() {
        let b = Behaviour::from_percentiles(20.0, 60.0, 0.0, 500);
        assert!((b.latency_mu.exp() - 20.0).abs() < 1e-9);
        assert!(((b.latency_mu + Z95 * b.latency_sigma).exp() - 60.0).abs() < 1e-6);
    }

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

    #[test]
    fn workload_name_strips_the_template_hash() {
        let pod = json!({"metadata": {
            "labels": {"pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "review-v2-7d9f8b6c5d", "controller": true}]}});
        assert_eq!(
            workload_name(&pod, "review-v2-7d9f8b6c5d-x2x4k"),
            "review-v2"
        );
        assert_eq!(workload_name(&json!({"metadata": {}}), "bare"), "bare");
        let stateful =
            json!({"metadata": {"ownerReferences": [{"kind": "StatefulSet", "name": "db"}]}});
        assert_eq!(workload_name(&stateful, "db-0"), "db");
    }

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

    #[test]
    fn readiness() {
        assert!(is_ready(&json!({"metadata": {}})));
        assert!(is_ready(
            &json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        ));
        assert!(!is_ready(&json!({"status": {"phase": "Pending"}})));
        assert!(!is_ready(
            &json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}})
        ));
        assert!(!is_ready(
            &json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})
        ));
    }
}
