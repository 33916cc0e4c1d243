//! Gateway API HTTPRoutes through the console's API, on the simulated cluster and the real
//! kube-apiserver with the real Gateway API CRDs (one body, both clusters): the gateway demo's
//! routes listed in the shape of VirtualServices, weights written by kubectl read as relative
//! shares (1 and 3 are 25 % / 75 %), an 80/20 change through the console landing in the HTTPRoute
//! as backendRef weights 80 and 20 (guarded: a stale view is 409 with the HTTPRoute as it is, bad
//! weights 422), and one bulk shift, one rollback and the history over a VirtualService and an
//! HTTPRoute together.

use serde_json::{json, Value};
use switchyard_protocol::{
    AccessResponse, ApiError, HistoryResponse, HttpRouteRoutes, RouteKind, RoutesResponse,
    SetHttpRouteWeightsResponse, ShiftOutcome, ShiftResponse,
};

mod support;

use support::{eventually, Kind, User};
use switchyard_testkit::on_every_cluster;

type Console = support::TestConsole;

async fn console(kind: Kind) -> Console {
    support::console_on(
        kind,
        support::Options {
            gateway: true,
            ..support::Options::default()
        },
    )
    .await
}

fn gateway_ns(c: &Console) -> String {
    c.gateway_ns.clone().expect("a gateway namespace")
}

async fn routes(c: &Console) -> RoutesResponse {
    c.get("/api/v1/routes").await
}

/// The gateway namespace's review HTTPRoute as the console lists it.
async fn review(c: &Console) -> Option<HttpRouteRoutes> {
    let ns = gateway_ns(c);
    routes(c)
        .await
        .http_routes
        .into_iter()
        .find(|r| r.namespace == ns && r.name == "review")
}

/// (weight, requested share) of review's rule 1 backends in the console's list.
async fn review_split(c: &Console) -> Vec<(String, u32, f64)> {
    review(c)
        .await
        .and_then(|r| r.routes.into_iter().find(|rule| rule.index == 1))
        .map(|rule| {
            rule.destinations
                .into_iter()
                .map(|d| (d.host, d.weight, d.requested_share))
                .collect()
        })
        .unwrap_or_default()
}

/// kubectl as the admin in the gateway namespace.
async fn kubectl(c: &Console, args: &[&str]) -> String {
    let ns = gateway_ns(c);
    let mut all = args.to_vec();
    all.extend(["-n", ns.as_str()]);
    c.kube
        .kubectl(User::Admin, &all)
        .await
        .unwrap_or_else(|e| panic!("kubectl {all:?}: {e}"))
}

/// review's rule 1 weights as the cluster has them, through kubectl.
async fn cluster_weights(c: &Console) -> String {
    kubectl(
        c,
        &[
            "get",
            "httproute",
            "review",
            "-o",
            "jsonpath={.spec.rules[1].backendRefs[*].weight}",
        ],
    )
    .await
    .trim()
    .to_owned()
}

