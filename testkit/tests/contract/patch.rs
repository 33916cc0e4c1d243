//! PATCH in all four flavours: JSON Patch (the console's guarded weight change, and the failures it
//! maps to 409), merge patch, strategic merge (refused for custom resources), server-side apply.

use super::support::{Clusters, Compare, Message, Req};
use serde_json::json;

const REVIEW: &str = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review";
const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const APPLY_PATCH: &str = "application/apply-patch+yaml";

fn json_patch(ops: serde_json::Value) -> Req {
    Req::patch(REVIEW, JSON_PATCH, &ops.to_string())
}

/// The generic 422 the API server answers for any JSON Patch that does not apply; the console
/// turns it into its own 409 with the route as it is now, so the code and reason are what matter.
fn rejected() -> Compare {
    Compare::status().message(Message::Exact)
}

#[tokio::test(flavor = "multi_thread")]
async fn json_patch_with_a_failed_test_is_422_invalid() {
    let c = Clusters::start().await;
    let both = c
        .send(&json_patch(json!([
            {"op": "test", "path": "/spec/http/1/route/0/weight", "value": 80},
            {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 20}
        ])))
        .await;
    rejected().check("failed test", &both);
    assert_eq!(both.real.status, 422);
    // Nothing was written on either.
    let after = c.send(&Req::get(REVIEW)).await;
    Compare::object(&["/spec/http/1/route/0/weight", "/metadata/generation"])
        .check("after a failed test", &after);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_patch_on_a_missing_path_is_422_invalid() {
    let c = Clusters::start().await;
    for (case, ops) in [
        (
            "replace under a missing parent",
            json!([{"op": "replace", "path": "/spec/tcp/0/weight", "value": 1}]),
        ),
        (
            "remove of a missing member",
            json!([{"op": "remove", "path": "/spec/gateways"}]),
        ),
        (
            "test of a missing member against a value",
            json!([{"op": "test", "path": "/spec/gateways", "value": ["mesh"]}]),
        ),
        (
            "add under a missing parent",
            json!([{"op": "add", "path": "/spec/nope/deeper", "value": 1}]),
        ),
    ] {
        let both = c.send(&json_patch(ops)).await;
        rejected().check(case, &both);
        assert_eq!(both.real.status, 422, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_patch_with_an_index_out_of_range_is_422_invalid() {
    let c = Clusters::start().await;
    for (case, ops) in [
        (
            "replace past the end",
            json!([{"op": "replace", "path": "/spec/http/1/route/2/weight", "value": 1}]),
        ),
        (
            "replace of a route that does not exist",
            json!([{"op": "replace", "path": "/spec/http/5", "value": {}}]),
        ),
        (
            "add past the end",
            json!([{"op": "add", "path": "/spec/http/1/route/3", "value": {}}]),
        ),
        (
            "negative index before the start",
            json!([{"op": "remove", "path": "/spec/http/1/route/-3"}]),
        ),
        (
            "test of an index past the end",
            json!([{"op": "test", "path": "/spec/http/2", "value": null}]),
        ),
    ] {
        let both = c.send(&json_patch(ops)).await;
        rejected().check(case, &both);
        assert_eq!(both.real.status, 422, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_patch_quirks_of_evanphx_agree() {
    let c = Clusters::start().await;
    for (case, ops, pointer) in [
        (
            "replace of a missing member creates it",
            json!([{"op": "replace", "path": "/metadata/labels", "value": {"a": "b"}}]),
            "/metadata/labels",
        ),
        (
            "test of a missing member against null passes",
            json!([{"op": "test", "path": "/spec/gateways", "value": null},
                   {"op": "add", "path": "/metadata/annotations", "value": {"t": "1"}}]),
            "/metadata/annotations",
        ),
        (
            "-1 names the last element",
            json!([{"op": "replace", "path": "/spec/http/1/route/-1/weight", "value": 7}]),
            "/spec/http/1/route",
        ),
        (
            "add at -1 appends",
            json!([{"op": "add", "path": "/spec/hosts/-1", "value": "review.other"}]),
            "/spec/hosts",
        ),
        (
            "an empty patch changes nothing",
            json!([]),
            "/metadata/generation",
        ),
    ] {
        let both = c.send(&json_patch(ops)).await;
        Compare::object(&[pointer]).check(case, &both);
        assert_eq!(both.real.status, 200, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_guarded_weight_patch_applies_alike() {
    let c = Clusters::start().await;
    // What `cluster::weights` sends: test the whole route as last seen, then set the weights and
    // the last-change annotation in the same patch.
    let route = json!({"route": [
        {"destination": {"host": "review", "subset": "old"}, "weight": 100},
        {"destination": {"host": "review", "subset": "new"}, "weight": 0}]});
    let ops = json!([
        {"op": "test", "path": "/spec/http/1", "value": route},
        {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 80},
        {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 20},
        {"op": "add", "path": "/metadata/annotations/switchyard.dev~1last-change", "value": "{}"}
    ]);
    // The demo was applied with kubectl on the real cluster, so annotations exist there; make
    // sure they exist on both before the `add` below them.
    let annotate = json!([{"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}}]);
    c.send(&json_patch(annotate)).await;
    let both = c.send(&json_patch(ops.clone())).await;
    Compare::object(&[
        "/spec",
        "/metadata/annotations/switchyard.dev~1last-change",
        "/metadata/generation",
    ])
    .check("guarded weight patch", &both);
    assert_eq!(both.real.status, 200);
    // The same patch again fails its test on both: the route changed.
    let again = c.send(&json_patch(ops)).await;
    rejected().check("the same guarded patch twice", &again);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_patch_bodies_are_400_bad_request() {
    let c = Clusters::start().await;
    for (case, body) in [
        ("not JSON", "garbage"),
        ("an object, not a list", r#"{"op":"test"}"#),
    ] {
        let both = c.send(&Req::patch(REVIEW, JSON_PATCH, body)).await;
        // The decoder's words differ (Go's and serde's); kubectl prints them, nobody parses them.
        Compare::status().message(Message::Any).check(case, &both);
        assert_eq!(both.real.status, 400, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn merge_patch_with_null_removes_the_field() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::patch(
            REVIEW,
            MERGE_PATCH,
            r#"{"metadata":{"labels":{"team":"a"}},"spec":{"hosts":null,"gateways":null}}"#,
        ))
        .await;
    Compare::object(&[
        "/spec/hosts",
        "/spec/gateways",
        "/spec/http",
        "/metadata/labels",
        "/metadata/generation",
    ])
    .check("merge patch with null", &both);
    assert!(both.real.json.pointer("/spec/hosts").is_none());
    // null for a label removes just that label.
    let both = c
        .send(&Req::patch(
            REVIEW,
            MERGE_PATCH,
            r#"{"metadata":{"labels":{"team":null,"b":"c"}}}"#,
        ))
        .await;
    Compare::object(&["/metadata/labels"]).check("merge patch removing a label", &both);
}

#[tokio::test(flavor = "multi_thread")]
async fn merge_patch_that_is_not_an_object() {
    // Go decodes a merge patch into a map: anything else is a 400 naming the JSON type it found,
    // and `null` is "Invalid JSON Patch". A strategic merge patch says the same without the
    // "error decoding patch" prefix, and applies `null` as an empty patch.
    let c = Clusters::start().await;
    for body in ["[1]", "1", "\"x\"", "true", "null"] {
        let both = c.send(&Req::patch(REVIEW, MERGE_PATCH, body)).await;
        Compare::status()
            .message(Message::Exact)
            .check(&format!("merge patch {body}"), &both);
        assert_eq!(both.real.status, 400, "{body}");
    }
    let deployment = "/apis/apps/v1/namespaces/{ns}/deployments/review-v2";
    let strategic = "application/strategic-merge-patch+json";
    let both = c.send(&Req::patch(deployment, strategic, "[1]")).await;
    Compare::status()
        .message(Message::Exact)
        .check("strategic merge patch [1]", &both);
    assert_eq!(both.real.status, 400);
    let both = c.send(&Req::patch(deployment, strategic, "null")).await;
    Compare::object(&["/spec/replicas", "/metadata/generation"])
        .check("strategic merge patch null", &both);
    assert_eq!(both.real.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn strategic_merge_on_a_custom_resource_is_415() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::patch(
            REVIEW,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"hosts":["review"]}}"#,
        ))
        .await;
    // kubectl reads the accepted types from the message to fall back to a merge patch.
    Compare::status()
        .message(Message::Exact)
        .also(&["/details"])
        .check("strategic merge on a VirtualService", &both);
    assert_eq!(both.real.status, 415);
    // An unknown patch type is the same 415.
    let both = c.send(&Req::patch(REVIEW, "text/plain", "{}")).await;
    Compare::status()
        .message(Message::Exact)
        .also(&["/details"])
        .check("unknown patch type", &both);
}

#[tokio::test(flavor = "multi_thread")]
async fn strategic_merge_on_a_built_in_type_merges_lists_by_key() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::patch(
            "/apis/apps/v1/namespaces/{ns}/deployments/review-v2",
            "application/strategic-merge-patch+json",
            r#"{"metadata":{"annotations":{"sim.switchyard.dev/error-rate":"0.2"}},
                "spec":{"template":{"spec":{"containers":[{"name":"review","image":"hands-on/review:v3"}]}}}}"#,
        ))
        .await;
    Compare::object(&[
        "/metadata/annotations/sim.switchyard.dev~1error-rate",
        "/spec/template/spec/containers/0/name",
        "/spec/template/spec/containers/0/image",
        "/spec/template/spec/containers/0/ports",
        "/metadata/generation",
    ])
    .check("strategic merge on a Deployment", &both);
    assert_eq!(both.real.status, 200);
}

fn applied(name: &str, hosts: &str, with_labels: bool) -> String {
    let labels = if with_labels {
        "\n  labels:\n    team: a"
    } else {
        ""
    };
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}{labels}\nspec:\n  hosts: [{hosts}]\n  http:\n  - route:\n    - destination:\n        host: {hosts}\n"
    )
}

fn apply(name: &str, manager: Option<&str>, body: &str) -> Req {
    let query = manager.map_or(String::new(), |m| format!("?fieldManager={m}"));
    Req::patch(
        &format!("/apis/networking.istio.io/v1/namespaces/{{ns}}/virtualservices/{name}{query}"),
        APPLY_PATCH,
        body,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn server_side_apply_creates_updates_and_needs_a_field_manager() {
    let c = Clusters::start().await;
    let body = applied("ssa", "ssa", true);
    let both = c.send(&apply("ssa", None, &body)).await;
    Compare::status()
        .message(Message::Exact)
        .check("apply without fieldManager", &both);
    assert_eq!(both.real.status, 422);

    let both = c.send(&apply("ssa", Some("alice"), &body)).await;
    Compare::object(&["/spec", "/metadata/labels", "/metadata/generation"])
        .check("apply creates", &both);
    assert_eq!(both.real.status, 201);

    let both = c
        .send(&apply("ssa", Some("alice"), &applied("ssa", "ssa2", true)))
        .await;
    Compare::object(&["/spec", "/metadata/labels", "/metadata/generation"])
        .check("apply by the same manager updates", &both);
    assert_eq!(both.real.status, 200);

    // `force` belongs to apply only.
    let both = c
        .send(&Req::patch(
            &format!("{REVIEW}?force=true"),
            MERGE_PATCH,
            r#"{"metadata":{"labels":{"a":"b"}}}"#,
        ))
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("force on a merge patch", &both);
    assert_eq!(both.real.status, 422);

    // The object in the body must be the one in the URL.
    let both = c
        .send(&apply(
            "ssa",
            Some("alice"),
            &applied("other", "ssa", false),
        ))
        .await;
    Compare::status()
        .message(Message::Any)
        .check("apply with another name", &both);
    assert_eq!(both.real.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_side_apply_field_ownership() {
    // Divergence "server-side apply field ownership" (stays, docs/sim-divergences.md): the
    // simulator does not track managedFields, so a second manager's apply of an owned field
    // succeeds instead of 409 Conflict, and a manager that stops applying a field leaves it in
    // place instead of removing it. The console never applies; kubectl apply --server-side does.
    let c = Clusters::start().await;
    let both = c
        .send(&apply("owned", Some("alice"), &applied("owned", "a", true)))
        .await;
    assert_eq!((both.sim.status, both.real.status), (201, 201));

    let both = c
        .send(&apply("owned", Some("bob"), &applied("owned", "b", false)))
        .await;
    assert_eq!(
        (both.real.status, both.real.reason()),
        (409, "Conflict"),
        "{}",
        both.real.text
    );
    assert_eq!(
        both.real.json.pointer("/details/causes/0/reason"),
        Some(&json!("FieldManagerConflict"))
    );
    assert_eq!(both.sim.status, 200, "{}", both.sim.text);

    // alice applies again without the labels and without spec.http: the real server removes what
    // only she owned; the simulator keeps it.
    let body = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: owned\nspec:\n  hosts: [a]\n";
    let both = c.send(&apply("owned", Some("alice"), body)).await;
    assert_eq!((both.sim.status, both.real.status), (200, 200));
    assert!(both.real.json.pointer("/metadata/labels").is_none());
    assert!(both.real.json.pointer("/spec/http").is_none());
    assert_eq!(
        both.sim.json.pointer("/metadata/labels/team"),
        Some(&json!("a"))
    );
    assert!(both.sim.json.pointer("/spec/http").is_some());
}
