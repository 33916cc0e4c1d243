//! Wire-level tests of the simulated API server with a plain HTTP client: watch semantics, patch
//! quirks, status shapes, limits, and garbage input (every answer must be a `Status`, never a
//! panic or a hang).

mod sim_api_support;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sim_api_support::*;
use std::time::Duration;
use switchyard_sim::api::resources::keys;
use switchyard_sim::store::Key;

const DEADLINE: Duration = Duration::from_secs(30);
const VS: &str = "/apis/networking.istio.io/v1/namespaces/hands-on/virtualservices";

struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    fn new(sim: &Sim) -> Self {
        Http {
            client: reqwest::Client::builder()
                .timeout(DEADLINE)
                .build()
                .expect("client"),
            base: sim.url.clone(),
        }
    }

    fn request(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .request(method, path, ADMIN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        json_of(resp).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(
            self.request(Method::GET, path, ADMIN)
                .send()
                .await
                .expect("send"),
        )
        .await
    }
}

async fn json_of(resp: Response) -> (StatusCode, Value) {
    let code = resp.status();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (code, value)
}

/// Reads a watch stream to its end (or `max` events), bounded by the deadline.
async fn watch_events(resp: Response, max: usize) -> Vec<Value> {
    assert_eq!(resp.status(), StatusCode::OK);
    let mut resp = resp;
    tokio::time::timeout(DEADLINE, async move {
        let mut buffer = Vec::new();
        let mut events = Vec::new();
        while let Some(chunk) = resp.chunk().await.expect("chunk") {
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                events.push(serde_json::from_slice(&line).expect("event JSON"));
                if events.len() == max {
                    return events;
                }
            }
        }
        events
    })
    .await
    .expect("watch within deadline")
}

fn vs_key(name: &str) -> Key {
    Key::new(keys::VIRTUAL_SERVICES, "hands-on", name)
}

fn assert_status(code: StatusCode, body: &Value, want: u16, reason: &str) {
    assert_eq!(code.as_u16(), want, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["code"], want);
    assert_eq!(body["reason"], reason, "{body}");
}

#[tokio::test]
async fn watch_starts_with_current_state_then_follows() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let resp = http
        .request(
            Method::GET,
            &format!("{VS}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"),
            ADMIN,
        )
        .send()
        .await
        .expect("watch");
    let store = sim.store.clone();
    // The first events are already buffered by the time this change lands.
    store
        .update(&vs_key("review"), |cur| {
            let mut next = cur.clone();
            next["spec"]["gateways"] = json!(["mesh"]);
            Ok(next)
        })
        .expect("update");
    let events = watch_events(resp, 5).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "ADDED", "BOOKMARK", "MODIFIED"]);
    assert_eq!(
        events[3]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(events[3]["object"]["kind"], "VirtualService");
    assert_eq!(events[4]["object"]["spec"]["gateways"], json!(["mesh"]));
    assert_eq!(events[4]["object"]["apiVersion"], "networking.istio.io/v1");
}

#[tokio::test]
async fn watch_resumes_after_a_resource_version_and_honours_timeout() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let (_, list) = http.get(VS).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    sim.store.delete(&vs_key("product")).expect("delete");
    let resp = http
        .request(
            Method::GET,
            &format!("/apis/networking.istio.io/v1beta1/namespaces/hands-on/virtualservices?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
            ADMIN,
        )
        .send()
        .await
        .expect("watch");
    // Only the change after `rv`, then the stream ends by itself after timeoutSeconds.
    let events = watch_events(resp, usize::MAX).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "DELETED");
    assert_eq!(events[0]["object"]["metadata"]["name"], "product");
    assert_eq!(
        events[0]["object"]["apiVersion"],
        "networking.istio.io/v1beta1"
    );
}

