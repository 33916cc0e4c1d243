//! The wire contract between the Switchyard browser app and its server, compiled for both wasm32
//! and native: plain serde data here (changing a type here is an API change), and in the modules
//! the rules both sides apply, written once: [`weights`] (the weight policy and the presets),
//! [`subsets`] (the old/new subset names and which route a shift or rollback changes) and
//! [`events`] (the server-sent event names), [`delta`] (a graph update as the changes since the
//! stream's previous snapshot), [`route_kind`] (VirtualService or HTTPRoute), [`backends`] (the
//! old/new backends of an HTTPRoute rule and the route a shift changes in either kind),
//! [`http_routes`] (an HTTPRoute in the route-list shape) and [`plans`] (release plans, their
//! gates' defaults and which control applies in which phase).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod backends;
pub mod delta;
pub mod events;
pub mod http_routes;
pub mod plans;
pub mod route_kind;
pub mod subsets;
pub mod weights;

pub use backends::Backends;
pub use delta::GraphDelta;
pub use http_routes::{BackendDestination, HttpRouteRoutes, RouteRule};
pub use plans::{Plan, PlanRecord, PlanRequest, PlansResponse};
pub use route_kind::RouteKind;
pub use subsets::Subsets;

/// Every error the API returns: a stable machine code and a sentence a person can act on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable, lowercase identifier such as `not_found`, `conflict`, `invalid`, `upstream`.
    pub code: String,
    pub message: String,
    /// On a conflict: the route as it is now, so the client can show it without another request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<VirtualServiceRoutes>,
    /// On a conflict over an HTTPRoute: the HTTPRoute as it is now (`current` stays empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_http_route: Option<HttpRouteRoutes>,
}

/// `GET /api/v1/routes`: every VirtualService and every HTTPRoute in scope.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutesResponse {
    pub virtual_services: Vec<VirtualServiceRoutes>,
    /// Every HTTPRoute (`gateway.networking.k8s.io/v1`) in scope, in the shape of a
    /// `virtual_services` entry (destinations are the backendRefs' Services, with their port).
    #[serde(default)]
    pub http_routes: Vec<HttpRouteRoutes>,
    /// How current this list is (the cache's last contact with the API server).
    #[serde(default)]
    pub freshness: Freshness,
}

/// How current the console's data is: its last successful contact with the API server (a watch
/// event, a list or the periodic probe) and with the metrics source (a query that answered).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Freshness {
    pub cluster: Contact,
    /// `None` when the console has no metrics source.
    #[serde(default)]
    pub metrics: Option<Contact>,
}

/// The last successful contact with one source, and whether it is too long ago to trust.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Unix seconds of the last successful contact; `None` before the first.
    #[serde(default)]
    pub last_contact: Option<f64>,
    /// True when the last contact is older than `stale_after_seconds` or there was none yet
    /// (for the metrics source also when its last query failed): the data shown may be out of
    /// date.
    pub stale: bool,
    /// The threshold `stale` is measured against.
    pub stale_after_seconds: f64,
    /// Why the last attempt failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One VirtualService and its HTTP routes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VirtualServiceRoutes {
    pub namespace: String,
    pub name: String,
    pub resource_version: String,
    pub hosts: Vec<String>,
    pub routes: Vec<HttpRoute>,
    /// Other controllers that manage this VirtualService's routes (`metadata.managedFields`
    /// managers such as `argo-rollouts`, `flagger` or `argocd-controller` owning `spec.http`): a
    /// change made here may be undone by them. Empty when only people and the console write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_managers: Vec<String>,
}

impl VirtualServiceRoutes {
    /// Routes with two or more destinations: the ones whose split a person can change.
    pub fn weighted_routes(&self) -> impl Iterator<Item = &HttpRoute> {
        self.routes.iter().filter(|r| r.destinations.len() >= 2)
    }
}

/// One entry of `spec.http`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpRoute {
    /// Position in `spec.http`; Istio evaluates routes in this order and the first match wins.
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Readable summary of the match, e.g. `header x-group = test`, or `all requests`.
    pub match_summary: String,
    pub destinations: Vec<Destination>,
}

