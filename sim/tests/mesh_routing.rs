//! The simulated mesh routes the demo namespace as Istio would: weights, header matches, faults,
//! subsets without pods, and edits taking effect on the next request. Deterministic: every test
//! drives `Mesh::send` with a seeded RNG.

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_sim::mesh::{self, Mesh, Series};
use switchyard_sim::store::{Key, Store};

const NS: &str = "hands-on";
const DEMO: &str = include_str!("../../demo/hands-on.yaml");
const VS: &str = "virtualservices.networking.istio.io";

/// Loads a multi-document manifest into the store, as `kubectl apply -n NS -f` would.
fn load(store: &Store, yaml: &str) {
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let object = Value::deserialize(document).expect("manifest is YAML");
        if object.is_null() {
            continue;
        }
        let resource = match object["kind"].as_str() {
            Some("Service") => "services",
            Some("Deployment") => "deployments.apps",
            Some("VirtualService") => VS,
            Some("DestinationRule") => "destinationrules.networking.istio.io",
            other => panic!("unexpected kind {other:?}"),
        };
        let name = object["metadata"]["name"]
            .as_str()
            .expect("named")
            .to_owned();
        store
            .create(Key::new(resource, NS, &name), object)
            .expect("created");
    }
}

fn demo() -> Mesh {
    let store = Store::new();
    load(&store, DEMO);
    mesh::reconcile_pods(&store);
    let mesh = Mesh::new(store);
    assert_eq!(mesh.warnings(), Vec::<String>::new());
    mesh
}

fn edit_vs(mesh: &Mesh, name: &str, edit: impl FnOnce(&mut Value)) {
    mesh.store()
        .expect("in-process store")
        .update(&Key::new(VS, NS, name), |current| {
            let mut next = current.clone();
            edit(&mut next);
            Ok(next)
        })
        .expect("VirtualService updated");
}

/// Sets the weights of review's default route (http[1]: old, new).
fn review_weights(mesh: &Mesh, old: i64, new: i64) {
    edit_vs(mesh, "review", |vs| {
        vs["spec"]["http"][1]["route"][0]["weight"] = json!(old);
        vs["spec"]["http"][1]["route"][1]["weight"] = json!(new);
    });
}

fn send_many(mesh: &Mesh, n: usize, headers: &[(String, String)], seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..n {
        mesh.send(NS, "product-composite", headers, &mut rng);
    }
}

fn series<'a>(
    snapshot: &'a [Series],
    reporter: &'a str,
    service: &'a str,
) -> impl Iterator<Item = &'a Series> {
    snapshot.iter().filter(move |s| {
        s.labels.reporter == reporter && s.labels.destination_service_name == service
    })
}

/// Requests per destination_version that reached `service`, as destination sidecars report them.
fn by_version(mesh: &Mesh, service: &str) -> BTreeMap<String, u64> {
    let snapshot = mesh.snapshot();
    let mut out = BTreeMap::new();
    for s in series(&snapshot, "destination", service) {
        *out.entry(s.labels.destination_version.clone()).or_insert(0) += s.requests;
    }
    out
}

fn test_header() -> Vec<(String, String)> {
    vec![("X-group".to_owned(), "test".to_owned())]
}

#[test]
fn weights_100_0_send_all_review_traffic_to_v1() {
    let mesh = demo();
    send_many(&mesh, 1_000, &[], 1);
    assert_eq!(
        by_version(&mesh, "review"),
        BTreeMap::from([("v1".to_owned(), 1_000)])
    );
    // The same holds at the client side: no source series reaches v2 either.
    let snapshot = mesh.snapshot();
    assert!(series(&snapshot, "source", "review").all(|s| s.labels.destination_version == "v1"));
}

