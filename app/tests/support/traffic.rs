//! Traffic for tests that judge metrics (release plans): on the simulated cluster the in-process
//! mesh's own counters; on the real kube-apiserver `switchyard mesh` watching the test's
//! namespaces (the gateway demo's too, when there is one) and a real Prometheus scraping it.

use std::sync::Arc;
use std::time::Duration;
use switchyard::SimulatedSource;
use switchyard_console::metrics::{PrometheusSource, Source};
use switchyard_testkit::{Kind, Prometheus, TestCluster, User};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// On the real cluster: `switchyard mesh` and the Prometheus scraping it (dropped in that order
/// of fields: Prometheus first).
pub struct RealTraffic {
    _prometheus: Prometheus,
    _mesh: Child,
    _dir: tempfile::TempDir,
}

/// A test cluster with traffic at `rps` and the metrics source that reads it; with `gateway`,
/// also the gateway demo's namespace (HTTPRoutes), whose entry gets the same load.
pub async fn cluster_with_traffic(
    kind: Kind,
    rps: f64,
    gateway: bool,
) -> (Arc<TestCluster>, Source, Option<RealTraffic>) {
    let sim_rps = if kind == Kind::Simulated { rps } else { 0.0 };
    let kube = if gateway {
        TestCluster::start_with_gateway(kind, sim_rps).await
    } else {
        TestCluster::start(kind, sim_rps).await
    };
    match kind {
        Kind::Simulated => {
            let mesh = kube
                .sim
                .as_ref()
                .expect("the simulated cluster")
                .mesh
                .clone();
            (
                Arc::new(kube),
                SimulatedSource::new(mesh).into_source(),
                None,
            )
        }
        Kind::Real => {
            let dir = tempfile::tempdir().unwrap();
            let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
            command
                .arg("mesh")
                .arg("--kubeconfig")
                .arg(kube.kubeconfig())
                .args(["--context", kube.context(User::Admin)])
                .args(["--namespace", &kube.namespace]);
            if let Some(gateway_namespace) = &kube.gateway_namespace {
                command.args(["--namespace", gateway_namespace]);
            }
            let mut mesh = command
                .args(["--listen", "127.0.0.1:0", "--rps", &rps.to_string()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect("switchyard mesh starts");
            let stdout = mesh.stdout.take().expect("piped");
            let mut lines = BufReader::new(stdout).lines();
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("the mesh announces itself within 60 s")
                .unwrap()
                .expect("a line");
            let target = line
                .strip_prefix("mesh listening on http://")
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .trim_end_matches('/')
                .to_owned();
            // Keep reading stdout so the mesh never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            let prometheus = Prometheus::start(dir.path(), &target);
            let source = Source::Prometheus(PrometheusSource::new(
                &prometheus.url,
                Duration::from_secs(2),
                Duration::from_secs(1),
            ));
            (
                Arc::new(kube),
                source,
                Some(RealTraffic {
                    _prometheus: prometheus,
                    _mesh: mesh,
                    _dir: dir,
                }),
            )
        }
    }
}
