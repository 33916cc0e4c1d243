//! Graph assembly, pure: (topology from the cluster caches, samples from metrics) → the versioned
//! app graph the page draws, with requested-vs-observed splits. No I/O, no async, no clock: the
//! caller passes the time. Missing data degrades (no rate, no split) and never fails.
//!
//! A Service that is a backendRef of an HTTPRoute attached to another Service (GAMMA: `review`
//! routed to `review-v1` and `review-v2`) is drawn as that Service's version, like a
//! VirtualService's subset: its traffic is the parent's, on edges caller → `review` → workload,
//! and the parent's split is requested by the route's weights and observed per backend
//! (`docs/gateway-api.md`, "In the graph").

use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::{
    Edge, Graph, HttpRouteRoutes, MetricsStatus, Node, NodeKind, RouteKind, ServiceSplit,
    VersionSplit, VirtualServiceRoutes,
};

use crate::gateway::http_route::backend_service;
use crate::istio::{host, DestinationRule};
use crate::metrics::Samples;

/// A DestinationRule as the topology holds it (read by `istio::destination_rule`); the name
/// callers building a `Topology` by hand use.
pub use crate::istio::DestinationRule as DestinationRuleInfo;

/// What the cluster says exists, whether or not traffic flows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    pub services: Vec<ServiceInfo>,
    pub workloads: Vec<WorkloadInfo>,
    pub virtual_services: Vec<VirtualServiceRoutes>,
    pub destination_rules: Vec<DestinationRule>,
    /// HTTPRoutes in scope, as their views: `hosts` are the Services they attach to (GAMMA
    /// parentRefs), destinations their backend Services.
    pub http_routes: Vec<VirtualServiceRoutes>,
    /// The `version` of each Service's selector, by (namespace, name), where it has one: the
    /// version an HTTPRoute backend stands for.
    pub service_versions: BTreeMap<(String, String), String>,
}

/// (namespace, name) of a Service.
type ServiceKey = (String, String);