/// One weighted destination of a route.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Destination {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    /// The weight as written in the object (absent counts as 0, as in proto3).
    pub weight: u32,
    /// Percent of the route's traffic this weight asks for: weight / sum(weights), or 100 for a
    /// lone destination.
    pub requested_share: f64,
    /// Percent of the route's traffic observed over the metrics window; `None` with no traffic.
    #[serde(default)]
    pub observed_share: Option<f64>,
}

impl Destination {
    /// The key the weight API uses for this destination: its subset, or its host without one.
    pub fn key(&self) -> &str {
        self.subset.as_deref().unwrap_or(&self.host)
    }
}

/// `PUT /api/v1/namespaces/{ns}/virtualservices/{name}/routes/{index}/weights`. Request bodies
/// are strict: an unknown field or a repeated key is an error, never ignored or last-wins.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetWeightsRequest {
    /// New weight per destination key (subset, or host when the destination has no subset).
    #[serde(deserialize_with = "serde_with::rust::maps_duplicate_key_is_error::deserialize")]
    pub weights: BTreeMap<String, u32>,
    /// The destinations as the client saw them; the change applies only if they still hold.
    pub expected: Vec<ExpectedDestination>,
}

/// A destination as the client last saw it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpectedDestination {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    pub weight: u32,
}

impl From<&Destination> for ExpectedDestination {
    fn from(d: &Destination) -> Self {
        ExpectedDestination {
            host: d.host.clone(),
            subset: d.subset.clone(),
            weight: d.weight,
        }
    }
}

/// Answer to a weight change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetWeightsResponse {
    /// False when the route already had exactly these weights (nothing was written).
    pub changed: bool,
    pub virtual_service: VirtualServiceRoutes,
}

/// Answer to a weight change of an HTTPRoute rule
/// (`PUT /api/v1/namespaces/{ns}/httproutes/{name}/routes/{index}/weights`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetHttpRouteWeightsResponse {
    /// False when the rule already had exactly these weights (nothing was written).
    pub changed: bool,
    pub http_route: HttpRouteRoutes,
}

/// Pushed over `GET /api/v1/events` (server-sent events; the SSE event name is the tag).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The full list of routes; sent first on connect and after the cache re-lists.
    Routes(RoutesResponse),
    /// A VirtualService was added or changed.
    VirtualServiceChanged(VirtualServiceRoutes),
    /// A VirtualService was deleted.
    VirtualServiceDeleted { namespace: String, name: String },
    /// An HTTPRoute was added or changed.
    HttpRouteChanged(HttpRouteRoutes),
    /// An HTTPRoute was deleted.
    HttpRouteDeleted { namespace: String, name: String },
    /// A new graph snapshot: sent first on connect and whenever the topology changed.
    Graph(Graph),
    /// A refresh whose topology is the stream's previous graph's: only the numbers that moved
    /// (applied to that graph it gives the new snapshot; see [`delta`]).
    GraphDelta(Box<GraphDelta>),
    /// A weight change was recorded in the history.
    Change(ChangeRecord),
    /// A release plan was created or changed (phase, step, evaluations, pending actions).
    Plan(Box<Plan>),
    /// A release plan was deleted.
    PlanDeleted { namespace: String, id: String },
    /// A piece of plan evidence was recorded (a step, an evaluation, an abort…).
    PlanEvent(Box<PlanRecord>),
}

/// `GET /api/v1/graph`: the mesh as a versioned-app graph with traffic over the metrics window.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// For every service with a weighted route: requested against observed split.
    pub splits: Vec<ServiceSplit>,
    pub metrics: MetricsStatus,
    /// Width of the rate window in seconds.
    pub window_seconds: u32,
    /// When this snapshot was assembled, unix seconds.
    pub generated_at: f64,
    /// How current the snapshot is (API server and metrics source).
    #[serde(default)]
    pub freshness: Freshness,
}

impl Graph {
    /// The observed percent of the destination `key` (a subset, or a host without one) of route
    /// `route_index` of a VirtualService, over this graph's window; `None` without traffic or
    /// when the route has no split. The weight cards and the server's route lists both read
    /// observed shares through this.
    pub fn observed_share(
        &self,
        namespace: &str,
        virtual_service: &str,
        route_index: usize,
        key: &str,
    ) -> Option<f64> {
        self.observed_share_of(
            RouteKind::VirtualService,
            namespace,
            virtual_service,
            route_index,
            key,
        )
    }

