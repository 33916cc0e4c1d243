//! The console's JSON+SSE API end to end: kube-rs against the simulated cluster and the real
//! kube-apiserver over real HTTP (one test body, both clusters), the console's router served on
//! loopback, requests as a browser or script would send them.

use kube::api::{Patch, PatchParams};
use serde_json::{json, Value};
use std::time::Duration;
use support::Kind;
use switchyard_protocol::{ApiError, RoutesResponse, ServerEvent, SetWeightsResponse};
use switchyard_sim::store::Key;
use switchyard_testkit::on_every_cluster;

mod support;

type Console = support::TestConsole;

async fn console(kind: Kind) -> Console {
    support::console_on(kind, support::Options::default()).await
}

fn expected(old: u32, new: u32, host: &str) -> Value {
    json!([{"host": host, "subset": "old", "weight": old}, {"host": host, "subset": "new", "weight": new}])
}

trait ConsoleExt {
    async fn put(&self, name: &str, index: &str, body: Value) -> reqwest::Response;
    async fn routes(&self) -> RoutesResponse;
}

impl ConsoleExt for Console {
    async fn put(&self, name: &str, index: &str, body: Value) -> reqwest::Response {
        self.http
            .put(format!(
                "{}/api/v1/namespaces/{}/virtualservices/{name}/routes/{index}/weights",
                self.base, self.ns
            ))
            .header("x-requested-by", "switchyard")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn routes(&self) -> RoutesResponse {
        self.get("/api/v1/routes").await
    }
}

#[tokio::test]
async fn lists_the_demo_routes() {
    on_every_cluster!(|kind| lists_the_demo_routes_on(kind));
}

async fn lists_the_demo_routes_on(kind: Kind) {
    let c = console(kind).await;
    let routes = c.routes().await;
    let names: Vec<&str> = routes
        .virtual_services
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names, ["product", "recommendation", "review"]);
    let review = &routes.virtual_services[2];
    assert!(!review.resource_version.is_empty());
    assert_eq!(review.routes[0].match_summary, "header x-group = test");
    let split: Vec<(Option<&str>, u32, f64)> = review.routes[1]
        .destinations
        .iter()
        .map(|d| (d.subset.as_deref(), d.weight, d.requested_share))
        .collect();
    assert_eq!(split, [(Some("old"), 100, 100.0), (Some("new"), 0, 0.0)]);
}

#[tokio::test]
async fn sets_weights_and_refuses_stale_views() {
    on_every_cluster!(|kind| sets_weights_and_refuses_stale_views_on(kind));
}

