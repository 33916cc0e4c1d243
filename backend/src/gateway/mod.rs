//! Gateway API's rules the console relies on, as pure functions over HTTPRoute objects
//! (`gateway.networking.k8s.io/v1`; no I/O, no clock), shared by `cluster/` (the route view, the
//! backend check before a write, the history) and `graph/` (requested vs observed splits of
//! routes attached to a Service). The facts and their public sources are in
//! `docs/gateway-api.md`:
//!
//! - a backendRef's share is its weight ÷ the sum of its rule's weights; a backendRef without a
//!   weight counts as 1; weight 0 gets no traffic; weights are 0 to 1,000,000
//!   ([`http_route::weight_of`], `switchyard_protocol::backend_shares`);
//! - in a mesh (GAMMA) a route applies to the traffic of the Services it names as `parentRefs`
//!   of kind `Service` in the core group ([`http_route::parent_services`]).

pub mod http_route;

/// The largest weight a backendRef may have (the CRD's `maximum`).
pub const MAX_WEIGHT: u32 = 1_000_000;

/// The API group, version and plural of HTTPRoutes.
pub const GROUP: &str = "gateway.networking.k8s.io";
pub const VERSION: &str = "v1";
pub const PLURAL: &str = "httproutes";
