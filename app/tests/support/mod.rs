//! Shared set-up for the console's integration tests: a simulated cluster on loopback, the
//! console's caches and refresher on it through kube-rs over real HTTP, and the console's router
//! served on loopback.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;
use switchyard_console::auth::{Auth, Mode};
use switchyard_console::cluster::Cluster;
use switchyard_console::live::{Live, LiveConfig};
use switchyard_console::metrics::Source;
use switchyard_console::{app, AppState};
use switchyard_protocol::Subsets;
use switchyard_sim::Simulation;
use switchyard_sim::Traffic;

pub struct Options {
    pub mode: Mode,
    /// Anonymous mode: whether the console accepts writes (as when listening on loopback).
    pub anonymous_writes: bool,
    pub source: Option<Source>,
    pub refresh: Duration,
    /// Simulated requests per second (0: no load generator).
    pub rps: f64,
    /// What the console calls old and new.
    pub subsets: Subsets,
    /// The demo namespace's manifest instead of demo/hands-on.yaml.
    pub manifest: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Anonymous,
            anonymous_writes: true,
            source: None,
            // Long enough that no refresh happens unless a test asks for one.
            refresh: Duration::from_secs(3600),
            rps: 0.0,
            subsets: Subsets::default(),
            manifest: None,
        }
    }
}

/// A simulated cluster with the demo namespace and a kubeconfig for it.
pub struct Sim {
    pub sim: Simulation,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
}

pub async fn simulation(rps: f64) -> Sim {
    simulation_with(rps, switchyard_sim::simulation::DEMO_MANIFEST).await
}

/// A simulated cluster with `manifest` in the demo namespace.
pub async fn simulation_with(rps: f64, manifest: &str) -> Sim {
    let traffic = Traffic {
        rps,
        test_share: 0.0,
        seed: 1,
    };
    let sim =
        Simulation::start_with_manifest("127.0.0.1:0".parse().unwrap(), Some(manifest), &traffic)
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    Sim {
        sim,
        kubeconfig,
        dir,
    }
}

pub struct TestConsole {
    pub sim: Simulation,
    pub client: kube::Client,
    pub cluster: Cluster,
    pub live: Live,
    /// `http://127.0.0.1:PORT` of the console.
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl TestConsole {
    /// `GET {path}` of the console, read as JSON (anonymous, no cookies).
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The console on a fresh simulated cluster, watching `hands-on`.
pub async fn console(options: Options) -> TestConsole {
    let Sim {
        sim,
        kubeconfig,
        dir,
    } = match &options.manifest {
        Some(manifest) => simulation_with(options.rps, manifest).await,
        None => simulation(options.rps).await,
    };
    let config = switchyard_console::cluster::config_from_kubeconfig(&kubeconfig, None)
        .await
        .unwrap();
    let client = kube::Client::try_from(config.clone()).unwrap();
    let namespaces = vec!["hands-on".to_owned()];
    let cluster = Cluster::start(client.clone(), &namespaces);
    tokio::time::timeout(Duration::from_secs(20), cluster.wait_ready())
        .await
        .expect("the caches fill");
    let live = Live::start(
        cluster.clone(),
        options.source,
        LiveConfig {
            interval: options.refresh,
            window: Duration::from_secs(30),
        },
    );
    let auth = Auth::new(
        options.mode,
        client.clone(),
        Some(config),
        options.anonymous_writes,
    )
    .scoped(namespaces);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = AppState::new(cluster.clone(), live.clone(), auth);
    state.subsets = options.subsets;
    let router = app(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestConsole {
        sim,
        client,
        cluster,
        live,
        base,
        http: reqwest::Client::new(),
        dir,
    }
}