#[test]
fn weights_80_20_split_within_three_points() {
    let mesh = demo();
    review_weights(&mesh, 80, 20);
    send_many(&mesh, 2_500, &[], 42);
    let counts = by_version(&mesh, "review");
    let (v1, v2) = (counts["v1"], counts["v2"]);
    assert_eq!(v1 + v2, 2_500);
    let share = v2 as f64 / 2_500.0;
    assert!((0.17..=0.23).contains(&share), "v2 share {share}");
    assert_eq!((v1, v2), (2_016, 484), "exact split for seed 42");
    // Fixed seed, fixed sequence: the exact split is part of the contract of determinism.
    let again = demo();
    review_weights(&again, 80, 20);
    send_many(&again, 2_500, &[], 42);
    assert_eq!(by_version(&again, "review"), counts);
}

#[test]
fn weights_are_relative() {
    let mesh = demo();
    review_weights(&mesh, 1, 3);
    send_many(&mesh, 2_000, &[], 3);
    let counts = by_version(&mesh, "review");
    let share = counts["v2"] as f64 / 2_000.0;
    assert!((0.72..=0.78).contains(&share), "v2 share {share}");
}

#[test]
fn a_single_destination_gets_everything_even_with_weight_0() {
    let mesh = demo();
    edit_vs(&mesh, "review", |vs| {
        vs["spec"]["http"][1]["route"] = json!([
            {"destination": {"host": "review", "subset": "new"}, "weight": 0}
        ]);
    });
    send_many(&mesh, 300, &[], 4);
    assert_eq!(
        by_version(&mesh, "review"),
        BTreeMap::from([("v2".to_owned(), 300)])
    );
}

#[test]
fn header_x_group_test_always_reaches_v2() {
    let mesh = demo();
    review_weights(&mesh, 80, 20);
    send_many(&mesh, 500, &test_header(), 5);
    for service in ["product", "recommendation", "review"] {
        assert_eq!(
            by_version(&mesh, service),
            BTreeMap::from([("v2".to_owned(), 500)]),
            "{service}"
        );
    }
}

#[test]
fn fault_abort_gives_the_configured_status_with_fi_in_source_series_only() {
    let mesh = demo();
    edit_vs(&mesh, "review", |vs| {
        vs["spec"]["http"][1]["fault"] =
            json!({"abort": {"httpStatus": 503, "percentage": {"value": 30}}});
    });
    send_many(&mesh, 1_000, &[], 6);
    let snapshot = mesh.snapshot();
    let aborted: Vec<&Series> = series(&snapshot, "source", "review")
        .filter(|s| s.labels.response_flags == "FI")
        .collect();
    assert_eq!(aborted.len(), 1);
    let a = &aborted[0];
    assert_eq!(a.labels.response_code, "503");
    assert_eq!(a.labels.destination_workload, "unknown");
    assert_eq!(a.labels.destination_workload_namespace, "unknown");
    assert_eq!(a.labels.destination_version, "unknown");
    assert_eq!(
        a.labels.destination_service,
        "review.hands-on.svc.cluster.local"
    );
    assert_eq!(a.labels.source_workload, "product-composite-v1");
    let share = a.requests as f64 / 1_000.0;
    assert!((0.27..=0.33).contains(&share), "aborted share {share}");
    // The destination sidecars never saw the aborted requests.
    let reached: u64 = by_version(&mesh, "review").values().sum();
    assert_eq!(reached + a.requests, 1_000);
    assert!(series(&snapshot, "destination", "review").all(|s| s.labels.response_flags == "-"));
}

