//! Starts a whole simulated cluster in-process: the API server, the pod controller, the mesh with
//! its `/metrics`, and the load generator.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, Authenticator};
use crate::mesh::{self, LoadConfig, Mesh};
use crate::store::Store;

/// Simulated traffic into the demo namespace's entry service.
#[derive(Clone, Debug)]
pub struct Traffic {
    /// Requests per second into the entry service (`product-composite` unless told otherwise); 0
    /// starts no load.
    pub rps: f64,
    /// Share of requests that carry the test header.
    pub test_share: f64,
    /// Seed of the load generator.
    pub seed: u64,
}

/// The demo namespace.
pub const DEMO_NAMESPACE: &str = "hands-on";

/// The service of the built-in demo that the load goes into.
pub const DEMO_ENTRY: &str = "product-composite";

/// What the demo namespace holds unless told otherwise (demo/hands-on.yaml).
pub const DEMO_MANIFEST: &str = api::DEMO_MANIFEST;

/// The second demo namespace (`switchyard demo --gateway-demo`): the shop routed by Gateway API
/// HTTPRoutes behind an ambient waypoint.
pub const GATEWAY_NAMESPACE: &str = "hands-on-gateway";

/// What the second demo namespace holds (demo/hands-on-gateway.yaml); its load also enters at
/// [`DEMO_ENTRY`].
pub const GATEWAY_MANIFEST: &str = api::GATEWAY_MANIFEST;

/// One namespace a simulation loads: its objects (multi-document YAML, as for `kubectl apply
/// -f`) and the service its load enters at.
#[derive(Clone, Copy, Debug)]
pub struct Namespace<'a> {
    pub name: &'a str,
    pub manifest: &'a str,
    pub entry: &'a str,
}

/// A running simulated cluster.
pub struct Simulation {
    pub store: Store,
    pub mesh: Mesh,
    pub auth: Authenticator,
    /// `http://127.0.0.1:PORT` of the Kubernetes API (and `/metrics`).
    pub url: String,
    pub addr: SocketAddr,
    /// Dropping this stops the load generator.
    _stop_load: watch::Sender<bool>,
}

impl Simulation {
    /// Starts the simulated cluster on `listen`, with the demo namespace unless `empty`.
    pub async fn start(listen: SocketAddr, empty: bool, traffic: &Traffic) -> anyhow::Result<Self> {
        let manifest = (!empty).then_some(DEMO_MANIFEST);
        Self::start_with_manifest(listen, manifest, traffic).await
    }

    /// Starts the simulated cluster on `listen` with `manifest` (multi-document YAML, as for
    /// `kubectl apply -f`) loaded into the demo namespace, or empty without one.
    pub async fn start_with_manifest(
        listen: SocketAddr,
        manifest: Option<&str>,
        traffic: &Traffic,
    ) -> anyhow::Result<Self> {
        Self::start_with_entry(listen, manifest, DEMO_ENTRY, traffic).await
    }

    /// As [`Simulation::start_with_manifest`], with the load going into service `entry` of the
    /// demo namespace (a generated mesh's is [`crate::generate::ENTRY`]).
    pub async fn start_with_entry(
        listen: SocketAddr,
        manifest: Option<&str>,
        entry: &str,
        traffic: &Traffic,
    ) -> anyhow::Result<Self> {
        let namespaces: Vec<Namespace> = manifest
            .map(|manifest| Namespace {
                name: DEMO_NAMESPACE,
                manifest,
                entry,
            })
            .into_iter()
            .collect();
        Self::start_with_namespaces(listen, &namespaces, traffic).await
    }

    /// Starts the simulated cluster on `listen` with each of `namespaces` loaded, and (when
    /// `traffic.rps` is above 0) the load going into each one's entry service at that rate.
    pub async fn start_with_namespaces(
        listen: SocketAddr,
        namespaces: &[Namespace<'_>],
        traffic: &Traffic,
    ) -> anyhow::Result<Self> {
        let store = Store::new();
        for namespace in namespaces {
            api::load_manifest(&store, namespace.name, namespace.manifest).map_err(|e| {
                anyhow::anyhow!("loading the manifest of namespace {}: {e}", namespace.name)
            })?;
        }
        let auth = tokens_from_env().unwrap_or_else(Authenticator::demo);
        let mesh = Mesh::new(store.clone());
        mesh::run_pod_controller(store.clone());
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding the simulated cluster to {listen}"))?;
        let addr = listener.local_addr()?;
        let app =
            api::router(store.clone(), auth.clone()).merge(mesh::metrics_router(mesh.clone()));
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "simulated cluster stopped");
            }
        });
        let (stop_load, stopped) = watch::channel(false);
        for (i, namespace) in namespaces.iter().enumerate() {
            if traffic.rps <= 0.0 {
                break;
            }
            let cfg = LoadConfig {
                namespace: namespace.name.to_owned(),
                entry: namespace.entry.to_owned(),
                rps: traffic.rps,
                test_header_share: traffic.test_share,
                // Each namespace's load its own sequence, the first as before.
                seed: traffic.seed.wrapping_add(i as u64),
            };
            let mut stopped = stopped.clone();
            let shutdown = async move {
                // Resolves when the sender is dropped, i.e. when the simulation is.
                while stopped.changed().await.is_ok() {}
            };
            tokio::spawn(mesh::run_load(mesh.clone(), cfg, shutdown));
        }
        Ok(Simulation {
            store,
            mesh,
            auth,
            url: format!("http://{addr}"),
            addr,
            _stop_load: stop_load,
        })
    }

    /// Writes a kubeconfig for this cluster: context `switchyard-sim` (admin, current), and
    /// `switchyard-sim-operator` and `switchyard-sim-viewer` with those users' tokens.
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        let users = [
            ("", self.auth.admin_token()),
            ("operator", self.auth.operator_token()),
            ("viewer", self.auth.viewer_token()),
        ];
        api::write_kubeconfig_users(path, &self.url, &users, DEMO_NAMESPACE)
            .with_context(|| format!("writing kubeconfig {}", path.display()))
    }
}

/// Where the demo writes its kubeconfig when the user did not ask for one.
pub fn default_kubeconfig_path() -> PathBuf {
    std::env::temp_dir().join(format!("switchyard-demo-{}.kubeconfig", std::process::id()))
}

/// `SWITCHYARD_SIM_TOKENS=ADMIN,OPERATOR,VIEWER`: fixed tokens instead of fresh ones, so a
/// simulated cluster restarted with fresh state (fault tests) accepts the credentials its clients
/// already hold, as a restarted kube-apiserver keeps its token file.
fn tokens_from_env() -> Option<Authenticator> {
    let value = std::env::var("SWITCHYARD_SIM_TOKENS").ok()?;
    match value.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [admin, operator, viewer]
            if !admin.is_empty() && !operator.is_empty() && !viewer.is_empty() =>
        {
            Some(Authenticator::with_tokens(admin, operator, viewer))
        }
        _ => {
            tracing::warn!(
                "SWITCHYARD_SIM_TOKENS is not ADMIN,OPERATOR,VIEWER; using fresh tokens"
            );
            None
        }
    }
}
