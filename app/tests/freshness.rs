//! Issue 13, finding 3: stale data is labelled, and the caches come back to the truth after the
//! API server returns with reset resourceVersions. The API server is `switchyard sim` as a
//! process of its own: killed (routes say stale, `/readyz` is 503, `/healthz` 200), then
//! started again on the same port with fresh state (the cache and the event stream show the
//! fresh cluster's weights within 10 s, with no history record made up by the re-list).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchyard_console::auth::{Auth, Mode};
use switchyard_console::cluster::Cluster;
use switchyard_console::live::{Live, LiveConfig};
use switchyard_console::metrics::{PrometheusSource, Source};
use switchyard_console::{app, AppState};
use switchyard_protocol::{Graph, HistoryResponse, RoutesResponse};
use switchyard_testkit::{Prometheus, RestartableApiServer, SimProcess};
use tokio::sync::mpsc;

/// The bound for fresh data after the API server's return.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

struct Console {
    base: String,
    http: reqwest::Client,
}

impl Console {
    async fn start(kubeconfig: &std::path::Path) -> Console {
        Self::start_with(kubeconfig, None, Duration::from_secs(3600)).await
    }

    async fn start_with(
        kubeconfig: &std::path::Path,
        source: Option<Source>,
        interval: Duration,
    ) -> Console {
        let config = switchyard_console::cluster::config_from_kubeconfig(kubeconfig, None)
            .await
            .unwrap();
        let client = kube::Client::try_from(config.clone()).unwrap();
        let namespaces = vec![switchyard_sim::DEMO_NAMESPACE.to_owned()];
        let cluster = Cluster::start(client.clone(), &namespaces);
        tokio::time::timeout(Duration::from_secs(30), cluster.wait_ready())
            .await
            .expect("the caches fill");
        let live = Live::start(
            cluster.clone(),
            source,
            LiveConfig {
                interval,
                window: Duration::from_secs(30),
                choices: vec![],
                reporters: Default::default(),
            },
        );
        let auth = Auth::new(Mode::Anonymous, client, Some(config), true).scoped(namespaces);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app(AppState::new(cluster, live, auth));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Console {
            base,
            http: reqwest::Client::new(),
        }
    }

