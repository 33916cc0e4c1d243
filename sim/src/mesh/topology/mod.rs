//! The compiled mesh: the routing tables and workloads the request path reads without touching
//! JSON. [`compile`] builds them from the cluster's objects, [`virtual_service`] compiles the
//! VirtualService routes, [`http_route`] the Gateway API HTTPRoutes attached to a Service,
//! [`hosts`] resolves service names as Istio and a pod's resolver do, and [`annotations`] reads
//! the simulator's workload annotations.

mod annotations;
mod compile;
mod hosts;
mod http_route;
mod virtual_service;

pub use annotations::{
    ANNOTATION_CALLS, ANNOTATION_ERROR_CODE, ANNOTATION_ERROR_RATE, ANNOTATION_LATENCY,
};
#[cfg(test)]
pub(crate) use compile::workload_name;
#[cfg(test)]
pub(crate) use virtual_service::compile_match;

use super::metrics::{PeerId, ServiceId};
use hosts::dns_host;
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
pub(crate) const HTTP_ROUTES: &str = "httproutes.gateway.networking.k8s.io";

/// The pod label that puts a workload in Istio's ambient mode (no sidecar; ztunnel reports L4
/// only), and the Service labels that send its traffic through a waypoint, also from outside the
/// mesh (`docs/istio-routing.md`, "Ambient mode").
pub const AMBIENT_LABEL: (&str, &str) = ("istio.io/dataplane-mode", "ambient");
pub const USE_WAYPOINT_LABEL: &str = "istio.io/use-waypoint";
pub const INGRESS_USE_WAYPOINT_LABEL: &str = "istio.io/ingress-use-waypoint";

/// The objects a topology is compiled from, as an [`ObjectSource`](super::ObjectSource) hands them
/// over.
#[derive(Default)]
pub struct Objects {
    pub services: Vec<Arc<Value>>,
    pub pods: Vec<Arc<Value>>,
    pub deployments: Vec<Arc<Value>>,
    pub virtual_services: Vec<Arc<Value>>,
    pub destination_rules: Vec<Arc<Value>>,
    pub http_routes: Vec<Arc<Value>>,
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
    /// In ambient mode: no sidecar, so it reports no L7 metrics and routes nothing itself.
    pub ambient: bool,
}

#[derive(Clone)]
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
#[derive(Clone, Default)]
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
#[derive(Clone)]
pub(crate) enum Target {
    /// A known service (or subset): the workload of each ready pod, possibly none.
    Endpoints {
        service: ServiceId,
        endpoints: Vec<usize>,
    },
    /// Envoy has no cluster for it: unknown host or undefined subset.
    NoCluster { service: ServiceId },
    /// An HTTPRoute backendRef that is not a Service that exists: its share is answered 500.
    Invalid { service: ServiceId },
}

#[derive(Clone)]
pub(crate) enum Action {
    /// Weighted destinations, zero weights already dropped; a lone destination has weight 1.
    Forward {
        destinations: Vec<(u32, Target)>,
        total: u32,
    },
    /// `directResponse` or `redirect`: the client proxy answers itself.
    Respond(u16),
}

#[derive(Clone, Default)]
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
    /// The http routes of the VirtualService that owns the host, or the HTTPRoutes attached to
    /// the Service (their matches in precedence order); first match wins.
    Virtual(Vec<HttpRoute>),
}

pub(crate) struct Service {
    pub name: Arc<str>,
    pub fqdn: Arc<str>,
    pub labels: ServiceId,
    /// The workload of each ready pod the selector matches (what kube-proxy balances over).
    pub endpoints: Vec<usize>,
    pub routing: Routing,
    /// Its traffic goes through a waypoint (`istio.io/use-waypoint`), which routes and reports
    /// it (`reporter="waypoint"`).
    pub waypoint: bool,
    /// Traffic from outside the mesh goes through the waypoint too
    /// (`istio.io/ingress-use-waypoint: "true"`).
    pub ingress_waypoint: bool,
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

    /// Whether a Service `name` exists in `namespace`.
    pub fn has_service(&self, namespace: &str, name: &str) -> bool {
        self.by_host
            .contains_key(hosts::fqdn(name, namespace).as_str())
    }

    /// The service index for `name` as a client in `namespace` would resolve it.
    pub(crate) fn service_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.by_host
            .get(dns_host(name, namespace).as_str())
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_percentiles_map_to_lognormal() {
        let b = Behaviour::from_percentiles(20.0, 60.0, 0.0, 500);
        assert!((b.latency_mu.exp() - 20.0).abs() < 1e-9);
        assert!(((b.latency_mu + Z95 * b.latency_sigma).exp() - 60.0).abs() < 1e-6);
    }
}