    /// [`Graph::observed_share`] of a route object of either kind: for an HTTPRoute `name` is
    /// the HTTPRoute, `route_index` its rule and `key` a backend Service.
    pub fn observed_share_of(
        &self,
        kind: RouteKind,
        namespace: &str,
        name: &str,
        route_index: usize,
        key: &str,
    ) -> Option<f64> {
        self.splits
            .iter()
            .find(|s| {
                s.kind == kind
                    && s.namespace == namespace
                    && s.virtual_service == name
                    && s.route_index == route_index
            })?
            .versions
            .iter()
            .find(|v| v.subset == key)?
            .observed
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Traffic from outside the mesh (load generator, ingress without a sidecar).
    Entry,
    /// A Kubernetes Service (what a VirtualService routes for).
    Service,
    /// A workload of one app version (a Deployment).
    Workload,
    /// A destination that could not be identified (requests that reached no workload).
    Unknown,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    /// Stable id: `entry`, `svc:{ns}:{name}`, `wl:{ns}:{workload}`, `unknown`.
    pub id: String,
    pub kind: NodeKind,
    pub namespace: String,
    /// Service name, workload name, or `entry` / `unknown`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Requests per second into this node over the window.
    pub rate_in: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Edge {
    /// `{source}->{target}`.
    pub id: String,
    pub source: String,
    pub target: String,
    /// Requests per second.
    pub rate: f64,
    /// Percent of the source node's outbound requests that take this edge (Kiali's "requests
    /// distribution"); `None` when the source sent nothing.
    pub share: Option<f64>,
    /// Percent of this edge's requests that failed (5xx or no response).
    pub error_share: f64,
    /// 95th percentile latency in milliseconds; `None` without samples.
    pub p95_ms: Option<f64>,
}

/// Requested against observed split between the versions of one service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSplit {
    pub namespace: String,
    pub service: String,
    /// The route object the split is requested by: a VirtualService, or for `kind` HTTPRoute
    /// an HTTPRoute attached to the service.
    pub virtual_service: String,
    /// The kind of that route object; absent means VirtualService.
    #[serde(default, skip_serializing_if = "RouteKind::is_virtual_service")]
    pub kind: RouteKind,
    /// The weighted route whose split this is (the last weighted route: the default traffic).
    pub route_index: usize,
    pub versions: Vec<VersionSplit>,
    /// Requests per second reaching the service over the window.
    pub rate: f64,
    /// Requests the observed shares are based on (rate × window).
    pub samples: f64,
    /// Largest difference (percentage points) that sampling alone explains at this sample size.
    pub tolerance: f64,
    /// Whether observed and requested agree within the tolerance; `None` without traffic, while
    /// settling, and for the first refresh that disagrees (a difference must persist for two
    /// refreshes before it is called off).
    pub agrees: Option<bool>,
    /// Set while the rate window still holds traffic from before the route's last weight change:
    /// the observed share lags the request by design, so it is no verdict either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settling: Option<Settling>,
}

/// The time since a weight change during which the observed share cannot match it yet: until one
/// full rate window has passed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settling {
    /// Unix seconds of the change.
    pub since: f64,
    /// Unix seconds when the window holds only traffic from after the change.
    pub until: f64,
    /// How far along, 0.0 to 1.0, at the graph's `generated_at`.
    pub progress: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionSplit {
    /// Subset named in the route (e.g. `old`); for an HTTPRoute the backend Service
    /// (e.g. `review-v1`).
    pub subset: String,
    /// App version the subset selects (e.g. `v1`), from the DestinationRule; for an HTTPRoute
    /// the `version` of the backend Service's selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Percent the VirtualService asks for.
    pub requested: f64,
    /// Percent observed over the window; `None` without traffic.
    pub observed: Option<f64>,
}

/// Whether the metrics in a graph are current.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsStatus {
    /// False when the last refresh failed: rates are from `last_success` or absent.
    pub fresh: bool,
    /// Unix seconds of the last successful metrics query.
    #[serde(default)]
    pub last_success: Option<f64>,
    /// Why the last refresh failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /api/v1/shift`: one split for the VirtualServices named in `targets` (at least one;
/// rollback is the action for everything). Strict like every request body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    pub targets: Vec<ShiftTarget>,
    /// New weights by subset, e.g. `{"old": 20, "new": 80}`.
    #[serde(deserialize_with = "serde_with::rust::maps_duplicate_key_is_error::deserialize")]
    pub weights: BTreeMap<String, u32>,
}