#[test]
fn fault_delay_flags_di_and_adds_latency_at_the_client() {
    let mesh = demo();
    edit_vs(&mesh, "review", |vs| {
        vs["spec"]["http"][1]["fault"] =
            json!({"delay": {"fixedDelay": "700ms", "percentage": {"value": 100}}});
    });
    send_many(&mesh, 200, &[], 7);
    let snapshot = mesh.snapshot();
    let client: Vec<&Series> = series(&snapshot, "source", "review").collect();
    assert!(!client.is_empty());
    for s in &client {
        assert_eq!(s.labels.response_flags, "DI");
        // Every delayed request took at least 700 ms: nothing below the 500 ms bucket bound.
        let below_500 = s
            .duration_buckets
            .iter()
            .find(|(le, _)| *le == 500.0)
            .map(|(_, c)| *c);
        assert_eq!(below_500, Some(0));
        assert!(s.duration_sum_ms >= 700.0 * s.requests as f64);
    }
    // The server saw a normal request and its own (short) latency.
    for s in series(&snapshot, "destination", "review") {
        assert_eq!(s.labels.response_flags, "-");
        assert!(s.duration_sum_ms < 700.0 * s.requests as f64);
    }
    assert_eq!(client.iter().map(|s| s.requests).sum::<u64>(), 200);
}

#[test]
fn a_subset_without_pods_gives_503_uh() {
    let mesh = demo();
    review_weights(&mesh, 0, 100);
    mesh.store()
        .expect("in-process store")
        .update(&Key::new("deployments.apps", NS, "review-v2"), |d| {
            let mut d = d.clone();
            d["spec"]["replicas"] = json!(0);
            Ok(d)
        })
        .expect("scaled");
    mesh::reconcile_pods(mesh.store().expect("in-process store"));
    send_many(&mesh, 100, &[], 8);
    let snapshot = mesh.snapshot();
    let failed: Vec<&Series> = series(&snapshot, "source", "review").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].labels.response_code, "503");
    assert_eq!(failed[0].labels.response_flags, "UH");
    assert_eq!(failed[0].labels.destination_workload, "unknown");
    assert_eq!(failed[0].requests, 100);
    assert!(by_version(&mesh, "review").is_empty());
}

#[test]
fn an_edit_to_the_virtual_service_routes_the_next_request() {
    let mesh = demo();
    let mut rng = SmallRng::seed_from_u64(9);
    mesh.send(NS, "product-composite", &[], &mut rng);
    assert_eq!(
        by_version(&mesh, "review"),
        BTreeMap::from([("v1".to_owned(), 1)])
    );
    review_weights(&mesh, 0, 100);
    mesh.send(NS, "product-composite", &[], &mut rng);
    assert_eq!(
        by_version(&mesh, "review"),
        BTreeMap::from([("v1".to_owned(), 1), ("v2".to_owned(), 1)])
    );
}

#[test]
fn the_demo_canary_is_worse_than_the_stable_version() {
    let mesh = demo();
    review_weights(&mesh, 50, 50);
    send_many(&mesh, 4_000, &[], 10);
    let snapshot = mesh.snapshot();
    let error_share = |version: &str| {
        let of_version: Vec<&Series> = series(&snapshot, "destination", "review")
            .filter(|s| s.labels.destination_version == version)
            .collect();
        let total: u64 = of_version.iter().map(|s| s.requests).sum();
        let errors: u64 = of_version
            .iter()
            .filter(|s| s.labels.response_code.starts_with('5'))
            .map(|s| s.requests)
            .sum();
        errors as f64 / total as f64
    };
    assert!(error_share("v1") < 0.01, "v1 errors {}", error_share("v1"));
    assert!(error_share("v2") > 0.02, "v2 errors {}", error_share("v2"));
}

#[test]
fn load_generator_is_deterministic_and_mixes_test_traffic() {
    let run = || {
        let mesh = demo();
        review_weights(&mesh, 100, 0);
        let mut generator = mesh::LoadGenerator::new(mesh::LoadConfig {
            test_header_share: 0.25,
            seed: 11,
            ..mesh::LoadConfig::default()
        });
        for _ in 0..2_000 {
            generator.send_next(&mesh);
        }
        by_version(&mesh, "review")
    };
    let counts = run();
    // Test traffic goes to v2 whatever the weights: its share is the header share.
    let share = counts["v2"] as f64 / 2_000.0;
    assert!((0.22..=0.28).contains(&share), "test share {share}");
    assert_eq!(run(), counts);
}