impl Topology {
    /// Each backend Service of an HTTPRoute attached to another Service, with that parent: the
    /// first parent (by route order) when several routes name the same backend.
    fn backend_parents(&self) -> BTreeMap<ServiceKey, ServiceKey> {
        let mut parents = BTreeMap::new();
        for route in &self.http_routes {
            let attached: Vec<ServiceKey> = route
                .hosts
                .iter()
                .map(|h| backend_service(h, &route.namespace))
                .collect();
            let Some(parent) = attached.first() else {
                continue;
            };
            for rule in &route.routes {
                for d in &rule.destinations {
                    let backend = backend_service(&d.host, &route.namespace);
                    if !attached.contains(&backend) {
                        parents.entry(backend).or_insert_with(|| parent.clone());
                    }
                }
            }
        }
        parents
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadInfo {
    pub namespace: String,
    pub name: String,
    pub app: Option<String>,
    pub version: Option<String>,
}

pub const ENTRY: &str = "entry";
pub const UNKNOWN: &str = "unknown";

pub fn service_id(namespace: &str, name: &str) -> String {
    format!("svc:{namespace}:{name}")
}

pub fn workload_id(namespace: &str, name: &str) -> String {
    format!("wl:{namespace}:{name}")
}

/// Largest gap between requested and observed percent that sampling explains: three binomial
/// standard errors at the requested share, and never under one point (display rounding).
pub fn tolerance(requested_percent: f64, samples: f64) -> f64 {
    if samples <= 0.0 {
        return f64::INFINITY;
    }
    let p = (requested_percent / 100.0).clamp(0.0, 1.0);
    let se = (p * (1.0 - p) / samples).sqrt() * 100.0;
    (3.0 * se).max(1.0)
}

#[derive(Default)]
struct EdgeAcc {
    rate: f64,
    errors: f64,
}

/// Assembles the graph. `samples` is `None` when no metrics were ever read.
pub fn build(
    topology: &Topology,
    samples: Option<&Samples>,
    metrics: MetricsStatus,
    window_seconds: u32,
    now: f64,
) -> Graph {
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let parents = topology.backend_parents();
    // A backend Service of an attached HTTPRoute is its parent's version, not a node.
    let fold = |namespace: &str, name: &str| -> ServiceKey {
        let key = (namespace.to_owned(), name.to_owned());
        parents.get(&key).cloned().unwrap_or(key)
    };
    for s in &topology.services {
        if parents.contains_key(&(s.namespace.clone(), s.name.clone())) {
            continue;
        }
        let id = service_id(&s.namespace, &s.name);
        nodes.insert(
            id.clone(),
            node(
                id,
                NodeKind::Service,
                &s.namespace,
                &s.name,
                Some(&s.name),
                None,
            ),
        );
    }
    for w in &topology.workloads {
        let id = workload_id(&w.namespace, &w.name);
        nodes.insert(
            id.clone(),
            node(
                id,
                NodeKind::Workload,
                &w.namespace,
                &w.name,
                w.app.as_deref(),
                w.version.as_deref(),
            ),
        );
    }

    let mut edges: BTreeMap<(String, String), EdgeAcc> = BTreeMap::new();
    // Per service: rate by destination version, over requests that reached a workload.
    let mut by_version: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    // Per parent service of an HTTPRoute: rate by backend Service, over requests that reached a
    // workload through it.
    let mut by_backend: BTreeMap<ServiceKey, BTreeMap<String, f64>> = BTreeMap::new();
    for r in samples.map(|s| s.requests.as_slice()).unwrap_or_default() {
        let (service_namespace, service_name) = fold(&r.service_namespace, &r.service);
        let backend = (service_name != r.service || service_namespace != r.service_namespace)
            .then(|| host_key(&r.service_namespace, &r.service, &service_namespace));
        let source = if r.source.is_unknown() {
            nodes
                .entry(ENTRY.into())
                .or_insert_with(|| node(ENTRY.into(), NodeKind::Entry, "", ENTRY, None, None));
            ENTRY.to_owned()
        } else {
            let id = workload_id(&r.source.namespace, &r.source.name);
            nodes.entry(id.clone()).or_insert_with(|| {
                node(
                    id.clone(),
                    NodeKind::Workload,
                    &r.source.namespace,
                    &r.source.name,
                    known(&r.source.app),
                    known(&r.source.version),
                )
            });
            id
        };
        let service = service_id(&service_namespace, &service_name);
        nodes.entry(service.clone()).or_insert_with(|| {
            node(
                service.clone(),
                NodeKind::Service,
                &service_namespace,
                &service_name,
                Some(&service_name),
                None,
            )
        });
        let target = if r.destination.is_unknown() {
            nodes.entry(UNKNOWN.into()).or_insert_with(|| {
                node(UNKNOWN.into(), NodeKind::Unknown, "", UNKNOWN, None, None)
            });
            UNKNOWN.to_owned()
        } else {
            let id = workload_id(&r.destination.namespace, &r.destination.name);
            nodes.entry(id.clone()).or_insert_with(|| {
                node(
                    id.clone(),
                    NodeKind::Workload,
                    &r.destination.namespace,
                    &r.destination.name,
                    known(&r.destination.app),
                    known(&r.destination.version),
                )
            });
            *by_version
                .entry((service_namespace.clone(), service_name.clone()))
                .or_default()
                .entry(r.destination.version.clone())
                .or_default() += r.rate;
            if let Some(backend) = &backend {
                *by_backend
                    .entry((service_namespace.clone(), service_name.clone()))
                    .or_default()
                    .entry(backend.clone())
                    .or_default() += r.rate;
            }
            id
        };
        let errors = if r.is_error() { r.rate } else { 0.0 };
        for key in [(source, service.clone()), (service, target)] {
            let acc = edges.entry(key).or_default();
            acc.rate += r.rate;
            acc.errors += errors;
        }
    }

    let mut outbound: BTreeMap<&str, f64> = BTreeMap::new();
    let mut inbound: BTreeMap<&str, f64> = BTreeMap::new();
    for ((s, t), acc) in &edges {
        *outbound.entry(s).or_default() += acc.rate;
        *inbound.entry(t).or_default() += acc.rate;
    }
    let p95 = latency_index(samples, &fold);
    let edge_list: Vec<Edge> = edges
        .iter()
        .map(|((s, t), acc)| {
            let out = outbound.get(s.as_str()).copied().unwrap_or(0.0);
            Edge {
                id: format!("{s}->{t}"),
                source: s.clone(),
                target: t.clone(),
                rate: acc.rate,
                share: (out > 0.0).then(|| acc.rate * 100.0 / out),
                error_share: if acc.rate > 0.0 {
                    acc.errors * 100.0 / acc.rate
                } else {
                    0.0
                },
                p95_ms: p95.get(&(s.clone(), t.clone())).copied(),
            }
        })
        .collect();
    let node_list = nodes
        .into_values()
        .map(|mut n| {
            n.rate_in = inbound.get(n.id.as_str()).copied().unwrap_or(0.0);
            n
        })
        .collect();

    Graph {
        nodes: node_list,
        edges: edge_list,
        splits: {
            let mut all = splits(topology, &by_version, samples.is_some(), window_seconds);
            all.extend(http_route_splits(
                topology,
                &by_version,
                &by_backend,
                samples.is_some(),
                window_seconds,
                &all,
            ));
            all
        },
        metrics,
        window_seconds,
        generated_at: now,
        // Stamped by the refresher, which knows the sources (`live`).
        freshness: Default::default(),
    }
}

fn known(label: &str) -> Option<&str> {
    (label != "unknown" && !label.is_empty()).then_some(label)
}

fn node(
    id: String,
    kind: NodeKind,
    namespace: &str,
    name: &str,
    app: Option<&str>,
    version: Option<&str>,
) -> Node {
    Node {
        id,
        kind,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        app: app.map(str::to_owned),
        version: version.map(str::to_owned),
        rate_in: 0.0,
    }
}

/// The key of a backend Service as its route names it: `name` in the parent's namespace, else
/// `namespace/name`.
fn host_key(namespace: &str, name: &str, parent_namespace: &str) -> String {
    if namespace == parent_namespace {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// p95 per edge (source id, target id). Services are folded into their HTTPRoute parent (`fold`);
/// a caller's edge into a parent reached through several backends takes the largest of their
/// p95s, an upper bound of the p95 of all its requests (a quantile of a mixture lies between its
/// parts' quantiles).
fn latency_index(
    samples: Option<&Samples>,
    fold: &impl Fn(&str, &str) -> ServiceKey,
) -> BTreeMap<(String, String), f64> {
    let mut index: BTreeMap<(String, String), f64> = BTreeMap::new();
    for l in samples.map(|s| s.latencies.as_slice()).unwrap_or_default() {
        let (service_namespace, service_name) = fold(&l.service.0, &l.service.1);
        let service = service_id(&service_namespace, &service_name);
        if let Some((ns, name)) = &l.caller {
            let source = if name == "unknown" {
                ENTRY.to_owned()
            } else {
                workload_id(ns, name)
            };
            let p95 = index.entry((source, service)).or_insert(l.p95_ms);
            *p95 = p95.max(l.p95_ms);
        } else if let Some((ns, name)) = &l.workload {
            let target = if name == "unknown" {
                UNKNOWN.to_owned()
            } else {
                workload_id(ns, name)
            };
            index.insert((service, target), l.p95_ms);
        }
    }
    index
}

/// Requested (last weighted route of each VirtualService) against observed, per service.
fn splits(
    topology: &Topology,
    by_version: &BTreeMap<(String, String), BTreeMap<String, f64>>,
    have_samples: bool,
    window_seconds: u32,
) -> Vec<ServiceSplit> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for vs in &topology.virtual_services {
        let Some(route) = vs.routes.iter().rev().find(|r| r.destinations.len() >= 2) else {
            continue;
        };
        let Some(first) = route.destinations.first() else {
            continue;
        };
        let fqdn = host::resolve(&first.host, &vs.namespace);
        let Some((service, service_ns)) = host::kubernetes_service(&fqdn) else {
            continue;
        };
        if !seen.insert((service_ns.clone(), service.clone())) {
            continue;
        }
        let rule = topology.destination_rules.iter().find(|dr| dr.host == fqdn);
        let rates = by_version.get(&(service_ns.clone(), service.clone()));
        let total: f64 = rates.map(|r| r.values().sum()).unwrap_or(0.0);
        let samples = total * f64::from(window_seconds);
        let versions: Vec<VersionSplit> = route
            .destinations
            .iter()
            .map(|d| {
                let subset = d.key().to_owned();
                let version = rule
                    .and_then(|r| d.subset.as_ref().and_then(|s| r.subsets.get(s)))
                    .and_then(|labels| labels.get("version").cloned());
                let observed = match (&version, rates) {
                    (Some(v), Some(r)) if have_samples && total > 0.0 => {
                        Some(r.get(v).copied().unwrap_or(0.0) * 100.0 / total)
                    }
                    _ => None,
                };
                VersionSplit {
                    subset,
                    version,
                    requested: d.requested_share,
                    observed,
                }
            })
            .collect();
        let widest = versions
            .iter()
            .map(|v| tolerance(v.requested, samples))
            .fold(0.0, f64::max);
        let agrees = if versions.iter().all(|v| v.observed.is_some()) && total > 0.0 {
            Some(versions.iter().all(|v| {
                (v.observed.unwrap_or(0.0) - v.requested).abs() <= tolerance(v.requested, samples)
            }))
        } else {
            None
        };
        out.push(ServiceSplit {
            namespace: vs.namespace.clone(),
            service,
            virtual_service: vs.name.clone(),
            kind: RouteKind::VirtualService,
            route_index: route.index,
            versions,
            rate: total,
            samples,
            tolerance: if widest.is_finite() { widest } else { 100.0 },
            agrees,
            settling: None,
        });
    }
    out
}

/// Requested (the last weighted rule of each HTTPRoute attached to a Service) against observed
/// (per backend Service), for the Services no split of `existing` covers yet.
fn http_route_splits(
    topology: &Topology,
    by_version: &BTreeMap<(String, String), BTreeMap<String, f64>>,
    by_backend: &BTreeMap<ServiceKey, BTreeMap<String, f64>>,
    have_samples: bool,
    window_seconds: u32,
    existing: &[ServiceSplit],
) -> Vec<ServiceSplit> {
    let mut out: Vec<ServiceSplit> = Vec::new();
    let mut seen: BTreeSet<ServiceKey> = existing
        .iter()
        .map(|s| (s.namespace.clone(), s.service.clone()))
        .collect();
    for route in &topology.http_routes {
        let Some(rule) = route
            .routes
            .iter()
            .rev()
            .find(|r| r.destinations.len() >= 2)
        else {
            continue;
        };
        let Some((service_ns, service)) = route
            .hosts
            .first()
            .map(|h| backend_service(h, &route.namespace))
        else {
            continue;
        };
        if !seen.insert((service_ns.clone(), service.clone())) {
            continue;
        }
        let key = (service_ns.clone(), service.clone());
        let backends = by_backend
            .get(&key)
            .filter(|b| b.values().sum::<f64>() > 0.0);
        let versions_seen = by_version.get(&key);
        // Observed per backend when the metrics name the backend Services (the request's
        // destination service is the backend), else per version of the backends' selectors.
        let total: f64 = match backends {
            Some(b) => b.values().sum(),
            None => versions_seen.map(|r| r.values().sum()).unwrap_or(0.0),
        };
        let samples = total * f64::from(window_seconds);
        let versions: Vec<VersionSplit> = rule
            .destinations
            .iter()
            .map(|d| {
                let (backend_ns, backend) = backend_service(&d.host, &route.namespace);
                let version = topology
                    .service_versions
                    .get(&(backend_ns.clone(), backend.clone()))
                    .cloned();
                let rate = match (backends, versions_seen, &version) {
                    (Some(b), _, _) => Some(
                        b.get(&host_key(&backend_ns, &backend, &service_ns))
                            .copied()
                            .unwrap_or(0.0),
                    ),
                    (None, Some(r), Some(v)) => Some(r.get(v).copied().unwrap_or(0.0)),
                    _ => None,
                };
                VersionSplit {
                    subset: d.key().to_owned(),
                    version,
                    requested: d.requested_share,
                    observed: rate
                        .filter(|_| have_samples && total > 0.0)
                        .map(|r| r * 100.0 / total),
                }
            })
            .collect();
        out.push(verdict(ServiceSplit {
            namespace: service_ns,
            service,
            virtual_service: route.name.clone(),
            kind: RouteKind::HTTPRoute,
            route_index: rule.index,
            versions,
            rate: total,
            samples,
            tolerance: 0.0,
            agrees: None,
            settling: None,
        }));
    }
    out
}

/// Fills a split's tolerance and verdict from its versions and sample size.
fn verdict(mut split: ServiceSplit) -> ServiceSplit {
    let samples = split.samples;
    let widest = split
        .versions
        .iter()
        .map(|v| tolerance(v.requested, samples))
        .fold(0.0, f64::max);
    split.agrees = if split.versions.iter().all(|v| v.observed.is_some()) && split.rate > 0.0 {
        Some(split.versions.iter().all(|v| {
            (v.observed.unwrap_or(0.0) - v.requested).abs() <= tolerance(v.requested, samples)
        }))
    } else {
        None
    };
    split.tolerance = if widest.is_finite() { widest } else { 100.0 };
    split
}

/// Copies observed shares from the graph's HTTPRoute splits onto the matching backendRefs.
pub fn annotate_http_routes(http_routes: &mut [HttpRouteRoutes], graph: &Graph) {
    for route in http_routes {
        let (namespace, name) = (route.namespace.clone(), route.name.clone());
        route.set_observed(|index, host| {
            graph.observed_share_of(RouteKind::HTTPRoute, &namespace, &name, index, host)
        });
    }
}

/// The part of a graph in namespaces `keep` accepts; nodes outside any namespace (entry, unknown)
/// stay, and edges stay when both ends do.
pub fn restrict(graph: &Graph, keep: impl Fn(&str) -> bool) -> Graph {
    let nodes: Vec<Node> = graph
        .nodes
        .iter()
        .filter(|n| n.namespace.is_empty() || keep(&n.namespace))
        .cloned()
        .collect();
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    Graph {
        edges: graph
            .edges
            .iter()
            .filter(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()))
            .cloned()
            .collect(),
        splits: graph
            .splits
            .iter()
            .filter(|s| keep(&s.namespace))
            .cloned()
            .collect(),
        nodes,
        metrics: graph.metrics.clone(),
        window_seconds: graph.window_seconds,
        generated_at: graph.generated_at,
        freshness: graph.freshness.clone(),
    }
}

/// Copies observed shares from the graph's splits onto the matching route destinations.
pub fn annotate_observed(virtual_services: &mut [VirtualServiceRoutes], graph: &Graph) {
    for vs in virtual_services {
        for route in &mut vs.routes {
            for d in &mut route.destinations {
                d.observed_share =
                    graph.observed_share(&vs.namespace, &vs.name, route.index, d.key());
            }
        }
    }
}

pub mod settling;
pub mod wire;

#[cfg(test)]
mod tests;