/// One route object of a bulk shift. A VirtualService's old/new route is the last weighted route
/// whose destinations are exactly the subsets named in the weights; an HTTPRoute's is the last
/// rule split between an old/new backend pair (`backends`), and the weights must then name
/// exactly the old and the new subset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShiftTarget {
    pub namespace: String,
    pub name: String,
    /// `VirtualService` (the default) or `HTTPRoute`.
    #[serde(default, skip_serializing_if = "RouteKind::is_virtual_service")]
    pub kind: RouteKind,
    /// The route's destinations as the client showed them; when given, a route that changed
    /// since fails with a conflict and is not touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Vec<ExpectedDestination>>,
}

/// `POST /api/v1/shift` and `POST /api/v1/rollback`: what happened per target.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftResponse {
    pub results: Vec<ShiftResult>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftResult {
    pub namespace: String,
    pub name: String,
    /// The target's kind; absent means VirtualService.
    #[serde(default, skip_serializing_if = "RouteKind::is_virtual_service")]
    pub kind: RouteKind,
    pub outcome: ShiftOutcome,
    /// The route index that was (or would have been) changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_index: Option<usize>,
    /// Readable sentence, e.g. `old 100 / new 0 → old 20 / new 80`, or why it failed.
    pub message: String,
    /// On failure: the HTTP status the single-route API would have answered (409, 403, 422…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The VirtualService as it is after the attempt, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_service: Option<VirtualServiceRoutes>,
    /// For an HTTPRoute target: the HTTPRoute as it is after the attempt, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<HttpRouteRoutes>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShiftOutcome {
    Changed,
    Unchanged,
    Failed,
}

/// `GET /api/v1/history`: weight changes, oldest first.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    pub changes: Vec<ChangeRecord>,
    /// Release plans' evidence (steps, gate evaluations, aborts…), oldest first; absent when
    /// there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_events: Vec<PlanRecord>,
}

/// One recorded weight change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeRecord {
    /// Unique id of the change.
    pub id: String,
    /// RFC 3339 time of the change.
    pub time: String,
    /// Who made it: the console user, or for changes made elsewhere the field manager seen.
    pub user: String,
    /// `console`, `bulk`, `rollback`, or `external` (kubectl, scripts, other tools).
    pub source: String,
    pub namespace: String,
    /// The route object changed: a VirtualService, or for `kind` HTTPRoute an HTTPRoute.
    pub virtual_service: String,
    /// The kind of that object; absent means VirtualService.
    #[serde(default, skip_serializing_if = "RouteKind::is_virtual_service")]
    pub kind: RouteKind,
    /// The route (for an HTTPRoute: the rule) changed.
    pub route_index: usize,
    /// Weight per destination key (subset or host; for an HTTPRoute the backend Service) before
    /// and after.
    pub before: BTreeMap<String, u32>,
    pub after: BTreeMap<String, u32>,
    /// The VirtualService's resourceVersion after the change.
    pub resource_version: String,
    /// The console operation the change belongs to: one id for every route one bulk shift or
    /// rollback changed (a single Apply is an operation of its own). Absent for changes made
    /// elsewhere and in records written before operations were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// `GET /api/v1/whoami`: who the console thinks the caller is, and what the auth mode allows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhoAmI {
    /// `anonymous`, `token` or `header`.
    pub auth_mode: String,
    /// None until a token is given (token mode).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether this console accepts writes from this caller at all (anonymous mode is read-only
    /// unless it listens on loopback).
    pub may_write: bool,
    /// Why not, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/settings`: how this console was started, as far as the page needs to know.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// The subset names of the old and the new version (`--old-subset`, `--new-subset`).
    pub subsets: Subsets,
    /// The rate windows a viewer may choose (`--window`, `--windows`).
    #[serde(default)]
    pub windows: RateWindows,
    /// The suffixes of an HTTPRoute rule's old and new backend Services
    /// (`--old-backend-suffix`, `--new-backend-suffix`): what bulk shift and rollback change in
    /// HTTPRoutes.
    #[serde(default)]
    pub backends: Backends,
}