#[tokio::test]
async fn watch_from_compacted_history_is_410_expired() {
    let sim = Sim::start().await;
    for i in 0..switchyard_sim::store::HISTORY_LEN + 1 {
        sim.store
            .create(
                Key::new(keys::EVENTS, "hands-on", &format!("e{i}")),
                json!({}),
            )
            .expect("create event");
    }
    let http = Http::new(&sim);
    let resp = http
        .request(
            Method::GET,
            &format!("{VS}?watch=true&resourceVersion=2"),
            ADMIN,
        )
        .send()
        .await
        .expect("watch");
    let events = watch_events(resp, usize::MAX).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ERROR");
    let status = &events[0]["object"];
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(status["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("too old resource version: 2 ("));
}

#[tokio::test]
async fn label_selector_watch_reports_objects_entering_and_leaving() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let (_, list) = http
        .get(&format!("{VS}?labelSelector=track%3Dcanary"))
        .await;
    assert_eq!(list["items"], json!([]));
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    let set_label = |value: Option<&str>| {
        sim.store
            .update(&vs_key("review"), |cur| {
                let mut next = cur.clone();
                next["metadata"]["labels"] = match value {
                    Some(v) => json!({"track": v}),
                    None => json!({}),
                };
                Ok(next)
            })
            .expect("update");
    };
    set_label(Some("canary"));
    set_label(Some("canary"));
    set_label(Some("stable"));
    let resp = http
        .request(
            Method::GET,
            &format!("{VS}?watch=true&labelSelector=track%3Dcanary&resourceVersion={rv}"),
            ADMIN,
        )
        .send()
        .await
        .expect("watch");
    let events = watch_events(resp, 2).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["ADDED", "DELETED"]);
}

#[tokio::test]
async fn json_patch_quirks_over_http() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let path = format!("{VS}/review");
    let patch = |ops: Value| {
        let http = &http;
        let path = path.clone();
        async move {
            http.send(
                Method::PATCH,
                &path,
                "application/json-patch+json",
                ops.to_string(),
            )
            .await
        }
    };
    // replace of a missing member creates it; -1 is the last element.
    let (code, obj) = patch(json!([
        {"op": "replace", "path": "/spec/gateways", "value": ["mesh"]},
        {"op": "replace", "path": "/spec/http/-1/route/-1/weight", "value": 7},
        {"op": "test", "path": "/spec/exportTo", "value": null},
    ]))
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["spec"]["gateways"], json!(["mesh"]));
    assert_eq!(obj["spec"]["http"][1]["route"][1]["weight"], 7);

    // Out of range: 422 with the generic message and empty details.
    let (code, status) =
        patch(json!([{"op": "replace", "path": "/spec/http/9/route", "value": []}])).await;
    assert_status(code, &status, 422, "Invalid");
    assert_eq!(status["details"], json!({}));
    assert_eq!(
        status["message"],
        "the server rejected our request due to an error in our request"
    );

    // Setting a stale resourceVersion is a conflict, not a validation error.
    let (code, status) =
        patch(json!([{"op": "replace", "path": "/metadata/resourceVersion", "value": "1"}])).await;
    assert_status(code, &status, 409, "Conflict");

    // Malformed patches are 400.
    for body in ["{", "{}", "[{\"op\":\"explode\",\"path\":\"/a\"}]", "[1]"] {
        let (code, status) = http
            .send(Method::PATCH, &path, "application/json-patch+json", body)
            .await;
        assert_status(code, &status, 400, "BadRequest");
    }

    // Merge patch with a stale resourceVersion is 409; force without apply is 422.
    let (code, status) = http
        .send(
            Method::PATCH,
            &path,
            "application/merge-patch+json",
            r#"{"metadata":{"resourceVersion":"3"},"spec":{}}"#,
        )
        .await;
    assert_status(code, &status, 409, "Conflict");
    let (code, status) = http
        .send(
            Method::PATCH,
            &format!("{path}?force=true"),
            "application/merge-patch+json",
            "{}",
        )
        .await;
    assert_status(code, &status, 422, "Invalid");
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
}