async fn sets_weights_and_refuses_stale_views_on(kind: Kind) {
    let c = console(kind).await;
    let res = c
        .put(
            "review",
            "1",
            json!({"weights": {"old": 80, "new": 20}, "expected": expected(100, 0, "review")}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: SetWeightsResponse = res.json().await.unwrap();
    assert!(body.changed);
    assert_eq!(body.virtual_service.routes[1].destinations[1].weight, 20);
    assert_eq!(c.weights("review").await, [80, 20]);

    // The same request again is based on a view that is no longer true.
    let res = c
        .put(
            "review",
            "1",
            json!({"weights": {"old": 50, "new": 50}, "expected": expected(100, 0, "review")}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, "conflict");
    assert!(err.message.contains("old 80 / new 20"), "{}", err.message);
    assert_eq!(err.current.unwrap().routes[1].destinations[0].weight, 80);
    assert_eq!(c.weights("review").await, [80, 20], "nothing was written");

    // Asking for what is already there writes nothing.
    let before = c
        .virtual_services()
        .get("review")
        .await
        .unwrap()
        .metadata
        .resource_version;
    let res = c
        .put(
            "review",
            "1",
            json!({"weights": {"old": 80, "new": 20}, "expected": expected(80, 20, "review")}),
        )
        .await;
    let body: SetWeightsResponse = res.json().await.unwrap();
    assert!(!body.changed);
    assert_eq!(
        c.virtual_services()
            .get("review")
            .await
            .unwrap()
            .metadata
            .resource_version,
        before
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_change_the_cache_has_not_seen_yet_is_caught_by_the_patch_guard() {
    let c = console(Kind::Simulated).await;
    // Change the route in the cluster's store directly; on this single-threaded runtime the
    // console's watch cannot apply it before set_weights has planned against its stale cache.
    let key = Key::new(
        "virtualservices.networking.istio.io",
        "hands-on",
        "recommendation",
    );
    c.sim()
        .store
        .update(&key, |cur| {
            let mut v = cur.clone();
            v["spec"]["http"][1]["route"][0]["weight"] = json!(50);
            v["spec"]["http"][1]["route"][1]["weight"] = json!(50);
            Ok(v)
        })
        .unwrap();
    let request: switchyard_protocol::SetWeightsRequest = serde_json::from_value(
        json!({"weights": {"old": 0, "new": 100}, "expected": expected(100, 0, "recommendation")}),
    )
    .unwrap();
    let actor = switchyard_console::cluster::Actor {
        client: &c.client,
        user: "test",
        source: "console",
    };
    let err = c
        .cluster
        .set_weights(&actor, "hands-on", "recommendation", 1, &request)
        .await
        .unwrap_err();
    match err {
        switchyard_console::cluster::Error::Conflict { message, current } => {
            assert!(message.contains("old 50 / new 50"), "{message}");
            assert_eq!(current.unwrap().view().routes[1].destinations[1].weight, 50);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(c.weights("recommendation").await, [50, 50]);
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    on_every_cluster!(|kind| bad_requests_get_clear_errors_on(kind));
}

async fn bad_requests_get_clear_errors_on(kind: Kind) {
    let c = console(kind).await;
    let cases = [
        (
            "review",
            "1",
            json!({"weights": {"old": 80, "new": 30}, "expected": expected(100, 0, "review")}),
            422,
            "add up to 100",
        ),
        (
            "review",
            "1",
            json!({"weights": {"old": 150, "new": 0}, "expected": expected(100, 0, "review")}),
            422,
            "out of range",
        ),
        (
            "review",
            "1",
            json!({"weights": {"old": 50, "canary": 50}, "expected": expected(100, 0, "review")}),
            422,
            "no destination canary",
        ),
        (
            "review",
            "1",
            json!({"weights": {"old": -5, "new": 105}, "expected": []}),
            422,
            "does not fit",
        ),
        (
            "review",
            "0",
            json!({"weights": {"new": 100}, "expected": [{"host": "review", "subset": "new", "weight": 0}]}),
            422,
            "single destination",
        ),
        (
            "review",
            "7",
            json!({"weights": {"old": 50, "new": 50}, "expected": expected(100, 0, "review")}),
            404,
            "no http route 7",
        ),
        (
            "nope",
            "1",
            json!({"weights": {"old": 50, "new": 50}, "expected": expected(100, 0, "nope")}),
            404,
            "not found",
        ),
        ("review", "x", json!({}), 400, "Cannot parse"),
    ];
    for (name, index, body, status, text) in cases {
        let res = c.put(name, index, body.clone()).await;
        assert_eq!(res.status(), status, "{name}/{index} {body}");
        let err: ApiError = res.json().await.unwrap();
        assert!(
            err.message.contains(text),
            "{name}/{index}: {:?} lacks {text:?}",
            err.message
        );
    }
    // Not JSON at all.
    let res = c
        .http
        .put(format!(
            "{}/api/v1/namespaces/{}/virtualservices/review/routes/1/weights",
            c.base, c.ns
        ))
        .header("x-requested-by", "switchyard")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<ApiError>().await.unwrap().code, "bad_request");
    // Unknown API path answers JSON too.
    let res = c
        .http
        .get(format!("{}/api/v1/nothing", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<ApiError>().await.unwrap().code, "not_found");
    assert_eq!(c.weights("review").await, [100, 0], "nothing was written");
}

#[tokio::test]
async fn writes_need_the_csrf_header_and_same_origin() {
    let c = console(Kind::Simulated).await;
    let url = format!(
        "{}/api/v1/namespaces/hands-on/virtualservices/review/routes/1/weights",
        c.base
    );
    let body = json!({"weights": {"old": 80, "new": 20}, "expected": expected(100, 0, "review")});
    let res = c.http.put(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .http
        .put(&url)
        .header("x-requested-by", "switchyard")
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(c.weights("review").await, [100, 0]);
    let res = c
        .http
        .put(&url)
        .header("x-requested-by", "switchyard")
        .header("origin", c.base.clone())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Reads SSE messages until one satisfies `want`, within a deadline.
async fn next_event(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    want: impl Fn(&ServerEvent) -> bool,
) -> ServerEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let event: ServerEvent = serde_json::from_str(&data).unwrap();
                if want(&event) {
                    return event;
                }
            }
            let chunk = stream.chunk().await.unwrap().expect("stream open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("event within 20 s")
}

#[tokio::test]
async fn viewers_see_changes_made_elsewhere_live() {
    on_every_cluster!(|kind| viewers_see_changes_made_elsewhere_live_on(kind));
}

async fn viewers_see_changes_made_elsewhere_live_on(kind: Kind) {
    let c = console(kind).await;
    let res = c
        .http
        .get(format!("{}/api/v1/events", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut stream = res;
    let mut buffer = String::new();
    let first = next_event(&mut stream, &mut buffer, |_| true).await;
    assert!(matches!(first, ServerEvent::Routes(ref r) if r.virtual_services.len() == 3));
    let ServerEvent::Routes(routes) = first else {
        unreachable!()
    };
    let seen_version = routes
        .virtual_services
        .iter()
        .find(|vs| vs.name == "product")
        .map(|vs| vs.resource_version.clone())
        .unwrap();
    next_event(&mut stream, &mut buffer, |e| {
        matches!(e, ServerEvent::Graph(_))
    })
    .await;

    // Someone patches with kubectl-style JSON patch, not through the console.
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/spec/http/1/route/0/weight", "value": 30},
        {"op": "add", "path": "/spec/http/1/route/1/weight", "value": 70}
    ]))
    .unwrap();
    c.virtual_services()
        .patch(
            "product",
            &PatchParams::default(),
            &Patch::Json::<()>(patch),
        )
        .await
        .unwrap();
    let changed = next_event(
        &mut stream,
        &mut buffer,
        // A refresh may re-send the unchanged object first (its observed split moved): wait for
        // the version the patch produced.
        |e| {
            matches!(e, ServerEvent::VirtualServiceChanged(vs)
                if vs.name == "product" && vs.resource_version != seen_version)
        },
    )
    .await;
    let ServerEvent::VirtualServiceChanged(vs) = changed else {
        unreachable!()
    };
    let weights: Vec<u32> = vs.routes[1].destinations.iter().map(|d| d.weight).collect();
    assert_eq!(weights, [30, 70]);

    c.virtual_services()
        .delete("product", &Default::default())
        .await
        .unwrap();
    next_event(
        &mut stream,
        &mut buffer,
        |e| matches!(e, ServerEvent::VirtualServiceDeleted { name, .. } if name == "product"),
    )
    .await;
    assert_eq!(c.routes().await.virtual_services.len(), 2);
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let c = console(Kind::Simulated).await;
    for path in ["/", "/api/v1/routes", "/api/v1/nothing", "/some/page"] {
        let res = c
            .http
            .get(format!("{}{path}", c.base))
            .send()
            .await
            .unwrap();
        let csp = res
            .headers()
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(
            csp.to_str()
                .unwrap()
                .contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
    }
}