/// The rate windows this console offers. Each refresh reads one query set per offered window;
/// `GET /api/v1/graph?window=S` and `GET /api/v1/events?window=S` choose one by its seconds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateWindows {
    /// The window used when a request names none, in seconds.
    pub default_seconds: u32,
    /// Every window offered, in seconds, shortest first; holds the default.
    pub offered_seconds: Vec<u32>,
}

impl Default for RateWindows {
    fn default() -> Self {
        RateWindows {
            default_seconds: 30,
            offered_seconds: vec![30],
        }
    }
}

impl RateWindows {
    /// The window a request asks for: its `window` (seconds) when offered, the default when it
    /// names none, else the sentence saying what is offered.
    pub fn choose(&self, asked: Option<u32>) -> Result<u32, String> {
        match asked {
            None => Ok(self.default_seconds),
            Some(s) if self.offered_seconds.contains(&s) => Ok(s),
            Some(s) => Err(format!(
                "rate window {s} s is not offered; choose one of {} (seconds)",
                self.offered_seconds
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Query of `GET /api/v1/graph` and `GET /api/v1/events`: the rate window, in seconds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// One of `Settings.windows.offered_seconds`; the default window when absent.
    #[serde(default)]
    pub window: Option<u32>,
}

/// `GET /api/v1/access`: whether the caller may patch each VirtualService, HTTPRoute and release
/// plan, as the cluster says.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessResponse {
    pub virtual_services: Vec<Access>,
    #[serde(default)]
    pub http_routes: Vec<Access>,
    /// Release plans by namespace and `id` (the ReleasePlan's name): `can_patch` is whether the
    /// caller may pause, resume, promote and abort it (each a patch on the plan).
    #[serde(default)]
    pub plans: Vec<Access>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Access {
    pub namespace: String,
    pub name: String,
    pub can_patch: bool,
    /// The cluster's (or the console's) reason, shown beside read-only controls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/session` (token mode): the bearer token to use for this browser session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub token: String,
}

/// Percent shares for the backendRef weights of one HTTPRoute rule as Gateway API applies them
/// (`docs/gateway-api.md`): weight / sum of the rule's weights, also for a lone backend (one
/// with weight 0 gets no traffic); with a zero sum every share is 0.
pub fn backend_shares(weights: &[u32]) -> Vec<f64> {
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    weights
        .iter()
        .map(|&w| {
            if sum == 0 {
                0.0
            } else {
                f64::from(w) * 100.0 / sum as f64
            }
        })
        .collect()
}

/// Percent shares for weights as Istio applies them: relative to their sum; a lone destination
/// gets 100 whatever its weight; with a zero sum every share is 0 (Istio would reject the route).
pub fn requested_shares(weights: &[u32]) -> Vec<f64> {
    if weights.len() == 1 {
        return vec![100.0];
    }
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    weights
        .iter()
        .map(|&w| {
            if sum == 0 {
                0.0
            } else {
                f64::from(w) * 100.0 / sum as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_relative_to_the_sum() {
        assert_eq!(requested_shares(&[1, 3]), vec![25.0, 75.0]);
        assert_eq!(requested_shares(&[80, 20]), vec![80.0, 20.0]);
        assert_eq!(requested_shares(&[30, 30]), vec![50.0, 50.0]);
        assert_eq!(requested_shares(&[0]), vec![100.0]);
        assert_eq!(requested_shares(&[0, 0]), vec![0.0, 0.0]);
        assert_eq!(requested_shares(&[100, 0]), vec![100.0, 0.0]);
    }

    fn sample() -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: "review".into(),
            resource_version: "42".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: vec![HttpRoute {
                index: 1,
                name: None,
                match_summary: "all requests".into(),
                destinations: vec![Destination {
                    host: "review".into(),
                    subset: Some("old".into()),
                    weight: 80,
                    requested_share: 80.0,
                    observed_share: None,
                }],
            }],
        }
    }

    #[test]
    fn routes_json_is_stable() {
        let json = serde_json::to_string(&RoutesResponse {
            virtual_services: vec![sample()],
            http_routes: Vec::new(),
            freshness: Freshness::default(),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"virtual_services":[{"namespace":"hands-on","name":"review","resource_version":"42","hosts":["review"],"routes":[{"index":1,"match_summary":"all requests","destinations":[{"host":"review","subset":"old","weight":80,"requested_share":80.0,"observed_share":null}]}]}],"http_routes":[],"freshness":{"cluster":{"last_contact":null,"stale":false,"stale_after_seconds":0.0},"metrics":null}}"#
        );
        // A list from before HTTPRoutes were known still reads.
        let old: RoutesResponse = serde_json::from_str(r#"{"virtual_services":[]}"#).unwrap();
        assert!(old.http_routes.is_empty());
    }

    #[test]
    fn gateway_shares_are_relative_even_for_a_lone_backend() {
        assert_eq!(backend_shares(&[1, 3]), vec![25.0, 75.0]);
        assert_eq!(backend_shares(&[80, 20]), vec![80.0, 20.0]);
        assert_eq!(backend_shares(&[1, 1]), vec![50.0, 50.0]);
        assert_eq!(backend_shares(&[1_000_000, 0]), vec![100.0, 0.0]);
        // Unlike Istio's: a lone backend at weight 0 gets nothing.
        assert_eq!(backend_shares(&[0]), vec![0.0]);
        assert_eq!(backend_shares(&[7]), vec![100.0]);
        assert_eq!(backend_shares(&[0, 0]), vec![0.0, 0.0]);
    }

    #[test]
    fn http_route_events_and_kinds_are_tagged() {
        let ev = ServerEvent::HttpRouteDeleted {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
        };
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"type":"http_route_deleted","data":{"namespace":"hands-on-gateway","name":"review"}}"#
        );
        let target: ShiftTarget = serde_json::from_str(
            r#"{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"}"#,
        )
        .unwrap();
        assert_eq!(target.kind, RouteKind::HTTPRoute);
        assert_eq!(
            serde_json::to_string(&target).unwrap(),
            r#"{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"}"#
        );
        // An unknown kind is refused, not read as the default.
        assert!(serde_json::from_str::<ShiftTarget>(
            r#"{"namespace":"a","name":"b","kind":"Gateway"}"#
        )
        .is_err());
    }

    #[test]
    fn set_weights_request_json_is_stable() {
        let req = SetWeightsRequest {
            weights: BTreeMap::from([("new".into(), 20), ("old".into(), 80)]),
            expected: vec![ExpectedDestination {
                host: "review".into(),
                subset: Some("old".into()),
                weight: 100,
            }],
        };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(
            json,
            r#"{"weights":{"new":20,"old":80},"expected":[{"host":"review","subset":"old","weight":100}]}"#
        );
        assert_eq!(
            serde_json::from_str::<SetWeightsRequest>(&json).unwrap(),
            req
        );
    }

    #[test]
    fn server_event_is_tagged() {
        let ev = ServerEvent::VirtualServiceDeleted {
            namespace: "hands-on".into(),
            name: "review".into(),
        };
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"type":"virtual_service_deleted","data":{"namespace":"hands-on","name":"review"}}"#
        );
        let err = ApiError {
            code: "not_found".into(),
            message: "no such route".into(),
            current: None,
            current_http_route: None,
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"code":"not_found","message":"no such route"}"#
        );
    }

    #[test]
    fn graph_json_is_stable() {
        let graph = Graph {
            nodes: vec![Node {
                id: "wl:hands-on:review-v2".into(),
                kind: NodeKind::Workload,
                namespace: "hands-on".into(),
                name: "review-v2".into(),
                app: Some("review".into()),
                version: Some("v2".into()),
                rate_in: 1.5,
            }],
            edges: vec![Edge {
                id: "svc:hands-on:review->wl:hands-on:review-v2".into(),
                source: "svc:hands-on:review".into(),
                target: "wl:hands-on:review-v2".into(),
                rate: 1.5,
                share: Some(19.0),
                error_share: 0.0,
                p95_ms: None,
            }],
            splits: vec![ServiceSplit {
                namespace: "hands-on".into(),
                service: "review".into(),
                virtual_service: "review".into(),
                kind: RouteKind::VirtualService,
                route_index: 1,
                versions: vec![VersionSplit {
                    subset: "new".into(),
                    version: Some("v2".into()),
                    requested: 20.0,
                    observed: Some(19.0),
                }],
                rate: 8.0,
                samples: 240.0,
                tolerance: 7.7,
                agrees: Some(true),
                settling: None,
            }],
            metrics: MetricsStatus {
                fresh: true,
                last_success: Some(10.0),
                error: None,
            },
            window_seconds: 30,
            generated_at: 10.0,
            freshness: Freshness {
                cluster: Contact {
                    last_contact: Some(9.5),
                    stale: false,
                    stale_after_seconds: 4.0,
                    error: None,
                },
                metrics: Some(Contact {
                    last_contact: None,
                    stale: true,
                    stale_after_seconds: 10.0,
                    error: Some("connection refused".into()),
                }),
            },
        };
        let json = serde_json::to_string(&ServerEvent::Graph(graph.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"type":"graph","data":{"nodes":[{"id":"wl:hands-on:review-v2","kind":"workload","namespace":"hands-on","name":"review-v2","app":"review","version":"v2","rate_in":1.5}],"edges":[{"id":"svc:hands-on:review->wl:hands-on:review-v2","source":"svc:hands-on:review","target":"wl:hands-on:review-v2","rate":1.5,"share":19.0,"error_share":0.0,"p95_ms":null}],"splits":[{"namespace":"hands-on","service":"review","virtual_service":"review","route_index":1,"versions":[{"subset":"new","version":"v2","requested":20.0,"observed":19.0}],"rate":8.0,"samples":240.0,"tolerance":7.7,"agrees":true}],"metrics":{"fresh":true,"last_success":10.0},"window_seconds":30,"generated_at":10.0,"freshness":{"cluster":{"last_contact":9.5,"stale":false,"stale_after_seconds":4.0},"metrics":{"last_contact":null,"stale":true,"stale_after_seconds":10.0,"error":"connection refused"}}}}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerEvent>(&json).unwrap(),
            ServerEvent::Graph(graph)
        );
        // The stamp is additive: a graph or route list without it still reads.
        let old: Graph = serde_json::from_str(
            r#"{"nodes":[],"edges":[],"splits":[],"metrics":{"fresh":true},"window_seconds":30,"generated_at":1.0}"#,
        )
        .unwrap();
        assert_eq!(old.freshness, Freshness::default());
        let old: RoutesResponse = serde_json::from_str(r#"{"virtual_services":[]}"#).unwrap();
        assert_eq!(old.freshness, Freshness::default());
    }

    #[test]
    fn graph_delta_json_is_stable() {
        let delta = GraphDelta {
            base: 10.0,
            generated_at: 15.0,
            window_seconds: 30,
            metrics: MetricsStatus {
                fresh: true,
                last_success: Some(15.0),
                error: None,
            },
            freshness: Freshness::default(),
            nodes: delta::NodeRates {
                i: vec![2],
                rate_in: vec![1.5],
            },
            edges: delta::EdgeNumbers {
                i: vec![0],
                rate: vec![1.5],
                share: vec![Some(19.0)],
                error_share: vec![0.0],
                p95_ms: vec![None],
            },
            splits: delta::SplitNumbers {
                i: vec![0],
                rate: vec![8.0],
                samples: vec![240.0],
                tolerance: vec![7.7],
                agrees: vec![Some(true)],
                settling: vec![None],
                requested: vec![vec![80.0, 20.0]],
                observed: vec![vec![Some(79.0), None]],
            },
        };
        let json =
            serde_json::to_string(&ServerEvent::GraphDelta(Box::new(delta.clone()))).unwrap();
        assert_eq!(
            json,
            r#"{"type":"graph_delta","data":{"base":10.0,"generated_at":15.0,"window_seconds":30,"metrics":{"fresh":true,"last_success":15.0},"freshness":{"cluster":{"last_contact":null,"stale":false,"stale_after_seconds":0.0},"metrics":null},"nodes":{"i":[2],"rate_in":[1.5]},"edges":{"i":[0],"rate":[1.5],"share":[19.0],"error_share":[0.0],"p95_ms":[null]},"splits":{"i":[0],"rate":[8.0],"samples":[240.0],"tolerance":[7.7],"agrees":[true],"settling":[null],"requested":[[80.0,20.0]],"observed":[[79.0,null]]}}}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerEvent>(&json).unwrap(),
            ServerEvent::GraphDelta(Box::new(delta))
        );
    }

    #[test]
    fn shift_json_is_stable() {
        let req: ShiftRequest = serde_json::from_str(
            r#"{"targets":[{"namespace":"hands-on","name":"review"}],"weights":{"old":0,"new":100}}"#,
        )
        .unwrap();
        assert_eq!(req.targets[0].expected, None);
        assert_eq!(req.targets[0].kind, RouteKind::VirtualService);
        let res = ShiftResponse {
            results: vec![ShiftResult {
                namespace: "hands-on".into(),
                name: "review".into(),
                kind: RouteKind::VirtualService,
                outcome: ShiftOutcome::Failed,
                route_index: Some(1),
                message: "changed by someone else".into(),
                status: Some(409),
                virtual_service: None,
                http_route: None,
            }],
        };
        assert_eq!(
            serde_json::to_string(&res).unwrap(),
            r#"{"results":[{"namespace":"hands-on","name":"review","outcome":"failed","route_index":1,"message":"changed by someone else","status":409}]}"#
        );
    }

    #[test]
    fn settings_json_is_stable() {
        let settings = Settings {
            subsets: Subsets::new("blue", "green").unwrap(),
            windows: RateWindows {
                default_seconds: 30,
                offered_seconds: vec![30, 300],
            },
            backends: Backends::new("blue", "green").unwrap(),
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            json,
            r#"{"subsets":{"old":"blue","new":"green"},"windows":{"default_seconds":30,"offered_seconds":[30,300]},"backends":{"old_suffix":"blue","new_suffix":"green"}}"#
        );
        // A console from before the window choice sends no windows: one window of 30 s; from
        // before HTTPRoutes, no backends: v1 and v2.
        let old: Settings = serde_json::from_str(r#"{"subsets":{"old":"a","new":"b"}}"#).unwrap();
        assert_eq!(old.windows, RateWindows::default());
        assert_eq!(old.backends, Backends::default());
        assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), settings);
        assert!(serde_json::from_str::<Settings>(r#"{"subsets":{"old":"","new":"x"}}"#).is_err());
    }

    #[test]
    fn a_window_is_chosen_from_those_offered() {
        let windows = RateWindows {
            default_seconds: 60,
            offered_seconds: vec![30, 60, 300],
        };
        assert_eq!(windows.choose(None), Ok(60));
        assert_eq!(windows.choose(Some(300)), Ok(300));
        assert_eq!(
            windows.choose(Some(120)),
            Err("rate window 120 s is not offered; choose one of 30, 60, 300 (seconds)".into())
        );
    }

    #[test]
    fn change_record_json_is_stable() {
        let record = ChangeRecord {
            id: "c1".into(),
            time: "2026-11-27T10:00:00Z".into(),
            user: "jane".into(),
            source: "rollback".into(),
            namespace: "hands-on".into(),
            virtual_service: "review".into(),
            kind: RouteKind::VirtualService,
            route_index: 1,
            before: BTreeMap::from([("new".into(), 100), ("old".into(), 0)]),
            after: BTreeMap::from([("new".into(), 0), ("old".into(), 100)]),
            resource_version: "9".into(),
            operation: None,
        };
        let json = serde_json::to_string(&ServerEvent::Change(record.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"type":"change","data":{"id":"c1","time":"2026-11-27T10:00:00Z","user":"jane","source":"rollback","namespace":"hands-on","virtual_service":"review","route_index":1,"before":{"new":100,"old":0},"after":{"new":0,"old":100},"resource_version":"9"}}"#
        );
        // Records of one operation carry its id; records without one (older Events) still read.
        let grouped = ChangeRecord {
            operation: Some("op-1".into()),
            ..record.clone()
        };
        let json = serde_json::to_string(&grouped).unwrap();
        assert!(json.ends_with(r#""resource_version":"9","operation":"op-1"}"#));
        assert_eq!(
            serde_json::from_str::<ChangeRecord>(&json).unwrap(),
            grouped
        );
        // A record of an HTTPRoute says so; the key is the backend Service.
        let http = ChangeRecord {
            kind: RouteKind::HTTPRoute,
            before: BTreeMap::from([("review-v1".into(), 100), ("review-v2".into(), 0)]),
            after: BTreeMap::from([("review-v1".into(), 80), ("review-v2".into(), 20)]),
            ..record
        };
        let json = serde_json::to_string(&http).unwrap();
        assert!(
            json.contains(r#""virtual_service":"review","kind":"HTTPRoute","route_index":1"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<ChangeRecord>(&json).unwrap(), http);
    }
}