#[tokio::test]
async fn writes_keep_identity_and_follow_put_rules() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let (_, review) = http.get(&format!("{VS}/review")).await;
    let mut renamed = review.clone();
    renamed["metadata"]["name"] = json!("other");
    let (code, status) = http
        .send(
            Method::PUT,
            &format!("{VS}/review"),
            "application/json",
            renamed.to_string(),
        )
        .await;
    assert_status(code, &status, 400, "BadRequest");
    assert_eq!(
        status["message"],
        "the name of the object (other) does not match the name on the URL (review)"
    );

    // Status is a subresource: a PUT of the main resource does not change it.
    let mut with_status = review.clone();
    with_status["status"] = json!({"observedGeneration": 99});
    let (code, updated) = http
        .send(
            Method::PUT,
            &format!("{VS}/review"),
            "application/json",
            with_status.to_string(),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(updated.get("status").is_none(), "{updated}");
    assert_eq!(updated["metadata"]["uid"], review["metadata"]["uid"]);

    // ...while the status subresource changes only the status.
    let (code, with_new_status) = http
        .send(
            Method::PATCH,
            &format!("{VS}/review/status"),
            "application/merge-patch+json",
            r#"{"status":{"observedGeneration":1},"spec":{"hosts":["ignored"]}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{with_new_status}");
    assert_eq!(with_new_status["status"]["observedGeneration"], 1);
    assert_eq!(with_new_status["spec"]["hosts"], json!(["review"]));

    // Create: 201, then 409 AlreadyExists; a missing namespace is 404.
    let new_vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                        "metadata": {"name": "extra"}, "spec": {"hosts": ["extra"]}});
    let (code, created) = http
        .send(Method::POST, VS, "application/json", new_vs.to_string())
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (code, status) = http
        .send(Method::POST, VS, "application/json", new_vs.to_string())
        .await;
    assert_status(code, &status, 409, "AlreadyExists");
    let (code, status) = http
        .send(
            Method::POST,
            "/apis/networking.istio.io/v1/namespaces/nowhere/virtualservices",
            "application/json",
            new_vs.to_string(),
        )
        .await;
    assert_status(code, &status, 404, "NotFound");
    assert_eq!(status["message"], "namespaces \"nowhere\" not found");

    // DELETE of a custom resource answers with a Status; of a Service with the object.
    let (code, deleted) = http
        .send(
            Method::DELETE,
            &format!("{VS}/extra"),
            "application/json",
            "",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(deleted["kind"], "Status");
    assert_eq!(deleted["status"], "Success");
    assert_eq!(deleted["details"]["uid"], created["metadata"]["uid"]);
    let (code, service) = http
        .send(
            Method::DELETE,
            "/api/v1/namespaces/hands-on/services/review",
            "application/json",
            "",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(service["kind"], "Service");
}

#[tokio::test]
async fn lists_paginate_and_render_tables() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let (_, page1) = http
        .get("/apis/apps/v1/namespaces/hands-on/deployments?limit=4")
        .await;
    assert_eq!(page1["kind"], "DeploymentList");
    assert_eq!(page1["items"].as_array().map(Vec::len), Some(4));
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_owned();
    let (_, page2) = http
        .get(&format!(
            "/apis/apps/v1/namespaces/hands-on/deployments?limit=4&continue={token}"
        ))
        .await;
    assert_eq!(page2["items"].as_array().map(Vec::len), Some(3));
    assert!(page2["metadata"].get("continue").is_none());

    let (_, all) = http
        .get("/apis/apps/v1/deployments?labelSelector=app%3Dreview,version%20notin%20(v1)")
        .await;
    let names: Vec<&str> = all["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["review-v2"]);

    let resp = http
        .request(Method::GET, VS, ADMIN)
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .send()
        .await
        .expect("table");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        // kube-apiserver labels Tables plain JSON (the shape is in `kind`).
        Some("application/json")
    );
    let (_, table) = json_of(resp).await;
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["columnDefinitions"][2]["name"], "Hosts");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");

    let (code, status) = http.get(&format!("{VS}?labelSelector=app%20in%20(a")).await;
    assert_status(code, &status, 400, "BadRequest");
    let (code, status) = http
        .get(&format!("{VS}?fieldSelector=spec.hosts%3Dx"))
        .await;
    assert_status(code, &status, 400, "BadRequest");
}

