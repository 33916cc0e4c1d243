//! `switchyard mesh`: the simulated mesh routing by the objects of any Kubernetes API server. One
//! kube-rs watcher per kind and namespace (Services, Deployments, VirtualServices,
//! DestinationRules, HTTPRoutes, as `DynamicObject`s) pushes every list and change into the
//! simulator's `ObjectFeed`; the mesh compiles from it, the load generator sends into it, and
//! Istio's `/metrics` is served from it. Pods are not watched: where no controller runs (a bare
//! kube-apiserver) there are none, and the feed derives the workloads from the Deployments. On a
//! cluster without the Gateway API CRDs there are no HTTPRoutes (their list is 404): the watch
//! counts as listed, empty, and keeps asking.

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use switchyard_sim::mesh::{self, Kind, LoadConfig, Mesh, ObjectFeed};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The watchers feeding one [`ObjectFeed`]. Dropping it stops them.
pub struct MeshFeed {
    feed: ObjectFeed,
    /// The watchers (`kind in namespace`) that have not delivered their first complete list.
    pending: watch::Receiver<BTreeSet<String>>,
    tasks: Vec<JoinHandle<()>>,
}

impl MeshFeed {
    /// Starts watching the four kinds in each of `namespaces`.
    pub fn start(client: kube::Client, namespaces: &[String]) -> Self {
        let feed = ObjectFeed::new();
        let labels: BTreeSet<String> = namespaces
            .iter()
            .flat_map(|ns| Kind::ALL.map(|kind| label(kind, ns)))
            .collect();
        let (pending_tx, pending) = watch::channel(labels);
        let pending_tx = Arc::new(pending_tx);
        let mut tasks = Vec::new();
        for namespace in namespaces {
            for kind in Kind::ALL {
                tasks.push(tokio::spawn(follow(
                    client.clone(),
                    kind,
                    namespace.clone(),
                    feed.clone(),
                    pending_tx.clone(),
                )));
            }
        }
        MeshFeed {
            feed,
            pending,
            tasks,
        }
    }

    pub fn feed(&self) -> &ObjectFeed {
        &self.feed
    }

    /// A mesh that routes by what the watchers have seen.
    pub fn mesh(&self) -> Mesh {
        Mesh::with_source(Arc::new(self.feed.clone()))
    }

    /// Resolves once every watcher has delivered its first complete list.
    pub async fn wait_synced(&self) {
        let mut pending = self.pending.clone();
        // The sender lives in the watcher tasks; if they are all gone there is nothing to wait for.
        let _ = pending.wait_for(BTreeSet::is_empty).await;
    }

    /// The watchers (`kind in namespace`) still waiting for their first list.
    pub fn pending(&self) -> Vec<String> {
        self.pending.borrow().iter().cloned().collect()
    }
}

impl Drop for MeshFeed {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn label(kind: Kind, namespace: &str) -> String {
    format!("{} in {namespace}", kind.plural())
}

fn api_resource(kind: Kind) -> ApiResource {
    let (group, version, name) = kind.group_version_kind();
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, name), kind.plural())
}

/// Follows one kind in one namespace until the task is aborted. A failing watch (API server
/// unreachable, a kind the cluster does not serve) is retried with kube-rs' default backoff.
async fn follow(
    client: kube::Client,
    kind: Kind,
    namespace: String,
    feed: ObjectFeed,
    pending: Arc<watch::Sender<BTreeSet<String>>>,
) {
    let api: Api<DynamicObject> = Api::namespaced_with(client, &namespace, &api_resource(kind));
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let label = label(kind, &namespace);
    let mut listing: Vec<serde_json::Value> = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => listing.clear(),
            Ok(watcher::Event::InitApply(object)) => {
                if let Some(value) = to_value(&object, &label) {
                    listing.push(value);
                }
            }
            Ok(watcher::Event::InitDone) => {
                if let Err(errors) = feed.replace(kind, &namespace, std::mem::take(&mut listing)) {
                    for e in errors {
                        tracing::warn!(watch = %label, "{e}; skipped");
                    }
                }
                pending.send_if_modified(|p| p.remove(&label));
            }
            Ok(watcher::Event::Apply(object)) => {
                if let Some(value) = to_value(&object, &label) {
                    if let Err(e) = feed.apply(kind, value) {
                        tracing::warn!(watch = %label, "{e}; skipped");
                    }
                }
            }
            Ok(watcher::Event::Delete(object)) => {
                feed.delete(kind, &namespace, &object.name_any());
            }
            Err(watcher::Error::InitialListFailed(kube::Error::Api(status)))
                if status.code == 404 && kind == Kind::HttpRoute =>
            {
                if pending.borrow().contains(&label) {
                    tracing::info!(watch = %label, "not served (no Gateway API CRDs?); routing without HTTPRoutes, asking again");
                }
                let _ = feed.replace(kind, &namespace, Vec::new());
                pending.send_if_modified(|p| p.remove(&label));
            }
            Err(e) => tracing::warn!(watch = %label, error = %e, "watch failed; retrying"),
        }
    }
}

fn to_value(object: &DynamicObject, label: &str) -> Option<serde_json::Value> {
    match serde_json::to_value(object) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::warn!(watch = %label, error = %e, "object not readable as JSON; skipped");
            None
        }
    }
}

/// Serves the mesh's `/metrics` on `listener` and runs a load generator for each of `loads` that
/// asks for a positive rate, all until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    mesh: Mesh,
    loads: Vec<LoadConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    for config in loads
        .into_iter()
        .filter(|c| c.rps.is_finite() && c.rps > 0.0)
    {
        let mut stopped = stopped.clone();
        let until = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        tokio::spawn(mesh::run_load(mesh.clone(), config, until));
    }
    let result = axum::serve(listener, mesh::metrics_router(mesh))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop.send(true);
    result
}
