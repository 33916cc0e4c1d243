//! Shared set-up for the console's integration tests: a test cluster (the simulated one on
//! loopback, or the run's real kube-apiserver with a fresh namespace), the console's caches and
//! refresher on it through kube-rs over real HTTP, and the console's router served on loopback.

#![allow(dead_code)]

pub mod plans;
pub mod traffic;

use std::path::PathBuf;
use std::time::Duration;
use switchyard_console::auth::{Auth, Mode, SessionLimits, Sessions};
use switchyard_console::cluster::Cluster;
use switchyard_console::live::{Live, LiveConfig};
use switchyard_console::metrics::Source;
use switchyard_console::plans::{Plans, PlansConfig};
use switchyard_console::server::{self, ConnectionLimits};
use switchyard_console::state::AllowedHosts;
use switchyard_console::{app, AppState};
use switchyard_protocol::{Backends, Subsets};
use switchyard_sim::Simulation;
use switchyard_sim::Traffic;
pub use switchyard_testkit::{Kind, TestCluster, User};

pub struct Options {
    pub mode: Mode,
    /// The kubeconfig context the console runs as (default: the cluster's admin).
    pub context: Option<String>,
    /// Anonymous mode: whether the console accepts writes (as when listening on loopback).
    pub anonymous_writes: bool,
    pub source: Option<Source>,
    pub refresh: Duration,
    /// Simulated requests per second (0: no load generator).
    pub rps: f64,
    /// What the console calls old and new: subsets in VirtualServices, backend suffixes in
    /// HTTPRoutes.
    pub subsets: Subsets,
    pub backends: Backends,
    /// The demo namespace's manifest instead of demo/hands-on.yaml.
    pub manifest: Option<String>,
    /// The host names the console answers to besides loopback ones.
    pub allowed_hosts: AllowedHosts,
    /// Token mode: how long sessions last.
    pub sessions: SessionLimits,
    /// Token mode: the namespace of the session Secrets (default: the test's namespace).
    pub session_namespace: Option<String>,
    /// The listener's limits.
    pub connections: ConnectionLimits,
    /// Rate windows offered besides the default 30 s.
    pub window_choices: Vec<Duration>,
    /// Also the gateway demo's namespace (HTTPRoutes), watched by the console too.
    pub gateway: bool,
    /// Release plans: the Lease's duration and renewal, and the driver's tick (short in tests
    /// that wait for a takeover).
    pub lease_duration: Duration,
    pub lease_retry: Duration,
    pub plan_tick: Duration,
    /// Where the plan driver's Lease lives (default: the test's namespace).
    pub lease_namespace: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Anonymous,
            context: None,
            anonymous_writes: true,
            source: None,
            // Long enough that no refresh happens unless a test asks for one.
            refresh: Duration::from_secs(3600),
            rps: 0.0,
            subsets: Subsets::default(),
            backends: Backends::default(),
            manifest: None,
            allowed_hosts: AllowedHosts::default(),
            sessions: SessionLimits::default(),
            session_namespace: None,
            connections: ConnectionLimits::default(),
            window_choices: Vec::new(),
            gateway: false,
            lease_duration: Duration::from_secs(10),
            lease_retry: Duration::from_secs(2),
            plan_tick: Duration::from_millis(500),
            lease_namespace: None,
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
    /// The cluster under the console (shared by replicas); `kube.namespace` is the one it watches.
    pub kube: std::sync::Arc<TestCluster>,
    /// The namespace with the demo objects (`hands-on` on the simulated cluster).
    pub ns: String,
    /// With `Options::gateway`: the namespace with the gateway demo's HTTPRoutes.
    pub gateway_ns: Option<String>,
    /// kube-rs with the console's own credentials (the cluster's admin unless `Options::context`).
    pub client: kube::Client,
    pub cluster: Cluster,
    pub live: Live,
    /// This replica's release plans (its election and driver).
    pub plans: Plans,
    /// `http://127.0.0.1:PORT` of the console.
    pub base: String,
    pub http: reqwest::Client,
}

impl TestConsole {
    /// The in-process simulated cluster (simulated kind only).
    pub fn sim(&self) -> &Simulation {
        self.kube
            .sim
            .as_ref()
            .expect("this test runs on the simulated cluster only")
    }
}