    async fn status(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn routes(&self) -> RoutesResponse {
        let (status, body) = self.status("/api/v1/routes").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn graph(&self) -> Graph {
        let (status, body) = self.status("/api/v1/graph").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn history(&self) -> HistoryResponse {
        let (status, body) = self.status("/api/v1/history").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn set_review(&self, old: u32, new: u32, was: (u32, u32)) {
        let r = self
            .http
            .put(format!(
                "{}/api/v1/namespaces/hands-on/virtualservices/review/routes/1/weights",
                self.base
            ))
            .header("x-requested-by", "test")
            .json(&json!({
                "weights": {"old": old, "new": new},
                "expected": [
                    {"host": "review", "subset": "old", "weight": was.0},
                    {"host": "review", "subset": "new", "weight": was.1},
                ],
            }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert!(status.is_success(), "{status}: {}", r.text().await.unwrap());
    }

    /// Follows `GET /api/v1/events`; every `routes` event's data arrives on the channel.
    async fn follow_routes(&self) -> mpsc::UnboundedReceiver<RoutesResponse> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut response = self
            .http
            .get(format!("{}/api/v1/events", self.base))
            .send()
            .await
            .unwrap();
        tokio::spawn(async move {
            let mut text = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find("\n\n") {
                    let message: String = text.drain(..end + 2).collect();
                    if !message.lines().any(|l| l == "event: routes") {
                        continue;
                    }
                    let data: String = message
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    if let Ok(v) = serde_json::from_str::<Value>(&data) {
                        if let Ok(routes) = serde_json::from_value(v["data"].clone()) {
                            let _ = tx.send(routes);
                        }
                    }
                }
            }
        });
        rx
    }
}

/// The weights of review's route 1 in a route list.
fn review(routes: &RoutesResponse) -> Vec<u32> {
    routes
        .virtual_services
        .iter()
        .find(|vs| vs.name == "review")
        .and_then(|vs| vs.routes.iter().find(|r| r.index == 1))
        .map(|r| r.destinations.iter().map(|d| d.weight).collect())
        .unwrap_or_default()
}

/// Polls until `check` holds, at most `bound`; returns how long it took, or `None`.
async fn until<F, Fut>(bound: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < bound {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_api_server_is_labelled_stale_and_its_fresh_return_is_shown_within_10_s() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = SimProcess::start(env!("CARGO_BIN_EXE_switchyard").as_ref(), dir.path()).await;
    let console = Console::start(&sim.kubeconfig).await;

    // Healthy: fresh, ready, alive.
    let ready = until(Duration::from_secs(10), || async {
        console.status("/readyz").await.0 == 200
    })
    .await;
    assert!(ready.is_some(), "{:?}", console.status("/readyz").await);
    let routes = console.routes().await;
    assert!(!routes.freshness.cluster.stale, "{:?}", routes.freshness);
    assert!(routes.freshness.cluster.last_contact.is_some());
    assert_eq!(review(&routes), [100, 0]);

    // A change the fresh cluster will not have: the cache and the event stream must drop it.
    console.set_review(50, 50, (100, 0)).await;
    let recorded = until(Duration::from_secs(10), || async {
        console.history().await.changes.len() == 1 && review(&console.routes().await) == [50, 50]
    })
    .await;
    assert!(recorded.is_some(), "{:?}", console.history().await);
    let mut stream = console.follow_routes().await;

    // The API server is gone: the routes are still served, labelled stale; not ready; alive.
    sim.kill();
    let killed = Instant::now();
    let stale = until(Duration::from_secs(15), || async {
        console.routes().await.freshness.cluster.stale
    })
    .await
    .expect("the routes say stale once the API server is gone");
    println!("stale marker after the kill: {:.1} s", stale.as_secs_f64());
    let routes = console.routes().await;
    assert_eq!(review(&routes), [50, 50], "the cache is still served");
    let threshold = routes.freshness.cluster.stale_after_seconds;
    let since = routes.freshness.cluster.last_contact.unwrap();
    assert!(threshold > 0.0 && since > 0.0);
    let (status, body) = console.status("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("API server"), "{body}");
    assert_eq!(console.status("/healthz").await, (200, "ok".to_owned()));
    // The stream said so too.
    let said_stale = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(routes) = stream.recv().await {
            if routes.freshness.cluster.stale {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(said_stale, Ok(true), "the event stream says stale");

    // Back with fresh state (resourceVersions from the beginning, review at 100/0).
    sim.restart().await;
    let back = Instant::now();
    println!("API server down for {:.1} s", (back - killed).as_secs_f64());
    let fresh = until(Duration::from_secs(30), || async {
        let routes = console.routes().await;
        !routes.freshness.cluster.stale
            && review(&routes) == [100, 0]
            && console.status("/readyz").await.0 == 200
    })
    .await;
    let Some(fresh) = fresh else {
        let routes = console.routes().await;
        panic!(
            "routes show the fresh cluster, not stale, and /readyz is 200; but review is {:?}, {:?}, /readyz {:?}",
            review(&routes),
            routes.freshness,
            console.status("/readyz").await
        );
    };
    println!(
        "routes fresh and true after the return: {:.1} s",
        fresh.as_secs_f64()
    );
    assert!(fresh <= RECOVERY_BOUND, "took {fresh:?}");
    // The event stream shows the truth too, without a reconnect.
    let streamed = tokio::time::timeout(RECOVERY_BOUND, async {
        while let Some(routes) = stream.recv().await {
            if !routes.freshness.cluster.stale && review(&routes) == [100, 0] {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        streamed,
        Ok(true),
        "the event stream shows the fresh weights"
    );
    println!(
        "event stream fresh and true after the return: {:.1} s",
        back.elapsed().as_secs_f64()
    );

    // History: the fresh cluster holds none, and the re-list (50/50 in the cache, 100/0 in the
    // cluster) made none up. A change made now is recorded exactly once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(console.history().await.changes, vec![]);
    console.set_review(80, 20, (100, 0)).await;
    let once = until(Duration::from_secs(10), || async {
        console.history().await.changes.len() == 1
    })
    .await;
    assert!(once.is_some(), "{:?}", console.history().await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let history = console.history().await;
    assert_eq!(history.changes.len(), 1, "{history:?}");
    assert_eq!(history.changes[0].after.get("new"), Some(&20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_prometheus_is_labelled_stale_and_its_return_is_fresh_within_10_s() {
    let traffic = switchyard_sim::Traffic {
        rps: 20.0,
        test_share: 0.0,
        seed: 1,
    };
    let sim = switchyard_sim::Simulation::start("127.0.0.1:0".parse().unwrap(), false, &traffic)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let mut prometheus = Prometheus::start(dir.path(), &sim.addr.to_string());
    let source = Source::Prometheus(PrometheusSource::new(
        &prometheus.url,
        Duration::from_secs(5),
        Duration::from_secs(1),
    ));
    let console = Console::start_with(&kubeconfig, Some(source), Duration::from_secs(1)).await;
    let metrics_stale = |g: &Graph| g.freshness.metrics.as_ref().map(|m| m.stale);

    let up = until(Duration::from_secs(60), || async {
        metrics_stale(&console.graph().await) == Some(false)
    })
    .await;
    assert!(
        up.is_some(),
        "metrics never fresh: {:?}\n{}",
        console.graph().await.freshness,
        prometheus.log_tail()
    );

    prometheus.kill();
    let stale = until(Duration::from_secs(15), || async {
        metrics_stale(&console.graph().await) == Some(true)
    })
    .await
    .expect("the graph says the metrics are stale once Prometheus is gone");
    println!(
        "metrics stale after Prometheus' kill: {:.1} s",
        stale.as_secs_f64()
    );
    let graph = console.graph().await;
    let metrics = graph.freshness.metrics.clone().unwrap();
    assert!(
        metrics.error.is_some() && metrics.last_contact.is_some(),
        "{metrics:?}"
    );
    assert!(!graph.freshness.cluster.stale, "the API server is fine");
    let routes = console.routes().await;
    assert_eq!(routes.freshness.metrics.map(|m| m.stale), Some(true));
    assert_eq!(
        console.status("/readyz").await.0,
        200,
        "metrics do not make it unready"
    );

    prometheus.restart();
    let fresh = until(Duration::from_secs(30), || async {
        metrics_stale(&console.graph().await) == Some(false)
    })
    .await;
    let fresh = fresh.unwrap_or_else(|| {
        panic!(
            "metrics not fresh 30 s after Prometheus' return\n{}",
            prometheus.log_tail()
        )
    });
    println!(
        "metrics fresh after Prometheus' return: {:.1} s",
        fresh.as_secs_f64()
    );
    assert!(fresh <= RECOVERY_BOUND, "took {fresh:?}");
}

/// A real kube-apiserver's process killed and started again (same etcd): stale and unready while
/// it is gone, fresh within 10 s of its return, and the history exactly what it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_real_api_server_is_labelled_stale_then_fresh_with_the_history_intact() {
    if !switchyard_testkit::kinds().contains(&switchyard_testkit::Kind::Real) {
        println!("SWITCHYARD_CLUSTERS leaves out the real cluster");
        return;
    }
    let mut api = tokio::task::spawn_blocking(RestartableApiServer::start)
        .await
        .unwrap();
    let console = Console::start(&api.kubeconfig).await;
    let ready = until(Duration::from_secs(20), || async {
        console.status("/readyz").await.0 == 200
    })
    .await;
    assert!(ready.is_some(), "{:?}", console.status("/readyz").await);
    console.set_review(80, 20, (100, 0)).await;
    let recorded = until(Duration::from_secs(10), || async {
        console.history().await.changes.len() == 1
    })
    .await;
    assert!(recorded.is_some(), "{:?}", console.history().await);
    let before = console.history().await.changes;

    api.kill();
    let stale = until(Duration::from_secs(15), || async {
        console.routes().await.freshness.cluster.stale
    })
    .await
    .expect("the routes say stale once the API server is gone");
    println!(
        "real: stale marker after the kill: {:.1} s",
        stale.as_secs_f64()
    );
    assert_eq!(console.status("/readyz").await.0, 503);
    assert_eq!(console.status("/healthz").await, (200, "ok".to_owned()));

    api.restart().await;
    let fresh = until(Duration::from_secs(30), || async {
        !console.routes().await.freshness.cluster.stale && console.status("/readyz").await.0 == 200
    })
    .await
    .expect("fresh and ready after the return");
    println!(
        "real: routes fresh and ready after the API server's return: {:.1} s",
        fresh.as_secs_f64()
    );
    assert!(fresh <= RECOVERY_BOUND, "took {fresh:?}");
    assert_eq!(review(&console.routes().await), [80, 20]);
    // Nothing lost, nothing repeated.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(console.history().await.changes, before);
    console.set_review(50, 50, (80, 20)).await;
    let twice = until(Duration::from_secs(10), || async {
        console.history().await.changes.len() == 2
    })
    .await;
    assert!(twice.is_some(), "{:?}", console.history().await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(console.history().await.changes.len(), 2);
}
