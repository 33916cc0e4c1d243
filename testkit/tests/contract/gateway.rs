//! Gateway API HTTPRoutes on both servers: the real one with the Gateway API v1.6.3 CRDs
//! (standard channel), the simulator with `api::gateway`. A create comes back with the same
//! defaults; weights outside 0..=1,000,000 (and other structural errors) are refused with the same
//! 422 and causes; the console's guarded JSON Patch of a rule works, and one whose `test` fails
//! is the same 422 and writes nothing; discovery lists `httproutes` alike.

use super::support::{Clusters, Compare, Message, Req};
use serde_json::{json, Value};
use switchyard_testkit::User;

const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes";
const JSON_PATCH: &str = "application/json-patch+json";

/// An HTTPRoute as a person writes it: a GAMMA parentRef, a header rule, and a default rule
/// splitting `review-v1`/`review-v2` (`None`: no weight written).
fn route(name: &str, weights: [Option<Value>; 2]) -> Value {
    let backend = |service: &str, weight: &Option<Value>| {
        let mut b = json!({"name": service, "port": 80});
        if let Some(w) = weight {
            b["weight"] = w.clone();
        }
        b
    };
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": "review", "port": 80}],
            "rules": [
                {"matches": [{"headers": [{"name": "x-group", "value": "test"}]}],
                 "backendRefs": [{"name": "review-v2", "port": 80}]},
                {"backendRefs": [backend("review-v1", &weights[0]), backend("review-v2", &weights[1])]}
            ]
        }
    })
}

