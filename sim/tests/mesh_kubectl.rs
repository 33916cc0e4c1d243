//! Real kubectl edits the simulated cluster and the simulated mesh follows on the next request:
//! a VirtualService weight patch, a Deployment annotation, and scaling a version to zero (the pod
//! controller removes its pods, so its subset has no endpoints: 503 UH).

use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use switchyard_sim::api::{self, Authenticator};
use switchyard_sim::mesh::{self, Mesh, Outcome};
use switchyard_sim::store::Store;

const NS: &str = "hands-on";
const TOKEN: &str = "mesh-kubectl-admin";

struct Cluster {
    store: Store,
    mesh: Mesh,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    controller: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.server.abort();
        self.controller.abort();
    }
}

async fn start() -> Cluster {
    let store = Store::new();
    api::load_manifest(&store, NS, api::DEMO_MANIFEST).expect("demo manifest loads");
    let controller = mesh::run_pod_controller(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = api::router(
        store.clone(),
        Authenticator::with_tokens(TOKEN, "op", "view"),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    api::write_kubeconfig(&kubeconfig, &url, TOKEN, NS).expect("kubeconfig");
    let cluster = Cluster {
        mesh: Mesh::new(store.clone()),
        store,
        kubeconfig,
        _dir: dir,
        server,
        controller,
    };
    // The controller starts the demo's seven pods.
    wait_for(&cluster.store, || pod_count(&cluster.store, "") == 7).await;
    cluster
}

fn pod_count(store: &Store, prefix: &str) -> usize {
    store
        .list("pods", Some(NS))
        .0
        .iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .count()
}

/// Waits, driven by store events and bounded by a deadline, until `done` holds.
async fn wait_for(store: &Store, done: impl Fn() -> bool) {
    let mut events = store.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!remaining.is_zero(), "condition not reached within 20 s");
        // Any store change (or a lag notice) is a reason to look again.
        let _ = tokio::time::timeout(remaining, events.recv()).await;
    }
}

/// Runs kubectl off the async runtime (it blocks) and returns its stdout; fails on non-zero exit.
async fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let kubeconfig = kubeconfig.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(&args)
            .output()
            .expect("kubectl runs (is /usr/bin/kubectl installed?)");
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .expect("kubectl task")
}

/// The review versions the destination sidecars have seen so far.
fn review_by_version(mesh: &Mesh) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for s in mesh.snapshot() {
        if s.labels.reporter == "destination" && s.labels.destination_service_name == "review" {
            *out.entry(s.labels.destination_version.clone()).or_insert(0) += s.requests;
        }
    }
    out
}

fn send(mesh: &Mesh, rng: &mut SmallRng) -> Outcome {
    mesh.send(NS, "product-composite", &[], rng)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_edits_change_routing_on_the_next_request() {
    let cluster = start().await;
    let mut rng = SmallRng::seed_from_u64(1);

    // kubectl sees the pods the controller made, Running, named like a ReplicaSet's pods.
    let pods = kubectl(&cluster.kubeconfig, &["get", "pods", "-n", NS]).await;
    assert_eq!(
        pods.lines()
            .filter(|l| l.starts_with("review-v2-") && l.contains("Running"))
            .count(),
        1,
        "{pods}"
    );

    send(&cluster.mesh, &mut rng);
    assert_eq!(
        review_by_version(&cluster.mesh),
        BTreeMap::from([("v1".to_owned(), 1)])
    );

    // Shift everything to v2 with a JSON patch, as the console does.
    kubectl(
        &cluster.kubeconfig,
        &[
            "patch",
            "virtualservice",
            "review",
            "-n",
            NS,
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":0},
                {"op":"replace","path":"/spec/http/1/route/1/weight","value":100}]"#,
        ],
    )
    .await;
    send(&cluster.mesh, &mut rng);
    assert_eq!(
        review_by_version(&cluster.mesh),
        BTreeMap::from([("v1".to_owned(), 1), ("v2".to_owned(), 1)])
    );

    // The canary's error rate is an annotation on its Deployment.
    kubectl(
        &cluster.kubeconfig,
        &[
            "annotate",
            "deployment",
            "review-v2",
            "-n",
            NS,
            "--overwrite",
            "sim.switchyard.dev/error-rate=1",
        ],
    )
    .await;
    assert_eq!(send(&cluster.mesh, &mut rng).status, 500);

    // Scaling v2 to zero: once the controller has removed its pod, the subset `new` has no
    // endpoints and the client sidecar answers 503 UH.
    kubectl(
        &cluster.kubeconfig,
        &[
            "patch",
            "deployment",
            "review-v2",
            "-n",
            NS,
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":0}}"#,
        ],
    )
    .await;
    wait_for(&cluster.store, || {
        pod_count(&cluster.store, "review-v2-") == 0
    })
    .await;
    let outcome = send(&cluster.mesh, &mut rng);
    assert_eq!(
        outcome.status, 500,
        "product-composite fails when review fails"
    );
    let uh: u64 = cluster
        .mesh
        .snapshot()
        .iter()
        .filter(|s| {
            s.labels.reporter == "source"
                && s.labels.destination_service_name == "review"
                && s.labels.response_flags == "UH"
                && s.labels.response_code == "503"
        })
        .map(|s| s.requests)
        .sum();
    assert_eq!(uh, 1);
    let deployments = kubectl(&cluster.kubeconfig, &["get", "deployments", "-n", NS]).await;
    assert!(
        deployments
            .lines()
            .any(|l| l.starts_with("review-v2 ") && l.contains("0/0")),
        "{deployments}"
    );
}
