//! The simulated Istio mesh: routes requests by the live VirtualServices and DestinationRules of
//! the simulated cluster, simulates each workload's latency and errors, and records what Istio's
//! sidecars would report.
//!
//! The topology is compiled from an [`ObjectSource`] and recompiled on the first request after its
//! revision moves, so an edit through the console, kubectl or the API changes routing on the next
//! request. The source is the in-process store (the demo, `switchyard sim`) or an [`ObjectFeed`]
//! that a watcher of any API server fills (`switchyard mesh`). Endpoints are the ready Pods a
//! Service selects; in the store, [`run_pod_controller`] keeps Pods in step with Deployments (tests
//! may call [`reconcile_pods`] instead); a feed has no Pods and derives them from Deployments.
//!
//! Annotations a user writes on a Deployment (or a bare Pod) — see [`topology`] for formats:
//! `sim.switchyard.dev/calls`, `sim.switchyard.dev/latency`, `sim.switchyard.dev/error-rate`,
//! `sim.switchyard.dev/error-code`.

pub mod controller;
pub mod load;
pub mod metrics;
pub mod routing;
pub mod source;
pub mod topology;

pub use controller::{reconcile_pods, run_pod_controller};
pub use load::{run_load, LoadConfig, LoadGenerator};
pub use metrics::{ResponseFlags, Series, SeriesLabels};
pub use source::{FeedError, Kind, ObjectFeed, ObjectSource};
pub use topology::{
    ANNOTATION_CALLS, ANNOTATION_ERROR_CODE, ANNOTATION_ERROR_RATE, ANNOTATION_LATENCY,
};

use crate::store::Store;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics::Registry;
use routing::{Request, Walk};
use std::sync::{Arc, Mutex, RwLock};
use topology::Topology;

/// The content type of the Prometheus text format this simulator serves.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the client of one request saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// HTTP status; 0 when the request could not be placed (no such service, no ready pod).
    pub status: u16,
    pub flags: ResponseFlags,
    pub duration_ms: f64,
    /// The workload of the entry service that served the request.
    pub served_by: Option<Arc<str>>,
}

/// The simulated mesh over one object source. Cheap to clone; all clones share topology and
/// counters.
#[derive(Clone)]
pub struct Mesh {
    inner: Arc<Inner>,
}

struct Inner {
    source: Arc<dyn ObjectSource>,
    /// The store, when the source is the in-process one (for tests and tools that edit it).
    store: Option<Store>,
    registry: Registry,
    topology: RwLock<Arc<Topology>>,
    /// Serialises recompiles and remembers the last warnings, so they are logged once.
    rebuild: Mutex<Vec<String>>,
}

impl Mesh {
    /// The mesh of the in-process store.
    pub fn new(store: Store) -> Self {
        Self::build(Arc::new(store.clone()), Some(store))
    }

    /// The mesh of any object source, e.g. an [`ObjectFeed`] filled by a watcher.
    pub fn with_source(source: Arc<dyn ObjectSource>) -> Self {
        Self::build(source, None)
    }

    fn build(source: Arc<dyn ObjectSource>, store: Option<Store>) -> Self {
        Mesh {
            inner: Arc::new(Inner {
                source,
                store,
                registry: Registry::new(),
                topology: RwLock::new(Arc::new(Topology::empty())),
                rebuild: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The in-process store this mesh reads, if it was made with [`Mesh::new`].
    pub fn store(&self) -> Option<&Store> {
        self.inner.store.as_ref()
    }

    /// The compiled topology of the source's current revision.
    pub fn topology(&self) -> Arc<Topology> {
        let current = self.current_topology();
        if current.revision() == self.inner.source.revision() {
            return current;
        }
        // The lock guards nothing but itself and a Vec of strings: a poisoned one is still usable.
        let mut last_warnings = self.inner.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        // Another request may have recompiled while this one waited.
        let current = self.current_topology();
        if current.revision() == self.inner.source.revision() {
            return current;
        }
        let (objects, revision) = self.inner.source.objects();
        let compiled = Arc::new(Topology::compile(&objects, revision, &self.inner.registry));
        if compiled.warnings != *last_warnings {
            for warning in &compiled.warnings {
                tracing::warn!("{warning}");
            }
            last_warnings.clone_from(&compiled.warnings);
        }
        *self
            .inner
            .topology
            .write()
            .unwrap_or_else(|e| e.into_inner()) = compiled.clone();
        compiled
    }

    fn current_topology(&self) -> Arc<Topology> {
        self.inner
            .topology
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends one request from outside the mesh into service `entry` of `namespace`, as a load
    /// generator would, and follows the calls every workload makes; every sidecar on the way
    /// records the request. Header names are case-insensitive; `:path` and `:method` may be set.
    pub fn send(
        &self,
        namespace: &str,
        entry: &str,
        headers: &[(String, String)],
        rng: &mut impl rand::Rng,
    ) -> Outcome {
        let topology = self.topology();
        let Some(service) = topology.service_index(namespace, entry) else {
            return Outcome {
                status: 0,
                flags: ResponseFlags::UF,
                duration_ms: 0.0,
                served_by: None,
            };
        };
        let mut sink = &self.inner.registry;
        let mut walk = Walk {
            topology: &topology,
            rng,
            sink: &mut sink,
        };
        let result = walk.from_outside(
            service,
            Request {
                headers,
                pseudo: true,
            },
        );
        Outcome {
            status: result.status,
            flags: result.flags,
            duration_ms: result.duration_us as f64 / 1000.0,
            served_by: result.served_by.map(|w| topology.workloads[w].name.clone()),
        }
    }

    /// Every series recorded since this mesh was created, with its labels (what the demo reads
    /// when it runs without Prometheus).
    pub fn snapshot(&self) -> Vec<Series> {
        self.inner.registry.snapshot()
    }

    /// Prometheus text format 0.0.4, as an Istio sidecar's stats endpoint serves it.
    pub fn render_metrics(&self) -> String {
        self.inner.registry.render()
    }

    /// Problems in the current objects (unknown hosts, undefined subsets, bad annotations).
    pub fn warnings(&self) -> Vec<String> {
        self.topology().warnings.clone()
    }
}

/// `GET /metrics` (and Envoy's `/stats/prometheus`) serving the mesh's exposition.
pub fn metrics_router(mesh: Mesh) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/stats/prometheus", get(serve_metrics))
        .with_state(mesh)
}

async fn serve_metrics(State(mesh): State<Mesh>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        mesh.render_metrics(),
    )
}

#[cfg(test)]
mod tests;
