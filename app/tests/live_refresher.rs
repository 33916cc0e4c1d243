//! The single refresher: how many metrics queries a refresh costs whatever the number of viewers,
//! and how the graph behaves when Prometheus is down and comes back. Prometheus is played here by
//! a small HTTP server that counts queries and can be switched off, because what is under test is
//! the console's fan-out and failure handling, not PromQL (the real-Prometheus test covers that).

use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_console::live::Live;
use switchyard_console::metrics::{PrometheusSource, Source};
use switchyard_protocol::{Graph, ServerEvent};
use tokio::sync::broadcast;

#[derive(Clone, Default)]
struct FakePrometheus {
    queries: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
}

async fn fake_prometheus(fake: FakePrometheus) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = fake.clone();
    let router = Router::new().route(
        "/api/v1/query",
        post(move || {
            let state = state.clone();
            async move {
                state.queries.fetch_add(1, Ordering::SeqCst);
                if state.down.load(Ordering::SeqCst) {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#,
                    )
                } else {
                    (
                        axum::http::StatusCode::OK,
                        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
                    )
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

mod support;

struct Setup {
    live: Live,
    source: Source,
    base: String,
    _console: support::TestConsole,
}

async fn setup(prometheus_url: &str) -> Setup {
    setup_with_windows(prometheus_url, Vec::new()).await
}

/// The console over the fake Prometheus, offering `choices` besides its default 30 s window.
async fn setup_with_windows(prometheus_url: &str, choices: Vec<Duration>) -> Setup {
    let source = Source::Prometheus(PrometheusSource::new(
        prometheus_url,
        Duration::from_secs(2),
        Duration::from_secs(1),
    ));
    let console = support::console(support::Options {
        source: Some(source.clone()),
        refresh: Duration::from_millis(100),
        window_choices: choices,
        ..support::Options::default()
    })
    .await;
    Setup {
        live: console.live.clone(),
        base: console.base.clone(),
        source,
        _console: console,
    }
}

async fn next_graph(
    rx: &mut broadcast::Receiver<ServerEvent>,
    want: impl Fn(&Graph) -> bool,
) -> Graph {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rx.recv().await {
                Ok(ServerEvent::Graph(g)) if want(&g) => return g,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("refresher gone: {e}"),
            }
        }
    })
    .await
    .expect("a graph within 20 s")
}

/// Queries sent per refresh, measured over `refreshes` refreshes. A refresh is one tick: graphs
/// of the default window whose `last_success` moved.
async fn queries_per_refresh(s: &Setup, refreshes: u32) -> f64 {
    let mut rx = s.live.subscribe();
    let default = s.live.default_window();
    let mut last = next_graph(&mut rx, |g| g.window_seconds == default && g.metrics.fresh)
        .await
        .metrics
        .last_success;
    let start = s.source.queries_sent();
    for _ in 0..refreshes {
        let g = next_graph(&mut rx, |g| {
            g.window_seconds == default && g.metrics.last_success != last
        })
        .await;
        last = g.metrics.last_success;
    }
    (s.source.queries_sent() - start) as f64 / f64::from(refreshes)
}

async fn open_viewers(base: &str, n: usize) -> Vec<reqwest::Response> {
    open_viewers_at(&format!("{base}/api/v1/events"), n).await
}

async fn open_viewers_at(url: &str, n: usize) -> Vec<reqwest::Response> {
    let http = reqwest::Client::new();
    let mut viewers = Vec::new();
    for _ in 0..n {
        let mut res = http.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        // The first chunk proves the stream is being served to this viewer.
        res.chunk().await.unwrap().expect("first event");
        viewers.push(res);
    }
    viewers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_per_refresh_do_not_depend_on_viewers() {
    let fake = FakePrometheus::default();
    let url = fake_prometheus(fake.clone()).await;
    let s = setup(&url).await;

    let one = open_viewers(&s.base, 1).await;
    let with_one = queries_per_refresh(&s, 5).await;
    let fifty = open_viewers(&s.base, 49).await;
    assert_eq!(s.live.viewers(), 50, "every SSE client is subscribed");
    let with_fifty = queries_per_refresh(&s, 5).await;

    assert_eq!(with_one, 4.0, "one refresh is four queries");
    assert_eq!(
        with_fifty, with_one,
        "fifty viewers cost no more queries than one"
    );
    // Every query the fake saw came from the refresher.
    assert_eq!(fake.queries.load(Ordering::SeqCst), s.source.queries_sent());
    drop((one, fifty));
}

/// Release plans read their gates from one more query set per refresh (three queries, cumulative
/// counters every plan's window is differenced from), only while a plan is active, and whatever
/// the number of plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_plans_cost_one_query_set_per_refresh_however_many() {
    let fake = FakePrometheus::default();
    let url = fake_prometheus(fake.clone()).await;
    let s = setup(&url).await;
    let none = queries_per_refresh(&s, 3).await;
    assert_eq!(none, 4.0, "no plan: the graph's four queries");
    let http = reqwest::Client::new();
    let create = |name: &'static str| {
        http.post(format!("{}/api/v1/plans", s.base))
            .header("x-requested-by", "test")
            .json(&serde_json::json!({
                "targets": [{"namespace": "hands-on", "name": name}],
                "steps": [5, 100],
                "hold_seconds": 3600,
            }))
            .send()
    };
    assert_eq!(create("review").await.unwrap().status(), 201);
    // The plan is active once the driver has picked it up (its first step goes out).
    let one = queries_per_refresh(&s, 3).await;
    assert_eq!(one, 7.0, "one plan: one more query set of three");
    for name in ["product", "recommendation"] {
        assert_eq!(create(name).await.unwrap().status(), 201);
    }
    let three = queries_per_refresh(&s, 3).await;
    assert_eq!(three, one, "three plans cost what one does");
    assert_eq!(fake.queries.load(Ordering::SeqCst), s.source.queries_sent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offered_window_is_one_query_set_per_refresh_whoever_watches_which() {
    let fake = FakePrometheus::default();
    let url = fake_prometheus(fake.clone()).await;
    let s = setup_with_windows(
        &url,
        vec![Duration::from_secs(60), Duration::from_secs(300)],
    )
    .await;
    assert_eq!(s.live.windows(), [30, 60, 300]);

    let none = queries_per_refresh(&s, 5).await;
    let default = open_viewers(&s.base, 3).await;
    let long = open_viewers_at(&format!("{}/api/v1/events?window=300", s.base), 20).await;
    let busy = queries_per_refresh(&s, 5).await;
    assert_eq!(none, 12.0, "three windows, four queries each");
    assert_eq!(busy, none, "viewers and their windows cost no queries");
    drop((default, long));

    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", s.base)).send();
    let graph: Graph = get("/api/v1/graph?window=300")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(graph.window_seconds, 300);
    let graph: Graph = get("/api/v1/graph").await.unwrap().json().await.unwrap();
    assert_eq!(graph.window_seconds, 30, "no window is the default");
    for (query, says) in [
        (
            "?window=45",
            "rate window 45 s is not offered; choose one of 30, 60, 300 (seconds)",
        ),
        ("?window=soon", "window"),
        ("?windw=60", "windw"),
    ] {
        for path in ["/api/v1/graph", "/api/v1/events"] {
            let res = get(&format!("{path}{query}")).await.unwrap();
            assert_eq!(res.status(), 400, "{path}{query}");
            let body: serde_json::Value = res.json().await.unwrap();
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains(says), "{path}{query}: {body}");
        }
    }
    let settings: serde_json::Value = get("/api/v1/settings").await.unwrap().json().await.unwrap();
    assert_eq!(
        settings["windows"],
        serde_json::json!({"default_seconds": 30, "offered_seconds": [30, 60, 300]})
    );

    // A viewer of the 60 s window is sent graphs of that window only: the whole graph first,
    // then deltas while the topology holds (each says its window too).
    let mut res = get("/api/v1/events?window=60").await.unwrap();
    let mut text = String::new();
    while text.matches("event: graph").count() < 4 {
        let chunk = tokio::time::timeout(Duration::from_secs(20), res.chunk())
            .await
            .expect("events within 20 s")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let windows: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<ServerEvent>(d).ok())
        .filter_map(|e| match e {
            ServerEvent::Graph(g) => Some(u64::from(g.window_seconds)),
            ServerEvent::GraphDelta(d) => Some(u64::from(d.window_seconds)),
            _ => None,
        })
        .collect();
    assert!(windows.len() >= 4, "{text}");
    assert!(
        text.contains("event: graph\n"),
        "the whole graph first: {text}"
    );
    assert!(windows.iter().all(|&w| w == 60), "{windows:?}");
}

#[tokio::test]
async fn prometheus_outage_marks_metrics_stale_and_recovers() {
    let fake = FakePrometheus::default();
    let url = fake_prometheus(fake.clone()).await;
    let s = setup(&url).await;
    let mut rx = s.live.subscribe();
    let good = next_graph(&mut rx, |g| g.metrics.fresh).await;
    let last_good = good.metrics.last_success.expect("time of the good sample");

    fake.down.store(true, Ordering::SeqCst);
    let stale = next_graph(&mut rx, |g| !g.metrics.fresh).await;
    assert!(
        stale
            .metrics
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("TSDB not ready"),
        "{:?}",
        stale.metrics
    );
    assert!(
        stale.metrics.last_success.unwrap() >= last_good,
        "keeps the time of the last good sample"
    );
    assert!(
        stale.nodes.iter().any(|n| n.id == "svc:hands-on:review"),
        "topology stays"
    );
    assert_eq!(stale.splits.len(), 3, "requested splits stay");

    fake.down.store(false, Ordering::SeqCst);
    let recovered = next_graph(&mut rx, |g| g.metrics.fresh).await;
    assert!(recovered.metrics.error.is_none());
}

#[tokio::test]
async fn unreachable_prometheus_is_stale_not_an_error() {
    // Nothing listens on this port (bound then dropped).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = setup(&format!("http://127.0.0.1:{port}")).await;
    let mut rx = s.live.subscribe();
    let g = next_graph(&mut rx, |g| g.metrics.error.is_some()).await;
    assert!(!g.metrics.fresh);
    assert_eq!(g.metrics.last_success, None);
    assert!(g.metrics.error.unwrap().contains("could not be reached"));
    // The API still answers.
    let res = reqwest::get(format!("{}/api/v1/graph", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = reqwest::get(format!("{}/api/v1/routes", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_carry_the_observed_split_in_the_graph_and_resend_no_route() {
    use switchyard::SimulatedSource;
    // The console reads the simulator's own counters, with traffic flowing.
    let sim = support::simulation(200.0).await;
    let source = SimulatedSource::new(sim.sim.mesh.clone()).into_source();
    let config = switchyard_console::cluster::config_from_kubeconfig(&sim.kubeconfig, None)
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let cluster = switchyard_console::cluster::Cluster::start(client, &["hands-on".to_owned()]);
    tokio::time::timeout(Duration::from_secs(20), cluster.wait_ready())
        .await
        .unwrap();
    let live = Live::start(
        cluster,
        Some(source),
        switchyard_console::live::LiveConfig {
            interval: Duration::from_millis(300),
            window: Duration::from_secs(30),
            choices: vec![],
            reporters: Default::default(),
        },
    );
    let mut rx = live.subscribe();
    // No VirtualService is edited: the refreshes bring graphs whose splits say what was
    // observed (the weight cards read it there, `Graph::observed_share`), and no route event:
    // at 1,000 nodes re-sending every VirtualService whose observed share moved was most of a
    // refresh's bytes.
    let mut graphs = 0;
    let mut observed = None;
    tokio::time::timeout(Duration::from_secs(20), async {
        while graphs < 10 || observed.is_none() {
            match rx.recv().await {
                Ok(ServerEvent::Graph(graph)) => {
                    graphs += 1;
                    observed = observed.or(graph.observed_share("hands-on", "review", 1, "old"));
                }
                Ok(ServerEvent::VirtualServiceChanged(vs)) => {
                    panic!("a refresh re-sent VirtualService {} unchanged", vs.name)
                }
                Ok(_) => {}
                Err(error) => panic!("the event channel failed: {error}"),
            }
        }
    })
    .await
    .expect("ten graphs and an observed share within 20 s");
    let observed = observed.unwrap();
    assert!(
        (observed - 100.0).abs() < 1e-9,
        "review is at old 100 / new 0: {observed}"
    );
}
