//! `switchyard mesh` against an API server: the simulated cluster's API started in-process stands
//! in for a real one. The binary watches it through kube-rs, prints its address, sends load, and a
//! VirtualService change made through the API server changes the split seen at `/metrics`.

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch};
use kube::api::{PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;
use switchyard::mesh_feed::MeshFeed;
use switchyard_sim::mesh::Kind;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

mod support;

const NS: &str = "hands-on";

fn virtual_services(client: &kube::Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    );
    Api::namespaced_with(client.clone(), NS, &ar)
}

async fn client(kubeconfig: &std::path::Path) -> kube::Client {
    let config = switchyard_console::cluster::config_from_kubeconfig(kubeconfig, None)
        .await
        .expect("kubeconfig reads");
    kube::Client::try_from(config).expect("client")
}

/// Starts `switchyard mesh` and returns it with the URL it printed.
async fn start_mesh(kubeconfig: &std::path::Path, rps: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("mesh")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--namespace", NS, "--listen", "127.0.0.1:0", "--rps", rps])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the switchyard binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("a line within 60 s")
        .expect("stdout readable")
        .expect("one line before exit");
    let url = line
        .strip_prefix("mesh listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    (child, url)
}

/// Requests that reached each version of `review`, as its destination sidecars count them.
async fn review_by_version(http: &reqwest::Client, url: &str) -> BTreeMap<String, u64> {
    let response = http
        .get(format!("{url}metrics"))
        .send()
        .await
        .expect("/metrics answers");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text body");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("istio_requests_total{") else {
            continue;
        };
        let (labels, value) = rest.rsplit_once("} ").expect("a sample line");
        let label = |name: &str| {
            let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
            let end = labels[start..].find('"')? + start;
            Some(labels[start..end].to_owned())
        };
        if label("reporter").as_deref() != Some("destination")
            || label("destination_service_name").as_deref() != Some("review")
        {
            continue;
        }
        let version = label("destination_version").expect("a version label");
        *out.entry(version).or_insert(0) += value.parse::<u64>().expect("a count");
    }
    out
}

/// Polls `/metrics` until `done` holds for review's counts, at most 30 s.
async fn wait_for(
    http: &reqwest::Client,
    url: &str,
    what: &str,
    done: impl Fn(&BTreeMap<String, u64>) -> bool,
) -> BTreeMap<String, u64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counts = review_by_version(http, url).await;
        if done(&counts) {
            return counts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: still {counts:?} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(counts: &BTreeMap<String, u64>, version: &str) -> u64 {
    counts.get(version).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_service_change_through_the_api_server_moves_the_split_at_metrics() {
    // The simulated cluster's own mesh sends nothing (rps 0): all traffic is the binary's.
    let cluster = support::simulation(0.0).await;
    let (_mesh, url) = start_mesh(&cluster.kubeconfig, "400").await;
    let http = reqwest::Client::new();
    let api = virtual_services(&client(&cluster.kubeconfig).await);

    // The demo routes review 100/0 to v1.
    let before = wait_for(&http, &url, "traffic to v1", |c| count(c, "v1") >= 100).await;
    assert_eq!(count(&before, "v2"), 0, "{before:?}");

    // 0/100 through the API server, as the console writes it (a guarded JSON patch).
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/http/1/route/0/weight", "value": 100},
        {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 0},
        {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 100},
    ]))
    .expect("a JSON patch");
    api.patch("review", &PatchParams::default(), &Patch::Json::<()>(patch))
        .await
        .expect("patched");
    // Once v2 is reached the mesh has the new weights; from then on v1 gets nothing. The load
    // generator sends one request at a time, so no request of the old routing is still running.
    let switched = wait_for(&http, &url, "first request to v2", |c| count(c, "v2") > 0).await;
    let after = wait_for(&http, &url, "traffic to v2", |c| {
        count(c, "v2") >= count(&switched, "v2") + 200
    })
    .await;
    assert_eq!(
        count(&after, "v1"),
        count(&switched, "v1"),
        "v1 got traffic after the switch: {switched:?} -> {after:?}"
    );

    // Without the VirtualService, kube-proxy's default balances over both versions again.
    api.delete("review", &DeleteParams::default())
        .await
        .expect("deleted");
    let resumed = wait_for(&http, &url, "v1 again", |c| {
        count(c, "v1") > count(&after, "v1")
    })
    .await;
    wait_for(&http, &url, "both versions", |c| {
        count(c, "v1") >= count(&resumed, "v1") + 50 && count(c, "v2") >= count(&resumed, "v2") + 50
    })
    .await;

    // A VirtualService created again through the API server takes over: all to v2.
    let review = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "review", "namespace": NS},
        "spec": {"hosts": ["review"], "http": [{"route": [{"destination": {"host": "review", "subset": "new"}}]}]}
    });
    api.create(
        &PostParams::default(),
        &serde_json::from_value(review).expect("a VirtualService"),
    )
    .await
    .expect("created");
    // There is no first-of-its-kind request to wait for here (both versions had traffic), so
    // wait for a window of 100 requests to v2 with none to v1: under the default 50/50 that has
    // odds of 2^-100.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let owned = loop {
        let start = review_by_version(&http, &url).await;
        let end = wait_for(&http, &url, "a window of traffic", |c| {
            count(c, "v2") >= count(&start, "v2") + 100
        })
        .await;
        if count(&end, "v1") == count(&start, "v1") {
            break end;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "v1 still gets traffic 30 s after the VirtualService was created: {end:?}"
        );
    };
    let later = wait_for(&http, &url, "more traffic", |c| {
        count(c, "v2") >= count(&owned, "v2") + 200
    })
    .await;
    assert_eq!(
        count(&later, "v1"),
        count(&owned, "v1"),
        "{owned:?} -> {later:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feeder_lists_only_the_watched_namespaces_and_needs_no_pods() {
    let cluster = support::simulation(0.0).await;
    let client = client(&cluster.kubeconfig).await;
    // Another namespace with a service the feeder must not see.
    let store = &cluster.sim.store;
    switchyard_sim::api::load_manifest(
        store,
        "other",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: elsewhere\nspec:\n  selector:\n    app: elsewhere\n",
    )
    .expect("other namespace loads");

    let feeder = MeshFeed::start(client, &[NS.to_owned()]);
    tokio::time::timeout(Duration::from_secs(30), feeder.wait_synced())
        .await
        .expect("every watch lists within 30 s");
    assert!(feeder.pending().is_empty());
    let in_store = |resource: &str| store.list(resource, Some(NS)).0.len();
    assert_eq!(feeder.feed().count(Kind::Service), in_store("services"));
    assert_eq!(
        feeder.feed().count(Kind::Deployment),
        in_store("deployments.apps")
    );
    assert_eq!(
        feeder.feed().count(Kind::VirtualService),
        in_store("virtualservices.networking.istio.io")
    );
    assert_eq!(
        feeder.feed().count(Kind::DestinationRule),
        in_store("destinationrules.networking.istio.io")
    );
    assert!(in_store("services") > 0);

    // The mesh over the feed serves the demo from the Deployments alone, without warnings.
    let mesh = feeder.mesh();
    assert_eq!(mesh.warnings(), Vec::<String>::new());
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(3);
    let outcome = mesh.send(NS, "product-composite", &[], &mut rng);
    assert_eq!(outcome.status, 200, "{outcome:?}");
    assert_eq!(outcome.served_by.as_deref(), Some("product-composite-v1"));
    assert_eq!(
        mesh.send(NS, "elsewhere.other", &[], &mut rng).status,
        0,
        "a service of an unwatched namespace is unknown to the mesh"
    );
}
