//! Wires the simulated cluster (API server, mesh, pod controller, load generator) for `switchyard
//! sim` and `switchyard demo`, and the console onto it for the demo.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::TrafficArgs;
use crate::sim::api::{self, Authenticator};
use crate::sim::mesh::{self, LoadConfig, Mesh};
use crate::sim::store::Store;

/// The demo namespace.
pub const DEMO_NAMESPACE: &str = "hands-on";

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
    pub async fn start(
        listen: SocketAddr,
        empty: bool,
        traffic: &TrafficArgs,
    ) -> anyhow::Result<Self> {
        let store = Store::new();
        if !empty {
            api::load_manifest(&store, DEMO_NAMESPACE, api::DEMO_MANIFEST)
                .map_err(|e| anyhow::anyhow!("loading the demo manifest: {e}"))?;
        }
        let auth = Authenticator::demo();
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
        if traffic.rps > 0.0 {
            let cfg = LoadConfig {
                namespace: DEMO_NAMESPACE.to_owned(),
                entry: "product-composite".to_owned(),
                rps: traffic.rps,
                test_header_share: traffic.test_share,
                seed: traffic.seed,
            };
            let mut stopped = stopped;
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

    /// A kube-rs client for this cluster, through a kubeconfig as any user would connect.
    pub async fn client(&self, kubeconfig: &Path) -> anyhow::Result<kube::Client> {
        Ok(kube::Client::try_from(
            config_from_kubeconfig(kubeconfig, None).await?,
        )?)
    }
}

/// A kube-rs client configuration from a kubeconfig file and optional context.
pub async fn config_from_kubeconfig(
    path: &Path,
    context: Option<String>,
) -> anyhow::Result<kube::Config> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    let options = kube::config::KubeConfigOptions {
        context,
        ..Default::default()
    };
    Ok(kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?)
}

/// Where the demo writes its kubeconfig when the user did not ask for one.
pub fn default_kubeconfig_path() -> PathBuf {
    std::env::temp_dir().join(format!("switchyard-demo-{}.kubeconfig", std::process::id()))
}