#[tokio::test]
async fn metrics_endpoint_serves_the_text_format() {
    use tower::ServiceExt;
    let mesh = demo();
    send_many(&mesh, 10, &[], 12);
    let response = mesh::metrics_router(mesh.clone())
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    let text = String::from_utf8(body.to_vec()).expect("utf-8");
    assert!(text.contains("# TYPE istio_requests_total counter"));
    assert!(text.contains("destination_service_name=\"review\""));
    // Counters only grow: a later scrape never shows a smaller value for the same series.
    let first = mesh.snapshot();
    send_many(&mesh, 10, &[], 13);
    let second = mesh.snapshot();
    for s in &first {
        let later = second
            .iter()
            .find(|t| t.labels == s.labels)
            .expect("series kept");
        assert!(later.requests >= s.requests);
    }
}

/// The demo's objects in an [`mesh::ObjectFeed`], as a watcher of an API server would push them:
/// no Pods, so the Deployments give the workloads.
fn demo_feed() -> (Mesh, mesh::ObjectFeed) {
    let store = Store::new();
    load(&store, DEMO);
    let feed = mesh::ObjectFeed::new();
    for (kind, resource) in [
        (mesh::Kind::Service, "services"),
        (mesh::Kind::Deployment, "deployments.apps"),
        (mesh::Kind::VirtualService, VS),
        (
            mesh::Kind::DestinationRule,
            "destinationrules.networking.istio.io",
        ),
    ] {
        let (objects, _) = store.list(resource, Some(NS));
        feed.replace(kind, NS, objects.iter().map(|o| (**o).clone()).collect())
            .expect("demo objects are named");
    }
    let mesh = Mesh::with_source(std::sync::Arc::new(feed.clone()));
    assert_eq!(mesh.warnings(), Vec::<String>::new());
    (mesh, feed)
}

#[test]
fn a_feed_without_pods_routes_exactly_as_the_store_with_its_pods() {
    let from_store = demo();
    review_weights(&from_store, 80, 20);
    let (from_feed, feed) = demo_feed();
    let mut review = from_store
        .store()
        .expect("in-process store")
        .get(&Key::new(VS, NS, "review"))
        .map(|vs| (*vs).clone())
        .expect("review VirtualService");
    feed.apply(mesh::Kind::VirtualService, review.clone())
        .expect("named");
    send_many(&from_store, 2_500, &[], 42);
    send_many(&from_feed, 2_500, &[], 42);
    assert_eq!(
        by_version(&from_feed, "review"),
        by_version(&from_store, "review")
    );
    assert_eq!(
        from_feed.snapshot(),
        from_store.snapshot(),
        "same series, same counts"
    );

    // A change pushed into the feed routes the next request.
    review["spec"]["http"][1]["route"][0]["weight"] = json!(0);
    review["spec"]["http"][1]["route"][1]["weight"] = json!(100);
    feed.apply(mesh::Kind::VirtualService, review)
        .expect("named");
    let before = by_version(&from_feed, "review");
    send_many(&from_feed, 300, &[], 7);
    let after = by_version(&from_feed, "review");
    assert_eq!(after["v1"], before["v1"], "no more traffic to v1");
    assert_eq!(after["v2"], before["v2"] + 300);

    // Scaling a Deployment to zero in the feed leaves its subset without endpoints: 503 UH.
    let mut v2 = from_store
        .store()
        .expect("in-process store")
        .get(&Key::new("deployments.apps", NS, "review-v2"))
        .map(|d| (*d).clone())
        .expect("review-v2");
    v2["spec"]["replicas"] = json!(0);
    feed.apply(mesh::Kind::Deployment, v2).expect("named");
    send_many(&from_feed, 50, &[], 8);
    let snapshot = from_feed.snapshot();
    let failed: Vec<&Series> = series(&snapshot, "source", "review")
        .filter(|s| s.labels.response_flags == "UH")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].labels.response_code.as_str(), failed[0].requests),
        ("503", 50)
    );
}