impl TestConsole {
    /// The VirtualServices of the demo namespace, through the console's own kube-rs client.
    pub fn virtual_services(&self) -> kube::Api<kube::api::DynamicObject> {
        let gvk = kube::api::GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService");
        kube::Api::namespaced_with(
            self.client.clone(),
            &self.ns,
            &kube::api::ApiResource::from_gvk(&gvk),
        )
    }

    /// The weights of route 1 (the demo's old/new split) of `name`, as the cluster has them.
    pub async fn weights(&self, name: &str) -> Vec<u64> {
        let obj = self.virtual_services().get(name).await.unwrap().data;
        obj["spec"]["http"][1]["route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["weight"].as_u64().unwrap_or(0))
            .collect()
    }

    /// `GET {path}` of the console with a bearer `token`, read as JSON.
    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

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
    console_on(Kind::Simulated, options).await
}

/// The console on a test cluster of `kind`, watching the test's namespace with the admin's
/// credentials.
pub async fn console_on(kind: Kind, options: Options) -> TestConsole {
    let kube = if options.gateway {
        TestCluster::start_with_gateway(kind, options.rps).await
    } else {
        TestCluster::start_with_manifest(kind, options.rps, options.manifest.as_deref()).await
    };
    attach(std::sync::Arc::new(kube), options).await
}

/// A console (one more replica, if others run) on an existing test cluster.
pub async fn attach(kube: std::sync::Arc<TestCluster>, options: Options) -> TestConsole {
    let config = match &options.context {
        Some(context) => kube.config_for_context(context).await,
        None => kube.config(User::Admin).await,
    };
    let client = kube::Client::try_from(config.clone()).unwrap();
    let namespaces: Vec<String> = std::iter::once(kube.namespace.clone())
        .chain(kube.gateway_namespace.clone())
        .collect();
    let cluster = Cluster::start(client.clone(), &namespaces);
    tokio::time::timeout(Duration::from_secs(30), cluster.wait_ready())
        .await
        .expect("the caches fill");
    let live = Live::start(
        cluster.clone(),
        options.source,
        LiveConfig {
            interval: options.refresh,
            window: Duration::from_secs(30),
            choices: options.window_choices.clone(),
            reporters: Default::default(),
        },
    );
    let token_mode = matches!(options.mode, Mode::Token);
    let mut auth = Auth::new(
        options.mode,
        client.clone(),
        Some(config),
        options.anonymous_writes,
    )
    .scoped(namespaces);
    if token_mode {
        // Replicas on one cluster share the sessions: the Secrets in the watched namespace.
        let namespace = options
            .session_namespace
            .clone()
            .unwrap_or_else(|| kube.namespace.clone());
        auth = auth.with_sessions(Sessions::new(client.clone(), &namespace, options.sessions));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Replicas on one cluster elect their plan driver on one Lease in the test's namespace.
    let lease_namespace = options
        .lease_namespace
        .clone()
        .unwrap_or_else(|| kube.namespace.clone());
    let mut plan_config = PlansConfig::new(
        &lease_namespace,
        options.subsets.clone(),
        options.backends.clone(),
    );
    plan_config.lease_duration = options.lease_duration;
    plan_config.retry = options.lease_retry;
    plan_config.tick = options.plan_tick;
    let plans = Plans::start(cluster.clone(), live.clone(), plan_config);
    let mut state = AppState::new(cluster.clone(), live.clone(), auth).with_plans(plans.clone());
    state.subsets = options.subsets;
    state.backends = options.backends;
    state.allowed_hosts = options.allowed_hosts;
    let router = app(state);
    let limits = options.connections;
    tokio::spawn(server::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    TestConsole {
        ns: kube.namespace.clone(),
        gateway_ns: kube.gateway_namespace.clone(),
        kube,
        client,
        cluster,
        live,
        plans,
        base,
        http: reqwest::Client::new(),
    }
}

/// Polls `GET /api/v1/history` until it holds at least `n` changes (30 s at most).
pub async fn history_until(
    http: &reqwest::Client,
    base: &str,
    n: usize,
) -> switchyard_protocol::HistoryResponse {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let h: switchyard_protocol::HistoryResponse = http
                .get(format!("{base}/api/v1/history"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if h.changes.len() >= n {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the history records the changes")
}

/// Polls `check` until it gives a value (every 100 ms, 30 s at most); panics naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within 30 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` every 200 ms until it returns `Some`, for at most `limit`; panics naming `what`
/// (with the last value seen, when `check` reports one through `last`) when it never does.
pub async fn poll_until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}; last seen: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
