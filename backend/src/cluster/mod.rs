//! The console's access to Kubernetes objects: watches (reflectors) keep VirtualServices,
//! HTTPRoutes, DestinationRules, Services, Deployments and the history Events of the namespaces in
//! scope current, handlers read those caches, and weight changes go out as JSON Patches guarded by
//! `test` operations, with the caller's own credentials. Every weight change seen through the
//! watch is recorded in the cluster as an Event. (Who the caller is and what they may do is
//! `auth/`'s business.) Both kinds of route object go through the same code, told apart by a
//! [`RouteKind`]; where they differ (where the routes are, how a destination is read, what must
//! exist before traffic is sent to it) `kinds.rs` says so.
//!
//! | file | job |
//! |---|---|
//! | `start.rs` | start the reflectors, wait for the first list |
//! | `cache.rs` | reads from the caches (routes, topology, history) |
//! | `write.rs` | `set_weights`: the guarded patch |
//! | `shift.rs` | bulk shift and rollback over several route objects of both kinds, typed per-target results |
//! | `kinds.rs` | where a VirtualService and an HTTPRoute differ: resource, rules pointer, view |
//! | `watch.rs` | the watch loops and the change channel; re-lists after failures and outages |
//! | `contact.rs` | last contact with the API server (watch events, the probe), readiness |
//! | `recorder.rs` | writes the history Events |
//! | `plans.rs` | release plans: the ReleasePlan objects, their status and evidence Events, and `write_plan_step`, the one way a plan's weights go out |
//! | `lease.rs` | the `coordination.k8s.io` Lease the replicas elect their plan driver with |
//! | `error.rs` | the typed error |
//! | `connect.rs` | a client configuration from a kubeconfig |
//! | `view.rs`, `weights.rs`, `history.rs`, `plan_object.rs` | pure: route view, patch planning, history records, the ReleasePlan's stored form |

mod cache;
pub mod connect;
pub mod contact;
mod error;
pub mod history;
pub mod kinds;
mod lease;
pub mod plan_object;
mod plans;
mod recorder;
mod shift;
mod start;
pub mod view;
mod watch;
pub mod weights;
mod write;

pub use connect::config_from_kubeconfig;
pub use error::{Current, Error};
pub use lease::{LeaseState, LeaseWrite};
pub use plans::{release_plan_resource, split_of, target_label, StepOutcome};
pub use shift::{OldNewNames, ShiftAttempt, Shifted};
pub use write::{Actor, WeightChange};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Service};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::Store;
use std::sync::Arc;
use switchyard_protocol::{
    ChangeRecord, HttpRouteRoutes, Plan, PlanRecord, RouteKind, VirtualServiceRoutes,
};
use tokio::sync::broadcast;

/// A change seen through the watches, after the cache applied it.
#[derive(Clone, Debug)]
pub enum Change {
    VirtualServiceChanged(VirtualServiceRoutes),
    VirtualServiceDeleted {
        namespace: String,
        name: String,
    },
    HttpRouteChanged(HttpRouteRoutes),
    HttpRouteDeleted {
        namespace: String,
        name: String,
    },
    /// The cache re-listed (start or reconnect): consumers should take a fresh snapshot.
    Resynced,
    /// Services, Deployments or DestinationRules changed: the graph's topology is different.
    TopologyChanged,
    /// A weight change was recorded in the history.
    Recorded(ChangeRecord),
    /// The contact with the API server turned stale, or fresh again.
    Freshness,
    /// A release plan was created or changed.
    PlanChanged(Box<Plan>),
    /// A release plan was deleted.
    PlanDeleted {
        namespace: String,
        id: String,
    },
    /// A piece of a plan's evidence was recorded (its Event).
    PlanRecorded(Box<PlanRecord>),
}

/// Cheap to clone handle on the cluster and its caches.
#[derive(Clone)]
pub struct Cluster {
    scopes: Arc<Vec<Scope>>,
    /// The console's own client: the plan driver's writes, the Lease.
    client: kube::Client,
    changes: broadcast::Sender<Change>,
    contact: contact::Tracker,
}

/// The caches of one namespace.
struct Scope {
    namespace: String,
    virtual_services: Store<DynamicObject>,
    http_routes: Store<DynamicObject>,
    destination_rules: Store<DynamicObject>,
    services: Store<Service>,
    deployments: Store<Deployment>,
    events: Store<Event>,
    plans: Store<DynamicObject>,
}

fn virtual_service_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    )
}

fn http_route_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(crate::gateway::GROUP, crate::gateway::VERSION, "HTTPRoute"),
        crate::gateway::PLURAL,
    )
}

/// The kube-rs resource of a route object kind.
fn route_resource(kind: RouteKind) -> ApiResource {
    match kind {
        RouteKind::VirtualService => virtual_service_resource(),
        RouteKind::HTTPRoute => http_route_resource(),
    }
}

fn destination_rule_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "DestinationRule"),
        "destinationrules",
    )
}
