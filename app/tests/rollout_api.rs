//! Rollout actions and who may do them, through the console's API against the simulated cluster
//! and the real kube-apiserver (one test body, both clusters) with their RBAC: bulk shift, rollback, history with the user's name, access reviews, token and
//! header (impersonation) modes, 401/403 handling.

use serde_json::{json, Value};
use switchyard_console::auth::Mode;
use switchyard_protocol::{
    AccessResponse, ApiError, Settings, ShiftOutcome, ShiftResponse, Subsets, WhoAmI,
};

mod support;

use support::{history_until, Kind, User};
use switchyard_testkit::on_every_cluster;

type Console = support::TestConsole;

async fn console(kind: Kind, mode: Mode, anonymous_writes: bool) -> Console {
    support::console_on(
        kind,
        support::Options {
            mode,
            anonymous_writes,
            ..support::Options::default()
        },
    )
    .await
}

/// A browser-like client: keeps cookies, sends the CSRF header on writes.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    http.post(url)
        .header("x-requested-by", "switchyard")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The three demo VirtualServices with an old/new route, as bulk-shift targets (a shift names its
/// targets; an empty list is refused).
fn demo_targets(c: &Console) -> Value {
    json!(["product", "recommendation", "review"]
        .map(|name| json!({"namespace": c.ns, "name": name})))
}

#[tokio::test]
async fn operator_shifts_everything_then_rolls_back_and_the_history_names_them() {
    on_every_cluster!(|kind| {
        operator_shifts_everything_then_rolls_back_and_the_history_names_them_on(kind)
    });
}

async fn operator_shifts_everything_then_rolls_back_and_the_history_names_them_on(kind: Kind) {
    let c = console(kind, Mode::Token, false).await;
    let http = browser();
    // Without a session, reads are refused and say why.
    let res = http
        .get(format!("{}/api/v1/routes", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let who: WhoAmI = http
        .get(format!("{}/api/v1/whoami", c.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (who.auth_mode.as_str(), who.user.as_deref()),
        ("token", None)
    );

    let res = post(
        &http,
        format!("{}/api/v1/session", c.base),
        json!({"token": "not-a-token"}),
    )
    .await;
    assert_eq!(res.status(), 401);
    let res = post(
        &http,
        format!("{}/api/v1/session", c.base),
        json!({"token": c.kube.token(User::Operator)}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let who: WhoAmI = res.json().await.unwrap();
    assert_eq!(who.user.as_deref(), Some("operator"));

    let access: AccessResponse = http
        .get(format!("{}/api/v1/access", c.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        access.virtual_services.iter().all(|a| a.can_patch),
        "{access:?}"
    );

    // Bulk shift of every old/new route in scope, named.
    let res = post(
        &http,
        format!("{}/api/v1/shift", c.base),
        json!({"targets": demo_targets(&c), "weights": {"old": 0, "new": 100}}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let shifted: ShiftResponse = res.json().await.unwrap();
    assert_eq!(shifted.results.len(), 3);
    assert!(
        shifted
            .results
            .iter()
            .all(|r| r.outcome == ShiftOutcome::Changed),
        "{shifted:?}"
    );
    for name in ["product", "recommendation", "review"] {
        assert_eq!(c.weights(name).await, [0, 100], "{name}");
    }

    let res = post(&http, format!("{}/api/v1/rollback", c.base), json!({})).await;
    let rolled: ShiftResponse = res.json().await.unwrap();
    assert!(
        rolled
            .results
            .iter()
            .all(|r| r.outcome == ShiftOutcome::Changed),
        "{rolled:?}"
    );
    for name in ["product", "recommendation", "review"] {
        assert_eq!(c.weights(name).await, [100, 0], "{name}");
    }
    // Rolling back again changes nothing and says so.
    let again: ShiftResponse = post(&http, format!("{}/api/v1/rollback", c.base), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(again
        .results
        .iter()
        .all(|r| r.outcome == ShiftOutcome::Unchanged));

    // Named services sent back to old 100 (the page's rollback with some services unticked) are
    // a rollback of those services in the history, not a bulk shift.
    let review = json!([{"namespace": c.ns, "name": "review"}]);
    for weights in [json!({"old": 0, "new": 100}), json!({"old": 100, "new": 0})] {
        let res = post(
            &http,
            format!("{}/api/v1/shift", c.base),
            json!({"targets": review, "weights": weights}),
        )
        .await;
        assert_eq!(res.status(), 200);
    }

    let history = history_until(&http, &c.base, 8).await;
    assert_eq!(history.changes.len(), 8);
    let sources: Vec<&str> = history.changes.iter().map(|c| c.source.as_str()).collect();
    assert_eq!(sources.iter().filter(|s| **s == "bulk").count(), 4);
    assert_eq!(sources.iter().filter(|s| **s == "rollback").count(), 4);
    assert_eq!(sources[6..], ["bulk", "rollback"], "{sources:?}");
    assert!(history.changes.iter().all(|c| c.user == "operator"));
    let last = history.changes.last().unwrap();
    assert_eq!(last.after.get("old"), Some(&100));

    // Signing out forgets the session.
    let res = http
        .delete(format!("{}/api/v1/session", c.base))
        .header("x-requested-by", "switchyard")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        http.get(format!("{}/api/v1/routes", c.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn a_viewer_sees_read_only_controls_and_writes_are_refused_by_the_cluster() {
    on_every_cluster!(|kind| {
        a_viewer_sees_read_only_controls_and_writes_are_refused_by_the_cluster_on(kind)
    });
}

async fn a_viewer_sees_read_only_controls_and_writes_are_refused_by_the_cluster_on(kind: Kind) {
    let c = console(kind, Mode::Token, false).await;
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {}", c.kube.token(User::Viewer));
    let access: AccessResponse = http
        .get(format!("{}/api/v1/access", c.base))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(access.virtual_services.iter().all(|a| !a.can_patch));
    assert!(
        access.virtual_services[0].reason.is_some(),
        "says why: {access:?}"
    );

    let res = http
        .put(format!("{}/api/v1/namespaces/{}/virtualservices/review/routes/1/weights", c.base, c.ns))
        .header("authorization", &bearer)
        .header("x-requested-by", "switchyard")
        .json(&json!({"weights": {"old": 80, "new": 20}, "expected": [
            {"host": "review", "subset": "old", "weight": 100}, {"host": "review", "subset": "new", "weight": 0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, "forbidden");
    assert!(
        err.message.contains("viewer"),
        "the cluster's message: {}",
        err.message
    );

    let res = http
        .post(format!("{}/api/v1/shift", c.base))
        .header("authorization", &bearer)
        .header("x-requested-by", "switchyard")
        .json(&json!({"targets": demo_targets(&c), "weights": {"old": 0, "new": 100}}))
        .send()
        .await
        .unwrap();
    let shifted: ShiftResponse = res.json().await.unwrap();
    assert_eq!(shifted.results.len(), 3, "{shifted:?}");
    assert!(
        shifted
            .results
            .iter()
            .all(|r| r.outcome == ShiftOutcome::Failed && r.status == Some(403)),
        "{shifted:?}"
    );
    assert_eq!(c.weights("review").await, [100, 0]);
}

#[tokio::test]
async fn header_mode_impersonates_the_proxy_user_and_groups() {
    on_every_cluster!(|kind| header_mode_impersonates_the_proxy_user_and_groups_on(kind));
}

async fn header_mode_impersonates_the_proxy_user_and_groups_on(kind: Kind) {
    let c = console(
        kind,
        Mode::Header {
            user_header: "x-forwarded-user".parse().unwrap(),
            groups_header: "x-forwarded-groups".parse().unwrap(),
        },
        false,
    )
    .await;
    let http = reqwest::Client::new();
    let shift = |groups: &'static str| {
        http.post(format!("{}/api/v1/shift", c.base))
            .header("x-forwarded-user", "jane")
            .header("x-forwarded-groups", groups)
            .header("x-requested-by", "switchyard")
            .json(&json!({"targets": [{"namespace": c.ns, "name": "review"}], "weights": {"old": 50, "new": 50}}))
            .send()
    };
    let as_viewer: ShiftResponse = shift("switchyard:viewers")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_viewer.results[0].status, Some(403), "{as_viewer:?}");
    let as_operator: ShiftResponse = shift("switchyard:operators")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        as_operator.results[0].outcome,
        ShiftOutcome::Changed,
        "{as_operator:?}"
    );
    assert_eq!(c.weights("review").await, [50, 50]);
    let proxied = reqwest::Client::builder()
        .default_headers(reqwest::header::HeaderMap::from_iter([
            (
                reqwest::header::HeaderName::from_static("x-forwarded-user"),
                reqwest::header::HeaderValue::from_static("jane"),
            ),
            (
                reqwest::header::HeaderName::from_static("x-forwarded-groups"),
                reqwest::header::HeaderValue::from_static("switchyard:viewers"),
            ),
        ]))
        .build()
        .unwrap();
    let history = history_until(&proxied, &c.base, 1).await;
    assert_eq!(history.changes[0].user, "jane");
    // Someone the cluster lets read nothing sees nothing, though the console's cache has it all.
    let stranger: switchyard_protocol::RoutesResponse = http
        .get(format!("{}/api/v1/routes", c.base))
        .header("x-forwarded-user", "stranger")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stranger.virtual_services.is_empty());
    let graph: switchyard_protocol::Graph = http
        .get(format!("{}/api/v1/graph", c.base))
        .header("x-forwarded-user", "stranger")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(graph.splits.is_empty() && graph.nodes.iter().all(|n| n.namespace.is_empty()));
    let jane: switchyard_protocol::RoutesResponse = http
        .get(format!("{}/api/v1/routes", c.base))
        .header("x-forwarded-user", "jane")
        .header("x-forwarded-groups", "switchyard:viewers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jane.virtual_services.len(), 3);
    // No user header: not authenticated.
    let res = http
        .get(format!("{}/api/v1/routes", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn anonymous_console_off_loopback_is_read_only() {
    let c = console(Kind::Simulated, Mode::Anonymous, false).await;
    let http = reqwest::Client::new();
    let who: WhoAmI = http
        .get(format!("{}/api/v1/whoami", c.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!who.may_write);
    let res = post(&http, format!("{}/api/v1/rollback", c.base), json!({})).await;
    assert_eq!(res.status(), 403);
    let err: ApiError = res.json().await.unwrap();
    assert!(err.message.contains("read-only"), "{}", err.message);
    assert_eq!(
        http.get(format!("{}/api/v1/routes", c.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn external_changes_are_in_the_history_and_bulk_shift_skips_changed_targets() {
    on_every_cluster!(|kind| {
        external_changes_are_in_the_history_and_bulk_shift_skips_changed_targets_on(kind)
    });
}

async fn external_changes_are_in_the_history_and_bulk_shift_skips_changed_targets_on(kind: Kind) {
    let c = console(kind, Mode::Anonymous, true).await;
    let http = reqwest::Client::new();
    // A change made with the API directly (as kubectl would), not through the console.
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 70},
        {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 30}
    ]))
    .unwrap();
    c.virtual_services()
        .patch(
            "product",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Json::<()>(patch),
        )
        .await
        .unwrap();
    let history = history_until(&http, &c.base, 1).await;
    assert_eq!(history.changes[0].source, "external");
    assert_eq!(history.changes[0].virtual_service, "product");
    assert_eq!(history.changes[0].before.get("old"), Some(&100));

    // The client still believes product is at 100/0: that target fails, the others proceed.
    let seen = json!([{"host": "product", "subset": "old", "weight": 100}, {"host": "product", "subset": "new", "weight": 0}]);
    let res = post(&http, format!("{}/api/v1/shift", c.base), json!({
        "targets": [{"namespace": c.ns, "name": "product", "expected": seen}, {"namespace": c.ns, "name": "review"}, {"namespace": c.ns, "name": "nope"}],
        "weights": {"old": 20, "new": 80}})).await;
    let shifted: ShiftResponse = res.json().await.unwrap();
    let by_name = |n: &str| {
        shifted
            .results
            .iter()
            .find(|r| r.name == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (by_name("product").outcome, by_name("product").status),
        (ShiftOutcome::Failed, Some(409))
    );
    assert!(
        by_name("product").message.contains("old 70 / new 30"),
        "{}",
        by_name("product").message
    );
    assert_eq!(by_name("review").outcome, ShiftOutcome::Changed);
    assert_eq!(
        by_name("review").message,
        "old 100 / new 0 → old 20 / new 80"
    );
    assert_eq!(by_name("nope").status, Some(404));
    assert_eq!(c.weights("product").await, [70, 30]);
    assert_eq!(c.weights("review").await, [20, 80]);
    // Invalid split: the whole request is refused before anything is touched.
    let res = post(
        &http,
        format!("{}/api/v1/shift", c.base),
        json!({"targets": demo_targets(&c), "weights": {"old": 10, "new": 10}}),
    )
    .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn other_subset_names_are_sent_to_the_page_and_used_by_shift_and_rollback() {
    on_every_cluster!(|kind| other_subset_names_on(kind));
}

async fn other_subset_names_on(kind: Kind) {
    let default = console(kind, Mode::Anonymous, true).await;
    assert_eq!(
        default.get::<Settings>("/api/v1/settings").await.subsets,
        Subsets::default()
    );

    // The demo with its subsets called blue and green, and a console told so.
    let manifest = switchyard_sim::simulation::DEMO_MANIFEST
        .replace("name: old\n", "name: blue\n")
        .replace("subset: old\n", "subset: blue\n")
        .replace("name: new\n", "name: green\n")
        .replace("subset: new\n", "subset: green\n");
    let subsets = Subsets::new("blue", "green").unwrap();
    let c = support::console_on(
        kind,
        support::Options {
            subsets: subsets.clone(),
            manifest: Some(manifest),
            ..support::Options::default()
        },
    )
    .await;
    assert_eq!(c.get::<Settings>("/api/v1/settings").await.subsets, subsets);

    let shift = |weights: Value| {
        post(
            &c.http,
            format!("{}/api/v1/shift", c.base),
            json!({"targets": demo_targets(&c), "weights": weights}),
        )
    };
    // The old names split no route here: each target says so, nothing is written.
    let res: ShiftResponse = shift(json!({"old": 0, "new": 100}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res.results.len(), 3, "{res:?}");
    assert!(
        res.results.iter().all(|r| r.outcome == ShiftOutcome::Failed
            && r.status == Some(422)
            && r.message
                .contains("no route that splits between exactly new and old")),
        "{res:?}"
    );
    assert_eq!(c.weights("review").await, [100, 0]);
    let res: ShiftResponse = shift(json!({"blue": 0, "green": 100}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res.results.len(), 3, "{res:?}");
    assert!(res
        .results
        .iter()
        .all(|r| r.outcome == ShiftOutcome::Changed));
    assert_eq!(c.weights("review").await, [0, 100]);
    // At once, before the console's cache may have seen the shift: a rollback reads what it
    // changes fresh, so it never answers "already blue 100 / green 0" for a route at 0/100.
    let res: ShiftResponse = post(&c.http, format!("{}/api/v1/rollback", c.base), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res.results.len(), 3, "{res:?}");
    assert!(res.results.iter().all(|r| r.outcome == ShiftOutcome::Changed && r.message.contains("blue 100 / green 0")), "{res:?}");
    for name in ["product", "recommendation", "review"] {
        assert_eq!(c.weights(name).await, [100, 0], "{name}");
    }
}