async fn send(c: &Console, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
    c.http
        .request(method, format!("{}{path}", c.base))
        .header("x-requested-by", "switchyard")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn http_routes_are_listed_and_their_weights_set_like_virtual_services() {
    on_every_cluster!(|kind| http_routes_are_listed_and_set_on(kind));
}

async fn http_routes_are_listed_and_set_on(kind: Kind) {
    let c = console(kind).await;
    let gw = gateway_ns(&c);
    // The demo's three routes, each a header rule and an old/new rule, hosts = the Service it
    // attaches to, destinations = backend Services with their port.
    let listed = routes(&c).await;
    let names: Vec<&str> = listed
        .http_routes
        .iter()
        .filter(|r| r.namespace == gw)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["product", "recommendation", "review"]);
    assert_eq!(listed.virtual_services.len(), 3, "the VirtualServices stay");
    let review_route = review(&c).await.expect("review");
    assert_eq!(review_route.hosts, ["review"]);
    assert_eq!(
        review_route.routes[0].match_summary,
        "header x-group = test"
    );
    assert_eq!(review_route.routes[1].match_summary, "all requests");
    assert_eq!(review_route.routes[1].destinations[0].port, Some(80));
    assert_eq!(
        review_split(&c).await,
        [
            ("review-v1".to_owned(), 100, 100.0),
            ("review-v2".to_owned(), 0, 0.0)
        ]
    );
    let access: AccessResponse = c.get("/api/v1/access").await;
    assert!(
        access
            .http_routes
            .iter()
            .any(|a| a.namespace == gw && a.name == "review" && a.can_patch),
        "{access:?}"
    );

    // Weights 1 and 3 written by kubectl: relative, 25 % / 75 %.
    kubectl(
        &c,
        &[
            "patch",
            "httproute",
            "review",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/1/backendRefs/0/weight","value":1},{"op":"replace","path":"/spec/rules/1/backendRefs/1/weight","value":3}]"#,
        ],
    )
    .await;
    eventually(
        "the console reads weights 1 and 3 as 25 % / 75 %",
        || async {
            let split = review_split(&c).await;
            (split
                == [
                    ("review-v1".to_owned(), 1, 25.0),
                    ("review-v2".to_owned(), 3, 75.0),
                ])
            .then_some(())
        },
    )
    .await;
    // A weight removed: the API server's CRD default (1) is what is stored, and read.
    kubectl(
        &c,
        &[
            "patch",
            "httproute",
            "review",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/spec/rules/1/backendRefs/0/weight"}]"#,
        ],
    )
    .await;
    assert_eq!(cluster_weights(&c).await, "1 3");

    // 80/20 through the console: the rule's backendRef weights are 80 and 20.
    let path = format!("/api/v1/namespaces/{gw}/httproutes/review/routes/1/weights");
    let seen = json!([{"host": "review-v1", "weight": 1}, {"host": "review-v2", "weight": 3}]);
    let res = send(
        &c,
        reqwest::Method::PUT,
        &path,
        json!({"weights": {"review-v1": 80, "review-v2": 20}, "expected": seen}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let answer: SetHttpRouteWeightsResponse = res.json().await.unwrap();
    assert!(answer.changed);
    let weights: Vec<u32> = answer.http_route.routes[1]
        .destinations
        .iter()
        .map(|d| d.weight)
        .collect();
    assert_eq!(weights, [80, 20]);
    assert_eq!(cluster_weights(&c).await, "80 20");
    // The write carried who made it, in the same annotation as a VirtualService's.
    let annotation = kubectl(
        &c,
        &[
            "get",
            "httproute",
            "review",
            "-o",
            r"jsonpath={.metadata.annotations.switchyard\.dev/last-change}",
        ],
    )
    .await;
    assert!(annotation.contains(r#""source":"console""#), "{annotation}");

    // The same view again is stale now: 409 with the HTTPRoute as it is, nothing written.
    let res = send(
        &c,
        reqwest::Method::PUT,
        &path,
        json!({"weights": {"review-v1": 50, "review-v2": 50}, "expected": seen}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let conflict: ApiError = res.json().await.unwrap();
    assert_eq!(conflict.code, "conflict");
    let current = conflict.current_http_route.expect("the HTTPRoute as it is");
    assert_eq!(current.routes[1].destinations[0].weight, 80);
    assert!(conflict.current.is_none());
    assert_eq!(cluster_weights(&c).await, "80 20");

    // Weights that break the policy, a backend the rule does not have, and a Service that does
    // not exist: 422, nothing written.
    let now = json!([{"host": "review-v1", "weight": 80}, {"host": "review-v2", "weight": 20}]);
    for (weights, why) in [
        (json!({"review-v1": 80, "review-v2": 10}), "add up to 100"),
        (
            json!({"review-v1": 80, "review-v3": 20}),
            "no destination review-v3",
        ),
    ] {
        let res = send(
            &c,
            reqwest::Method::PUT,
            &path,
            json!({"weights": weights, "expected": now}),
        )
        .await;
        assert_eq!(res.status(), 422);
        let error: ApiError = res.json().await.unwrap();
        assert!(error.message.contains(why), "{}", error.message);
    }
    kubectl(
        &c,
        &[
            "patch",
            "httproute",
            "review",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/1/backendRefs/1/name","value":"review-v9"}]"#,
        ],
    )
    .await;
    let missing = json!([{"host": "review-v1", "weight": 80}, {"host": "review-v9", "weight": 20}]);
    let error: ApiError = eventually("the console sees review-v9", || async {
        let res = send(
            &c,
            reqwest::Method::PUT,
            &path,
            json!({"weights": {"review-v1": 50, "review-v9": 50}, "expected": missing}),
        )
        .await;
        (res.status() == 422).then_some(res)?.json().await.ok()
    })
    .await;
    assert!(
        error
            .message
            .contains("backend Service review-v9 does not exist"),
        "{}",
        error.message
    );
    // No such rule, no such HTTPRoute: 404.
    let res = send(
        &c,
        reqwest::Method::PUT,
        &format!("/api/v1/namespaces/{gw}/httproutes/nothing/routes/1/weights"),
        json!({"weights": {"a": 50, "b": 50}, "expected": now}),
    )
    .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn one_bulk_shift_and_one_rollback_change_a_virtual_service_and_an_http_route() {
    on_every_cluster!(|kind| mixed_bulk_shift_on(kind));
}

async fn mixed_bulk_shift_on(kind: Kind) {
    let c = console(kind).await;
    let gw = gateway_ns(&c);
    let res = send(
        &c,
        reqwest::Method::POST,
        "/api/v1/shift",
        json!({
            "targets": [
                {"namespace": c.ns, "name": "review"},
                {"namespace": gw, "name": "review", "kind": "HTTPRoute"}
            ],
            "weights": {"old": 20, "new": 80}
        }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let shifted: ShiftResponse = res.json().await.unwrap();
    let outcomes: Vec<(RouteKind, ShiftOutcome, Option<usize>)> = shifted
        .results
        .iter()
        .map(|r| (r.kind, r.outcome, r.route_index))
        .collect();
    assert_eq!(
        outcomes,
        [
            (RouteKind::VirtualService, ShiftOutcome::Changed, Some(1)),
            (RouteKind::HTTPRoute, ShiftOutcome::Changed, Some(1))
        ],
        "{shifted:?}"
    );
    assert_eq!(
        shifted.results[1].message,
        "review-v1 100 / review-v2 0 → review-v1 20 / review-v2 80"
    );
    assert!(shifted.results[1].http_route.is_some());
    assert_eq!(c.weights("review").await, [20, 80]);
    assert_eq!(cluster_weights(&c).await, "20 80");

    // An HTTPRoute target takes the old and new subsets' weights only.
    let res = send(
        &c,
        reqwest::Method::POST,
        "/api/v1/shift",
        json!({
            "targets": [{"namespace": gw, "name": "product", "kind": "HTTPRoute"}],
            "weights": {"old": 50, "canary": 50}
        }),
    )
    .await;
    let refused: ShiftResponse = res.json().await.unwrap();
    assert_eq!(refused.results[0].outcome, ShiftOutcome::Failed);
    assert_eq!(refused.results[0].status, Some(422));

    // One rollback returns every old/new route of both kinds.
    let res = send(&c, reqwest::Method::POST, "/api/v1/rollback", json!({})).await;
    assert_eq!(res.status(), 200);
    let rolled: ShiftResponse = res.json().await.unwrap();
    let mut changed: Vec<(RouteKind, String, String)> = rolled
        .results
        .iter()
        .filter(|r| r.outcome == ShiftOutcome::Changed)
        .map(|r| (r.kind, r.namespace.clone(), r.name.clone()))
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            (RouteKind::VirtualService, c.ns.clone(), "review".to_owned()),
            (RouteKind::HTTPRoute, gw.clone(), "review".to_owned())
        ]
    );
    assert_eq!(
        rolled.results.len(),
        6,
        "three VirtualServices and three HTTPRoutes: {rolled:?}"
    );
    assert_eq!(c.weights("review").await, [100, 0]);
    assert_eq!(cluster_weights(&c).await, "100 0");

    // The history shows both kinds, each action's changes under one operation.
    let history: HistoryResponse = eventually("four changes in the history", || async {
        let h: HistoryResponse = c.get("/api/v1/history").await;
        (h.changes.len() >= 4).then_some(h)
    })
    .await;
    let of = |source: &str| -> Vec<&switchyard_protocol::ChangeRecord> {
        history
            .changes
            .iter()
            .filter(|r| r.source == source)
            .collect()
    };
    for (source, before, after) in [
        ("bulk", (100, 0), (20, 80)),
        ("rollback", (20, 80), (100, 0)),
    ] {
        let records = of(source);
        let kinds: Vec<RouteKind> = records.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [RouteKind::VirtualService, RouteKind::HTTPRoute],
            "{source}: {records:?}"
        );
        assert_eq!(records[0].operation, records[1].operation, "{source}");
        assert!(records[0].operation.is_some());
        let http = records[1];
        assert_eq!(
            (http.namespace.as_str(), http.virtual_service.as_str()),
            (gw.as_str(), "review")
        );
        assert_eq!(http.before["review-v1"], before.0);
        assert_eq!(http.before["review-v2"], before.1);
        assert_eq!(http.after["review-v1"], after.0);
        assert_eq!(http.after["review-v2"], after.1);
    }
    // The record lives on the HTTPRoute: an Event whose involved object is it.
    let events = kubectl(
        &c,
        &[
            "get",
            "events",
            "-l",
            "app.kubernetes.io/managed-by=switchyard",
            "-o",
            "jsonpath={range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {end}",
        ],
    )
    .await;
    assert!(events.contains("HTTPRoute/review"), "{events}");
}