async fn delete(c: &Clusters, name: &str) {
    c.send(&Req::new(
        reqwest::Method::DELETE,
        &format!("{ROUTES}/{name}"),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_created_http_route_gets_the_same_defaults() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::post(ROUTES, &route("split", [None, Some(json!(3))])))
        .await;
    Compare::object(&["/spec", "/metadata/generation", "/metadata/name"]).check("create", &both);
    assert_eq!(both.real.status, 201, "{}", both.real.text);
    // The defaults the console reads: a missing weight is 1, backends are core Services.
    assert_eq!(
        both.real.json["spec"]["rules"][1]["backendRefs"][0]["weight"],
        1
    );
    assert_eq!(
        both.real.json["spec"]["rules"][0]["backendRefs"][0]["kind"],
        "Service"
    );
    let listed = c.send(&Req::get(ROUTES)).await;
    Compare::object(&["/items/0/spec", "/kind"]).check("list", &listed);
    // The v1beta1 version serves the same object.
    let beta = c
        .send(&Req::get(
            "/apis/gateway.networking.k8s.io/v1beta1/namespaces/{ns}/httproutes/split",
        ))
        .await;
    Compare::object(&["/spec"]).check("v1beta1", &beta);
    delete(&c, "split").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn weights_outside_0_to_a_million_are_refused_alike() {
    let c = Clusters::start().await;
    for (case, weight) in [
        ("above the maximum", json!(1_000_001)),
        ("negative", json!(-1)),
        ("a string", json!("50")),
    ] {
        let both = c
            .send(&Req::post(
                ROUTES,
                &route("bad", [Some(weight), Some(json!(1))]),
            ))
            .await;
        Compare::status().message(Message::Exact).check(case, &both);
        assert_eq!(
            (both.real.status, both.real.reason()),
            (422, "Invalid"),
            "{case}: {}",
            both.real.text
        );
        assert_eq!(
            both.real.json.pointer("/details/causes/0/field"),
            Some(&json!("spec.rules[1].backendRefs[0].weight")),
            "{case}"
        );
    }
    // The largest allowed weight is taken.
    let both = c
        .send(&Req::post(
            ROUTES,
            &route("max", [Some(json!(1_000_000)), Some(json!(0))]),
        ))
        .await;
    Compare::object(&["/spec"]).check("the maximum", &both);
    assert_eq!(both.real.status, 201, "{}", both.real.text);
    // Several problems at once, and a CEL rule (a Service backend needs a port).
    let mut several = route("several", [Some(json!(2_000_000)), None]);
    several["spec"]["rules"][1]["backendRefs"][1]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let both = c.send(&Req::post(ROUTES, &several)).await;
    Compare::status()
        .message(Message::Exact)
        .check("several", &both);
    let mut portless = route("portless", [Some(json!(1)), Some(json!(1))]);
    portless["spec"]["rules"][1]["backendRefs"][0]
        .as_object_mut()
        .unwrap()
        .remove("port");
    let both = c.send(&Req::post(ROUTES, &portless)).await;
    Compare::status()
        .message(Message::Exact)
        .check("a Service without a port", &both);
    assert_eq!(both.real.status, 422, "{}", both.real.text);
    delete(&c, "max").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_guarded_patch_of_a_rule() {
    let c = Clusters::start().await;
    let created = c
        .send(&Req::post(
            ROUTES,
            &route("guarded", [Some(json!(1)), Some(json!(3))]),
        ))
        .await;
    assert_eq!(created.real.status, 201, "{}", created.real.text);
    // What `cluster::weights` sends for an HTTPRoute: test the whole rule as read, then the
    // weights.
    let rule = created.real.json["spec"]["rules"][1].clone();
    assert_eq!(rule, created.sim.json["spec"]["rules"][1]);
    let patch = json!([
        {"op": "test", "path": "/spec/rules/1", "value": rule},
        {"op": "add", "path": "/spec/rules/1/backendRefs/0/weight", "value": 80},
        {"op": "add", "path": "/spec/rules/1/backendRefs/1/weight", "value": 20}
    ])
    .to_string();
    let path = format!("{ROUTES}/guarded");
    let both = c.send(&Req::patch(&path, JSON_PATCH, &patch)).await;
    Compare::object(&["/spec/rules/1", "/metadata/generation"]).check("guarded patch", &both);
    assert_eq!(
        both.real.json["spec"]["rules"][1]["backendRefs"][1]["weight"],
        20
    );
    // The same patch again: its test fails on both (the rule changed), 422, nothing written.
    let both = c.send(&Req::patch(&path, JSON_PATCH, &patch)).await;
    Compare::status()
        .message(Message::Exact)
        .check("failed test", &both);
    assert_eq!(both.real.status, 422);
    let after = c.send(&Req::get(&path)).await;
    Compare::object(&["/spec/rules/1", "/metadata/generation"])
        .check("after a failed test", &after);
    assert_eq!(after.real.json["metadata"]["generation"], 2);
    // A weight out of range through a patch is the schema's 422 too.
    let over = json!([{"op": "replace", "path": "/spec/rules/1/backendRefs/0/weight", "value": 1_000_001}]);
    let both = c
        .send(&Req::patch(&path, JSON_PATCH, &over.to_string()))
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("patched over the maximum", &both);
    delete(&c, "guarded").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_lists_http_routes_alike() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get("/apis/gateway.networking.k8s.io/v1").user(User::Viewer))
        .await;
    let resource = |json: &Value| -> Value {
        json["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == "httproutes")
            .cloned()
            .unwrap_or(Value::Null)
    };
    // Verbs as a set: their order is the server's business (as in `discovery`).
    let fields = |r: &Value| {
        let mut verbs: Vec<String> = r["verbs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        verbs.sort();
        json!({
            "kind": r["kind"], "namespaced": r["namespaced"], "singularName": r["singularName"],
            "verbs": verbs, "categories": r["categories"], "shortNames": r["shortNames"],
            "storageVersionHash": r["storageVersionHash"],
        })
    };
    assert_eq!(both.real.status, 200, "{}", both.real.text);
    assert_eq!(
        fields(&resource(&both.sim.json)),
        fields(&resource(&both.real.json))
    );
    // kubectl finds them by name, as a person types it.
    let listed = c
        .kubectl(switchyard_testkit::User::Viewer, &["get", "httproutes"])
        .await;
    let header = |out: &Result<String, String>| {
        out.as_ref()
            .map(|t| t.lines().next().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| e.clone())
    };
    // Empty namespaces on both: kubectl says so on stderr, which is the same.
    assert_eq!(header(&listed.sim), header(&listed.real));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_of_the_schema_and_the_other_gateway_kinds() {
    // Divergence "HTTPRoute schema beyond what the console meets" (stays): the simulator checks
    // the fields the console reads and writes (weights, ports, names, a Service's port), not
    // the rest of the CRD's schema, such as the CEL rule that a path match is absolute, and it
    // serves HTTPRoutes only, not the other Gateway API kinds.
    let c = Clusters::start().await;
    let mut relative = route("relative", [Some(json!(1)), Some(json!(1))]);
    relative["spec"]["rules"][1]["matches"] =
        json!([{"path": {"type": "PathPrefix", "value": "api"}}]);
    let both = c.send(&Req::post(ROUTES, &relative)).await;
    assert_eq!(both.real.status, 422, "{}", both.real.text);
    assert!(
        both.real.message().contains("must be an absolute path"),
        "{}",
        both.real.text
    );
    assert_eq!(both.sim.status, 201, "{}", both.sim.text);
    delete(&c, "relative").await;
    let both = c
        .send(
            &Req::get("/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/gateways")
                .user(User::Viewer),
        )
        .await;
    assert_eq!((both.sim.status, both.real.status), (404, 200));
}
