//! Test clusters behind one interface, so one test body runs against both: the simulated cluster
//! (`switchyard-sim`, in-process, one per test) and a real kube-apiserver with etcd
//! (`scripts/real-cluster.sh`, one per test run, a fresh namespace per test).
//!
//! Which clusters a test run covers: `SWITCHYARD_CLUSTERS` = `sim`, `real` or `sim,real`
//! (default `sim,real`). The real cluster is the one named by `SWITCHYARD_REAL_KUBECONFIG` (as
//! `scripts/test.sh` starts it once for all test binaries), or else one started by this process and
//! stopped when it exits. Nothing here skips silently: a real cluster that cannot start is a
//! failure with the script's output.

pub mod prometheus;
mod real;
mod real_restartable;
mod sim_process;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub use prometheus::Prometheus;
pub use real::RealCluster;
pub use real_restartable::RestartableApiServer;
pub use sim_process::SimProcess;
use switchyard_sim::{Simulation, Traffic};

/// Which kind of API server a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Simulated,
    Real,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Simulated => "simulated",
            Kind::Real => "real",
        })
    }
}

/// The kinds this run covers (`SWITCHYARD_CLUSTERS`, default both).
pub fn kinds() -> Vec<Kind> {
    let wanted = std::env::var("SWITCHYARD_CLUSTERS").unwrap_or_else(|_| "sim,real".into());
    let mut kinds = Vec::new();
    for word in wanted.split(',').map(str::trim) {
        match word {
            "sim" | "simulated" => kinds.push(Kind::Simulated),
            "real" => kinds.push(Kind::Real),
            "" => {}
            other => panic!("SWITCHYARD_CLUSTERS: unknown cluster kind {other:?} (sim, real)"),
        }
    }
    kinds
}

/// The users every test cluster knows, with the same groups and rights on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    /// In `system:masters`.
    Admin,
    /// Reads everything, creates Events, patches VirtualServices in the test namespace.
    Operator,
    /// Reads everything.
    Viewer,
}

/// One test's cluster: a kubeconfig with a context per user, and the namespace holding the demo
/// objects (`demo/hands-on.yaml`) for this test alone (and, when asked for, one with the gateway
/// demo).
pub struct TestCluster {
    pub kind: Kind,
    /// The API server, e.g. `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub url: String,
    pub kubeconfig: PathBuf,
    /// The namespace with the demo services, DestinationRules and VirtualServices.
    pub namespace: String,
    /// With [`TestCluster::start_with_gateway`]: the namespace with the gateway demo
    /// (`demo/hands-on-gateway.yaml`: the services routed by HTTPRoutes), `hands-on-gateway` on
    /// the simulated cluster.
    pub gateway_namespace: Option<String>,
    contexts: [String; 3],
    tokens: [String; 3],
    ca_pem: Option<Vec<u8>>,
    /// The in-process simulated cluster (simulated kind only).
    pub sim: Option<Simulation>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    /// A cluster of `kind` for one test, with the demo objects in a namespace of its own.
    /// `rps` starts the simulated load generator (simulated kind; the real cluster gets traffic
    /// from `switchyard mesh`).
    pub async fn start(kind: Kind, rps: f64) -> TestCluster {
        Self::start_with_manifest(kind, rps, None).await
    }

    /// Like [`TestCluster::start`], with `manifest` (kubectl-appliable YAML) in the test's
    /// namespace instead of `demo/hands-on.yaml`.
    pub async fn start_with_manifest(kind: Kind, rps: f64, manifest: Option<&str>) -> TestCluster {
        match kind {
            Kind::Simulated => Self::simulated(rps, manifest, false).await,
            Kind::Real => Self::real(manifest, false).await,
        }
    }

    /// Like [`TestCluster::start`], with a second namespace holding the gateway demo
    /// (`demo/hands-on-gateway.yaml`, applied with kubectl on the real cluster), its name in
    /// `gateway_namespace`; the simulated load (`rps`) goes into both.
    pub async fn start_with_gateway(kind: Kind, rps: f64) -> TestCluster {
        match kind {
            Kind::Simulated => Self::simulated(rps, None, true).await,
            Kind::Real => Self::real(None, true).await,
        }
    }