#[tokio::test]
async fn authentication_and_impersonation_errors() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let resp = http
        .client
        .get(format!("{}{VS}", sim.url))
        .send()
        .await
        .expect("send");
    let (code, status) = json_of(resp).await;
    assert_status(code, &status, 401, "Unauthorized");
    assert!(status.get("details").is_none());

    // The kubeconfig's URL prefix carries the token for kubectl over HTTP.
    let resp = http
        .client
        .get(format!("{}/token/{VIEWER}{VS}/review", sim.url))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = http
        .request(Method::GET, VS, ADMIN)
        .header("impersonate-group", "switchyard:viewers")
        .send()
        .await
        .expect("send");
    let (code, status) = json_of(resp).await;
    assert_status(code, &status, 400, "BadRequest");
    assert!(status["message"]
        .as_str()
        .unwrap_or_default()
        .ends_with("without impersonating a user name"));

    // Anonymous may read /version only.
    let resp = http
        .client
        .get(format!("{}/version", sim.url))
        .send()
        .await
        .expect("send");
    let (code, version) = json_of(resp).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(version["major"], "1");
}

#[tokio::test]
async fn garbage_input_gets_statuses_not_panics() {
    let sim = Sim::start().await;
    let http = Http::new(&sim);
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"x\"".to_vec(),
        b"{\"metadata\": 5}".to_vec(),
        b"{\"metadata\": {\"name\": 5}}".to_vec(),
        b"{\"spec\": {\"http\": [".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x01],
        b"k8s\0\x01\x02\x03".to_vec(),
        "{\"a\":".repeat(200).into_bytes(),
    ];
    let content_types = [
        "application/json",
        "application/yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
        "application/strategic-merge-patch+json",
        "application/vnd.kubernetes.protobuf",
        "text/plain",
    ];
    let targets = [
        (Method::POST, VS.to_owned()),
        (Method::PUT, format!("{VS}/review")),
        (Method::PATCH, format!("{VS}/review")),
        (
            Method::PATCH,
            "/api/v1/namespaces/hands-on/services/review".to_owned(),
        ),
        (
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".to_owned(),
        ),
        (Method::DELETE, format!("{VS}/product")),
    ];
    for (method, path) in &targets {
        for content_type in content_types {
            for body in &garbage {
                let (code, status) = http
                    .send(
                        method.clone(),
                        &format!("{path}?fieldManager=fuzz"),
                        content_type,
                        body.clone(),
                    )
                    .await;
                // Some garbage is valid (an empty merge patch, `{}` apply); anything else must be
                // a client error carried in a Status.
                if !code.is_success() {
                    assert!(
                        code.is_client_error(),
                        "{method} {path} {content_type}: {code} {status}"
                    );
                    assert_eq!(status["kind"], "Status", "{status}");
                }
            }
        }
    }
    let (code, root) = http.get("/").await;
    assert_eq!(code, StatusCode::OK);
    assert!(root["paths"]
        .as_array()
        .is_some_and(|p| p.contains(&json!("/apis/networking.istio.io/v1"))));
    for path in [
        "/api/v1/nodes",
        "/api/v2",
        "/openapi/v2",
        "/api/v1/namespaces/hands-on/pods/p/log",
    ] {
        let (code, status) = http.get(path).await;
        assert_status(code, &status, 404, "NotFound");
    }
    // What no handler serves (unknown groups, unknown top-level paths) is Go's plain 404.
    for path in ["/apis/nope", "/apis/nope/v1/things", "/metrics-nope"] {
        let resp = http
            .request(Method::GET, path, ADMIN)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.text().await.expect("body"), "404 page not found\n");
    }
    let (code, status) = http
        .send(
            Method::POST,
            &format!("{VS}/review"),
            "application/json",
            "{}",
        )
        .await;
    assert_status(code, &status, 405, "MethodNotAllowed");
    let (code, status) = http
        .send(
            Method::GET,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/json",
            "",
        )
        .await;
    assert_status(code, &status, 405, "MethodNotAllowed");

    // Bodies over the limit are refused without being held in memory.
    let (code, status) = http
        .send(
            Method::POST,
            VS,
            "application/json",
            vec![b' '; 4 * 1024 * 1024],
        )
        .await;
    assert_status(code, &status, 413, "RequestEntityTooLarge");

    // The server still works.
    let (code, _) = http.get(&format!("{VS}/review")).await;
    assert_eq!(code, StatusCode::OK);
}
