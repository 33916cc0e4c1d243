//! A real Prometheus (`/usr/bin/prometheus`) scrapes the simulated mesh every second, and PromQL
//! over `istio_requests_total` shows the split the VirtualService asks for. Fails (does not skip)
//! when Prometheus is missing: the compatibility it checks is a product feature.

use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_sim::api;
use switchyard_sim::mesh::{self, LoadConfig, Mesh};
use switchyard_sim::store::{Key, Store};
use switchyard_testkit::Prometheus;

const NS: &str = "hands-on";
const SPLIT_QUERY: &str = r#"sum(rate(istio_requests_total{reporter="destination",destination_service_name="review"}[30s])) by (destination_version)"#;
const VOLUME_QUERY: &str = r#"sum(increase(istio_requests_total{reporter="destination",destination_service_name="review"}[30s]))"#;
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_the_split_the_virtual_service_asks_for() {
    let store = Store::new();
    api::load_manifest(&store, NS, api::DEMO_MANIFEST).expect("demo manifest loads");
    mesh::reconcile_pods(&store);
    store
        .update(
            &Key::new("virtualservices.networking.istio.io", NS, "review"),
            |vs| {
                let mut vs = vs.clone();
                vs["spec"]["http"][1]["route"][0]["weight"] = json!(80);
                vs["spec"]["http"][1]["route"][1]["weight"] = json!(20);
                Ok(vs)
            },
        )
        .expect("weights set");
    let mesh = Mesh::new(store);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let target = listener.local_addr().expect("addr").to_string();
    let router = mesh::metrics_router(mesh.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let mut prometheus = Prometheus::start(dir.path(), &target);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    // Real-time load at 400 requests/s into product-composite; each reaches review once.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let load = tokio::spawn(mesh::run_load(
        mesh.clone(),
        LoadConfig {
            rps: 400.0,
            seed: 5,
            ..LoadConfig::default()
        },
        async move {
            let _ = stopped.await;
        },
    ));

    // Poll (bounded) until Prometheus has at least 2,000 review requests in the window.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut poll = tokio::time::interval(Duration::from_millis(500));
    let mut volume = 0.0;
    while volume < 2_000.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus did not see 2,000 review requests within {DEADLINE:?} (saw {volume}); log:\n{}",
            prometheus.log_tail()
        );
        poll.tick().await;
        prometheus.assert_running();
        volume = prometheus
            .query(&client, VOLUME_QUERY)
            .await
            .and_then(|r| r.first().map(|(_, v)| *v))
            .unwrap_or(0.0);
    }

    let rates: BTreeMap<String, f64> = prometheus
        .query(&client, SPLIT_QUERY)
        .await
        .expect("split query answers")
        .into_iter()
        .map(|(labels, v)| {
            (
                labels["destination_version"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                v,
            )
        })
        .collect();
    let _ = stop.send(());
    load.await.expect("load driver ends");
    server.abort();

    let total: f64 = rates.values().sum();
    let v2_share = rates.get("v2").copied().unwrap_or(0.0) / total;
    assert_eq!(
        rates.keys().collect::<Vec<_>>(),
        vec!["v1", "v2"],
        "{rates:?}"
    );
    assert!(
        (0.17..=0.23).contains(&v2_share),
        "v2 share {v2_share:.3} from {rates:?}"
    );
}

/// The console's own path: the refresher queries the real Prometheus (four queries per refresh)
/// and the graph shows review's requested 20% against an observed share within sampling error,
/// with latency quantiles from the Istio histogram.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_graph_reads_the_split_from_prometheus() {
    use switchyard_console::cluster::Cluster;
    use switchyard_console::live::{Live, LiveConfig};
    use switchyard_console::metrics::{PrometheusSource, Source};
    use switchyard_protocol::ServerEvent;
    use switchyard_sim::Simulation;
    use switchyard_sim::Traffic;

    let traffic = Traffic {
        rps: 400.0,
        test_share: 0.0,
        seed: 9,
    };
    let sim = Simulation::start("127.0.0.1:0".parse().unwrap(), false, &traffic)
        .await
        .unwrap();
    sim.store
        .update(
            &Key::new("virtualservices.networking.istio.io", NS, "review"),
            |vs| {
                let mut vs = vs.clone();
                vs["spec"]["http"][1]["route"][0]["weight"] = json!(80);
                vs["spec"]["http"][1]["route"][1]["weight"] = json!(20);
                Ok(vs)
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut prometheus = Prometheus::start(dir.path(), &sim.addr.to_string());
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let config = switchyard_console::cluster::config_from_kubeconfig(&kubeconfig, None)
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let cluster = Cluster::start(client, &[NS.to_owned()]);
    tokio::time::timeout(Duration::from_secs(20), cluster.wait_ready())
        .await
        .unwrap();
    let source = Source::Prometheus(PrometheusSource::new(
        &prometheus.url,
        Duration::from_secs(5),
        Duration::from_secs(1),
    ));
    let live = Live::start(
        cluster,
        Some(source),
        LiveConfig {
            interval: Duration::from_secs(1),
            window: Duration::from_secs(10),
            choices: vec![],
            reporters: Default::default(),
        },
    );
    let mut events = live.subscribe();

    let deadline = tokio::time::Instant::now() + DEADLINE;
    let graph = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no graph with review traffic in time; log:\n{}",
            prometheus.log_tail()
        );
        prometheus.assert_running();
        let Ok(Ok(ServerEvent::Graph(g))) =
            tokio::time::timeout(Duration::from_secs(5), events.recv()).await
        else {
            continue;
        };
        let review = g.splits.iter().find(|s| s.service == "review");
        // Enough samples that the tolerance is tight, and metrics read without error.
        if g.metrics.fresh && review.is_some_and(|s| s.samples >= 2_000.0) {
            break g;
        }
    };
    let review = graph.splits.iter().find(|s| s.service == "review").unwrap();
    let new = review.versions.iter().find(|v| v.subset == "new").unwrap();
    assert_eq!(new.requested, 20.0);
    let observed = new.observed.expect("observed share");
    assert!(
        (observed - 20.0).abs() <= 3.0,
        "observed {observed} vs requested 20 ({review:?})"
    );
    assert_eq!(review.agrees, Some(true), "{review:?}");
    let to_v2 = graph
        .edges
        .iter()
        .find(|e| e.id == "svc:hands-on:review->wl:hands-on:review-v2")
        .expect("edge to review v2");
    assert!(to_v2.p95_ms.is_some_and(|p| p > 0.0), "{to_v2:?}");
    assert!(
        to_v2.error_share > 0.0,
        "the demo's review v2 fails a few percent: {to_v2:?}"
    );
    let entry = graph
        .edges
        .iter()
        .find(|e| e.source == "entry")
        .expect("traffic from outside the mesh");
    assert!(entry.rate > 100.0, "{entry:?}");
}