    async fn simulated(rps: f64, manifest: Option<&str>, gateway: bool) -> TestCluster {
        use switchyard_sim::simulation::{self as demo, Namespace};
        let traffic = Traffic {
            rps,
            test_share: 0.0,
            seed: 1,
        };
        let manifest = manifest.unwrap_or(demo::DEMO_MANIFEST);
        let mut namespaces = vec![Namespace {
            name: demo::DEMO_NAMESPACE,
            manifest,
            entry: demo::DEMO_ENTRY,
        }];
        if gateway {
            namespaces.push(Namespace {
                name: demo::GATEWAY_NAMESPACE,
                manifest: demo::GATEWAY_MANIFEST,
                entry: demo::DEMO_ENTRY,
            });
        }
        let sim = Simulation::start_with_namespaces(
            "127.0.0.1:0".parse().expect("loopback"),
            &namespaces,
            &traffic,
        )
        .await
        .expect("the simulated cluster starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)
            .expect("the simulated cluster's kubeconfig is written");
        TestCluster {
            kind: Kind::Simulated,
            url: sim.url.clone(),
            kubeconfig,
            namespace: switchyard_sim::DEMO_NAMESPACE.to_owned(),
            gateway_namespace: gateway.then(|| demo::GATEWAY_NAMESPACE.to_owned()),
            contexts: [
                "switchyard-sim".into(),
                "switchyard-sim-operator".into(),
                "switchyard-sim-viewer".into(),
            ],
            tokens: [
                sim.auth.admin_token().to_owned(),
                sim.auth.operator_token().to_owned(),
                sim.auth.viewer_token().to_owned(),
            ],
            ca_pem: None,
            sim: Some(sim),
            _dir: dir,
        }
    }

    async fn real(manifest: Option<&str>, gateway: bool) -> TestCluster {
        let real = RealCluster::shared();
        let namespace = fresh_namespace_name();
        real.prepare_namespace(&namespace, manifest).await;
        let gateway_namespace = if gateway {
            let name = fresh_namespace_name();
            real.prepare_namespace(&name, Some(switchyard_sim::simulation::GATEWAY_MANIFEST))
                .await;
            Some(name)
        } else {
            None
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        // A copy whose contexts default to this test's namespace.
        let kubeconfig = dir.path().join("kubeconfig");
        real.write_kubeconfig(&kubeconfig, &namespace);
        TestCluster {
            kind: Kind::Real,
            url: real.url.clone(),
            kubeconfig,
            namespace,
            gateway_namespace,
            contexts: [
                "real-admin".into(),
                "real-operator".into(),
                "real-viewer".into(),
            ],
            tokens: [
                real.token("admin").to_owned(),
                real.token("operator").to_owned(),
                real.token("viewer").to_owned(),
            ],
            ca_pem: Some(real.ca_pem.clone()),
            sim: None,
            _dir: dir,
        }
    }

    fn index(user: User) -> usize {
        match user {
            User::Admin => 0,
            User::Operator => 1,
            User::Viewer => 2,
        }
    }

    /// The kubeconfig context of `user`.
    pub fn context(&self, user: User) -> &str {
        &self.contexts[Self::index(user)]
    }

    /// The bearer token of `user`.
    pub fn token(&self, user: User) -> &str {
        &self.tokens[Self::index(user)]
    }

    /// The kubeconfig path, for kubectl.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// kube-rs configuration for `user`, read from the kubeconfig as any client would.
    pub async fn config(&self, user: User) -> kube::Config {
        self.config_for_context(self.context(user)).await
    }

    /// The real cluster's context for the console's own service account
    /// (`system:serviceaccount:switchyard:switchyard`, with only the RBAC `deploy/` grants); the
    /// simulated cluster has no such identity.
    pub fn console_context(kind: Kind) -> Option<&'static str> {
        (kind == Kind::Real).then_some("real-switchyard")
    }

    /// kube-rs configuration for a context of the kubeconfig.
    pub async fn config_for_context(&self, context: &str) -> kube::Config {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .expect("the test kubeconfig reads");
        let options = kube::config::KubeConfigOptions {
            context: Some(context.to_owned()),
            ..Default::default()
        };
        kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .expect("the test kubeconfig is valid")
    }

    /// A kube-rs client acting as `user`.
    pub async fn client(&self, user: User) -> kube::Client {
        kube::Client::try_from(self.config(user).await).expect("a kube client")
    }

    /// A plain HTTP client that trusts the cluster's certificate, for raw API requests (add
    /// the bearer token of the user yourself).
    pub fn http(&self) -> reqwest::Client {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &self.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).expect("the cluster's CA parses")
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().expect("an HTTP client")
    }

    /// Runs real kubectl as `user` in this test's namespace; returns stdout, or on failure
    /// stdout and stderr together (`kubectl auth can-i` answers "no" on stdout, exit 1). Async, so that an in-process simulated cluster keeps answering meanwhile.
    pub async fn kubectl(&self, user: User, args: &[&str]) -> Result<String, String> {
        let output = tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", self.context(user), "-n", &self.namespace])
            .args(args)
            .output()
            .await
            .map_err(|e| format!("kubectl could not run: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

/// A namespace name no other test of this run uses: `t-<pid>-<n>`.
fn fresh_namespace_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "t-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `body` once per cluster kind this run covers, naming the kind in a failure.
#[macro_export]
macro_rules! on_every_cluster {
    (|$kind:ident| $body:expr) => {
        for $kind in $crate::kinds() {
            eprintln!("-- on the {} cluster", $kind);
            $body.await;
        }
    };
}
