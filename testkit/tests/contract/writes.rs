//! PUT (optimistic concurrency: a stale resourceVersion, none at all), create, get and the
//! Status bodies of their failures, and the server-side defaults a created object comes back with.

use super::support::{get_json, Both, Clusters, Compare, Message, Req};
use serde_json::{json, Value};

const VS: &str = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices";

/// The object as read, without what only the server that wrote it knows.
fn for_put(mut object: Value) -> Value {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("annotations");
    }
    object
}

#[tokio::test(flavor = "multi_thread")]
async fn put_with_a_stale_resource_version_is_409_conflict() {
    let c = Clusters::start().await;
    let bodies = Both {
        sim: get_json(&c.sim, &format!("{VS}/review")).await,
        real: get_json(&c.real, &format!("{VS}/review")).await,
    };
    // Someone else writes first.
    let label = Req::patch(
        &format!("{VS}/review"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"moved":"yes"}}}"#,
    );
    c.send(&label).await;
    let put = |object: &Value| {
        let mut body = for_put(object.clone());
        body["spec"]["hosts"] = json!(["review", "review.example"]);
        Req::put(&format!("{VS}/review"), &body)
    };
    let both = c
        .send_each(&Both {
            sim: put(&bodies.sim),
            real: put(&bodies.real),
        })
        .await;
    // kube-rs and kubectl retry on reason Conflict; the text is apimachinery's fixed sentence.
    Compare::status()
        .message(Message::Exact)
        .check("PUT with a stale resourceVersion", &both);
    assert_eq!(both.real.status, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn put_without_a_resource_version() {
    let c = Clusters::start().await;
    // A custom resource refuses unconditional updates.
    let unversioned = |mut body: Value, change: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        body = for_put(body);
        if let Some(meta) = body["metadata"].as_object_mut() {
            meta.remove("resourceVersion");
            change(meta);
        }
        body
    };
    let path = format!("{VS}/review");
    let put = |body: Value| Req::put(&path, &unversioned(body, &|_| {}));
    let both = c
        .send_each(&Both {
            sim: put(get_json(&c.sim, &path).await),
            real: put(get_json(&c.real, &path).await),
        })
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("PUT of a VirtualService without resourceVersion", &both);
    assert_eq!(both.real.status, 422);

    // A Service (built-in) takes it: last write wins.
    let path = "/api/v1/namespaces/{ns}/services/review";
    let relabel = |meta: &mut serde_json::Map<String, Value>| {
        meta.insert("labels".into(), json!({"app": "review", "put": "yes"}));
    };
    let put = |body: Value| Req::put(path, &unversioned(body, &relabel));
    let both = c
        .send_each(&Both {
            sim: put(get_json(&c.sim, path).await),
            real: put(get_json(&c.real, path).await),
        })
        .await;
    Compare::object(&["/metadata/labels", "/spec/ports", "/spec/selector"])
        .check("PUT of a Service without resourceVersion", &both);
    assert_eq!(both.real.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_of_an_existing_object_is_409_already_exists() {
    let c = Clusters::start().await;
    let body = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "review"}, "spec": {"hosts": ["review"]}});
    let both = c.send(&Req::post(VS, &body)).await;
    Compare::status()
        .message(Message::Exact)
        .check("create of an existing VirtualService", &both);
    assert_eq!(both.real.status, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_of_a_missing_object_is_404_not_found() {
    let c = Clusters::start().await;
    for (case, path) in [
        ("missing VirtualService", format!("{VS}/nope")),
        (
            "missing Service",
            "/api/v1/namespaces/{ns}/services/nope".to_owned(),
        ),
        (
            "missing namespace",
            "/api/v1/namespaces/nope-not-there".to_owned(),
        ),
    ] {
        let both = c.send(&Req::get(&path)).await;
        Compare::status().message(Message::Exact).check(case, &both);
        assert_eq!(both.real.status, 404, "{case}");
    }
    // An unknown version of the core group is the generic 404 Status with empty details.
    let both = c.send(&Req::get("/api/v2/pods")).await;
    Compare::status()
        .message(Message::Exact)
        .also(&["/details"])
        .check("unknown core version", &both);
    assert_eq!(both.real.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_under_apis_are_a_plain_404() {
    // What no handler serves is Go's plain-text "404 page not found": unknown groups, versions
    // and resources of custom resource groups, and unknown top-level paths. kube-apiserver's
    // built-in handlers (`/api/…`, built-in groups under `/apis/…`) answer the generic NotFound
    // Status instead, and the custom resource handler a NotFound of the object for a subresource
    // it does not serve. kube-rs and kubectl act on the 404 alone.
    let c = Clusters::start().await;
    for path in [
        "/apis/networking.istio.io/v1/namespaces/{ns}/nothings",
        "/apis/networking.istio.io/v1/nothings",
        "/apis/networking.istio.io/v1/virtualservices/review",
        "/apis/networking.istio.io/v1/namespaces/{ns}",
        "/apis/networking.istio.io/v9",
        "/apis/networking.istio.io/v9/virtualservices",
        "/apis/nope.example/v1",
        "/apis/nope.example",
        "/foo",
    ] {
        let both = c.send(&Req::get(path)).await;
        Compare::object(&[]).check(path, &both);
        assert_eq!(both.real.status, 404, "{path}");
        assert_eq!(both.real.text.trim(), "404 page not found", "{path}");
        assert_eq!(both.sim.text, both.real.text, "{path}");
        assert!(both.real.content_type.starts_with("text/plain"), "{path}");
    }
    for path in [
        "/api/v2/pods",
        "/api/v1/nothings",
        "/apis/apps/v2",
        "/apis/apps/v1/namespaces/{ns}/nothings",
        "/apis/apps/v1/namespaces/{ns}/deployments/review-v2/bogus",
        "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review/scale",
        "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review/a/b",
    ] {
        let both = c.send(&Req::get(path)).await;
        Compare::status()
            .message(Message::Exact)
            .also(&["/details"])
            .check(path, &both);
        assert_eq!(both.real.status, 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn created_objects_come_back_with_the_same_server_side_fields() {
    let c = Clusters::start().await;
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "made"},
        "spec": {"selector": {"app": "made"}, "ports": [{"name": "http", "port": 80}]}});
    let both = c
        .send(&Req::post("/api/v1/namespaces/{ns}/services", &service))
        .await;
    Compare::object(&[
        "/metadata/generation",
        "/spec/type",
        "/spec/sessionAffinity",
        "/spec/ports",
        "/spec/internalTrafficPolicy",
        "/spec/ipFamilies",
        "/spec/ipFamilyPolicy",
        "/status",
    ])
    .check("created Service", &both);
    assert_eq!(both.real.status, 201);

    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "made"}, "spec": {"hosts": ["made"]}, "status": {"x": 1}});
    let both = c.send(&Req::post(VS, &vs)).await;
    // Custom resources: generation 1, no status through the main resource.
    Compare::object(&["/metadata/generation", "/status", "/spec"])
        .check("created VirtualService", &both);
    assert_eq!(both.real.status, 201);

    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "made"},
        "spec": {"selector": {"matchLabels": {"app": "made"}},
                 "template": {"metadata": {"labels": {"app": "made"}},
                              "spec": {"containers": [{"name": "c", "image": "made:v1",
                                                       "ports": [{"containerPort": 8080}]}]}}}});
    let both = c
        .send(&Req::post(
            "/apis/apps/v1/namespaces/{ns}/deployments?dryRun=All",
            &deployment,
        ))
        .await;
    Compare::object(&[
        "/metadata/generation",
        "/spec/replicas",
        "/spec/strategy",
        "/spec/revisionHistoryLimit",
        "/spec/progressDeadlineSeconds",
        "/spec/template/spec",
    ])
    .check("created Deployment (dry run)", &both);
    assert_eq!(both.real.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_patch_answers_with_the_next_generation() {
    // A dry-run write answers with the object as it would be stored, the spec change counted in
    // `generation`; nothing is stored.
    let c = Clusters::start().await;
    let both = c
        .send(&Req::patch(
            &format!("{VS}/review?dryRun=All"),
            "application/merge-patch+json",
            r#"{"spec":{"hosts":["review","review.example"]}}"#,
        ))
        .await;
    Compare::object(&["/spec/hosts", "/metadata/generation"]).check("dry-run patch", &both);
    assert_eq!(both.real.json["metadata"]["generation"], 2);
    // A label is no spec change: the generation stays.
    let both = c
        .send(&Req::patch(
            &format!("{VS}/review?dryRun=All"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"dry":"run"}}}"#,
        ))
        .await;
    Compare::object(&["/metadata/labels", "/metadata/generation"]).check("dry-run label", &both);
    assert_eq!(both.real.json["metadata"]["generation"], 1);
    let after = c.send(&Req::get(&format!("{VS}/review"))).await;
    Compare::object(&["/spec/hosts", "/metadata/generation", "/metadata/labels"])
        .check("after a dry run", &after);
    assert_eq!(after.real.json["metadata"]["generation"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_is_an_accepted_response_type() {
    // Divergence "Accept: application/yaml" (stays, docs/sim-divergences.md): the real server
    // answers in YAML, the simulator only in JSON (406 NotAcceptable). Both name the same
    // accepted types; kubectl and kube-rs ask for JSON (or protobuf).
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get(&format!("{VS}/review")).header("Accept", "application/yaml"))
        .await;
    assert_eq!(both.real.status, 200);
    assert!(both.real.content_type.starts_with("application/yaml"));
    assert!(both.real.text.contains("kind: VirtualService"));
    assert_eq!((both.sim.status, both.sim.reason()), (406, "NotAcceptable"));
    // What neither serves is 406 on both, with the same list.
    let both = c
        .send(&Req::get(&format!("{VS}/review")).header("Accept", "text/html"))
        .await;
    Compare::status()
        .message(Message::Exact)
        .without_details()
        .check("Accept: text/html", &both);
    assert_eq!(both.real.status, 406);
}

/// Secrets, the console's session store: `stringData` is merged into `data` as base64 and never
/// stored, `type` defaults to Opaque, and DELETE answers a Status, then 404.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_merge_string_data_and_delete_with_a_status() {
    let c = Clusters::start().await;
    let path = "/api/v1/namespaces/{ns}/secrets";
    let created = c
        .send(&Req::post(
            path,
            &json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "session-contract"},
                "data": {"token": "b2xk", "keep": "eA=="},
                "stringData": {"token": "new"}
            }),
        ))
        .await;
    Compare::status().check("create a Secret", &created);
    for answer in [&created.sim, &created.real] {
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.json["type"], "Opaque", "{:?}", answer.kind);
        assert_eq!(
            answer.json["data"],
            json!({"token": "bmV3", "keep": "eA=="}),
            "{:?}",
            answer.kind
        );
        assert!(answer.json.get("stringData").is_none(), "{:?}", answer.kind);
    }
    let delete = Req::new(reqwest::Method::DELETE, &format!("{path}/session-contract"));
    let deleted = c.send(&delete).await;
    Compare::status().check("delete a Secret", &deleted);
    for answer in [&deleted.sim, &deleted.real] {
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json["kind"], "Status", "{:?}", answer.kind);
    }
    let again = c.send(&delete).await;
    Compare::status().check("delete a Secret again", &again);
    assert_eq!(again.real.status, 404);
}
