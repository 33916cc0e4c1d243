//! Discovery as kubectl and kube-rs read it (`/api`, `/apis`, the per-version resource lists,
//! aggregated discovery v2) and the OpenAPI v3 documents kubectl reads before `apply` (does the
//! server validate fields itself?) and for `explain`.

use super::support::{Both, Clusters, Compare, Message, Req};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use switchyard_testkit::User;

const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// The groups the console and the demo use, which both clusters must serve alike.
const GROUPS: &[&str] = &[
    "apps",
    "networking.istio.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "rbac.authorization.k8s.io",
];

fn sorted(v: &Value) -> Value {
    let mut items: Vec<Value> = v.as_array().cloned().unwrap_or_default();
    items.sort_by_key(|a| a.to_string());
    Value::Array(items)
}

/// A discovery entry with its verbs as a set (their order is the server's business).
fn entry(mut e: Value) -> Value {
    if let Some(verbs) = e.get("verbs").cloned() {
        e["verbs"] = sorted(&verbs);
    }
    if let Some(subs) = e.get_mut("subresources").and_then(Value::as_array_mut) {
        for sub in subs.iter_mut() {
            if let Some(verbs) = sub.get("verbs").cloned() {
                sub["verbs"] = sorted(&verbs);
            }
        }
    }
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_discovery_agrees_on_what_the_console_uses() {
    let c = Clusters::start().await;
    let both = c.send(&Req::get("/api").user(User::Viewer)).await;
    Compare::object(&["/versions"]).check("/api", &both);
    for answer in [&both.sim, &both.real] {
        let address = &answer.json["serverAddressByClientCIDRs"][0];
        assert_eq!(address["clientCIDR"], "0.0.0.0/0", "{}", answer.kind);
        assert!(address["serverAddress"].is_string(), "{}", answer.kind);
    }

    let both = c.send(&Req::get("/apis").user(User::Viewer)).await;
    Compare::object(&[]).check("/apis", &both);
    let group = |answer: &super::support::Answer, name: &str| -> Value {
        answer.json["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    for name in GROUPS {
        let (s, r) = (group(&both.sim, name), group(&both.real, name));
        assert_eq!(s["preferredVersion"], r["preferredVersion"], "{name}");
        if *name != "networking.istio.io" {
            assert_eq!(s, r, "{name}");
        }
    }

    for path in [
        "/apis/networking.istio.io/v1",
        "/apis/networking.istio.io/v1beta1",
        "/apis/apps/v1",
        "/api/v1",
    ] {
        let both = c.send(&Req::get(path).user(User::Viewer)).await;
        Compare::object(&["/groupVersion"]).check(path, &both);
        let resources = |answer: &super::support::Answer| -> Vec<Value> {
            let names: BTreeSet<String> = both.sim.json["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["name"].as_str().map(str::to_owned))
                .collect();
            let mut out: Vec<Value> = answer.json["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["name"].as_str().is_some_and(|n| names.contains(n)))
                .cloned()
                .map(entry)
                .collect();
            out.sort_by_key(|r| r["name"].to_string());
            out
        };
        let (s, r) = (resources(&both.sim), resources(&both.real));
        assert_eq!(
            s.len(),
            r.len(),
            "{path}: the real server serves everything the simulator does"
        );
        for (s, r) in s.iter().zip(&r) {
            assert_eq!(s, r, "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_istio_group_versions() {
    // The Istio CRDs serve v1, v1beta1 and v1alpha3; v1 is preferred (and stored), and is what
    // clients use. An object written as v1 reads back the same in v1alpha3.
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get("/apis/networking.istio.io").user(User::Viewer))
        .await;
    Compare::object(&["/preferredVersion", "/name"]).check("/apis/networking.istio.io", &both);
    let versions = |a: &super::support::Answer| -> Vec<Value> {
        a.json["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v["version"].clone())
            .collect()
    };
    assert_eq!(
        versions(&both.real),
        [json!("v1"), json!("v1beta1"), json!("v1alpha3")]
    );
    assert_eq!(versions(&both.sim), versions(&both.real));
    let both = c
        .send(
            &Req::get("/apis/networking.istio.io/v1alpha3/namespaces/{ns}/virtualservices/review")
                .user(User::Viewer),
        )
        .await;
    Compare::object(&["/spec", "/metadata/name", "/metadata/generation"])
        .check("a VirtualService read as v1alpha3", &both);
    assert_eq!(both.real.json["apiVersion"], "networking.istio.io/v1alpha3");
}

/// The aggregated documents of both, with each resource entry normalised.
async fn aggregated(c: &Clusters, path: &str) -> Both<super::support::Answer> {
    c.send(
        &Req::get(path)
            .header("Accept", AGGREGATED)
            .user(User::Viewer),
    )
    .await
}

fn aggregated_resource(doc: &Value, group: &str, version: &str, resource: &str) -> Value {
    doc["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["metadata"]["name"].as_str().unwrap_or("") == group)
        .flat_map(|g| g["versions"].as_array().cloned().unwrap_or_default())
        .filter(|v| v["version"] == version)
        .flat_map(|v| v["resources"].as_array().cloned().unwrap_or_default())
        .find(|r| r["resource"] == resource)
        .map(entry)
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregated_discovery_agrees_on_what_the_console_uses() {
    let c = Clusters::start().await;
    let both = aggregated(&c, "/apis").await;
    Compare::object(&["/metadata"]).check("aggregated /apis", &both);
    assert_eq!(
        both.real.content_type,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let group_meta = |doc: &Value, name: &str| -> Value {
        doc["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["metadata"]["name"] == name)
            .map(|g| g["metadata"].clone())
            .unwrap_or(Value::Null)
    };
    for group in GROUPS {
        assert_eq!(
            group_meta(&both.sim.json, group),
            group_meta(&both.real.json, group),
            "{group}"
        );
    }
    for (group, version, resource) in [
        ("networking.istio.io", "v1", "virtualservices"),
        ("networking.istio.io", "v1", "destinationrules"),
        ("networking.istio.io", "v1beta1", "virtualservices"),
        ("apps", "v1", "deployments"),
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews"),
        ("authentication.k8s.io", "v1", "selfsubjectreviews"),
    ] {
        let (s, r) = (
            aggregated_resource(&both.sim.json, group, version, resource),
            aggregated_resource(&both.real.json, group, version, resource),
        );
        let mut s_top = s.clone();
        let mut r_top = r.clone();
        // Built-in subresources the simulator does not serve (scale, status of deployments)
        // are compared separately below.
        if group == "apps" {
            s_top.as_object_mut().map(|m| m.remove("subresources"));
            r_top.as_object_mut().map(|m| m.remove("subresources"));
        }
        assert_eq!(s_top, r_top, "{group}/{version} {resource}");
        assert!(!r.is_null(), "{group}/{version} {resource}");
    }

    let both = aggregated(&c, "/api").await;
    Compare::object(&["/metadata", "/items/0/metadata"]).check("aggregated /api", &both);
    for resource in ["services", "events", "namespaces", "pods"] {
        let strip = |mut e: Value| {
            e.as_object_mut().map(|m| m.remove("subresources"));
            e
        };
        assert_eq!(
            strip(aggregated_resource(&both.sim.json, "", "v1", resource)),
            strip(aggregated_resource(&both.real.json, "", "v1", resource)),
            "{resource}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_v3_tells_kubectl_the_server_validates_fields() {
    let c = Clusters::start().await;
    let both = c.send(&Req::get("/openapi/v3").user(User::Viewer)).await;
    // The index goes out as text/plain (kube-openapi's handler); clients parse it as JSON
    // whatever the header says.
    Compare::object(&[])
        .message(Message::Any)
        .check("/openapi/v3", &both);
    assert!(both.real.content_type.starts_with("text/plain"));
    for path in ["api/v1", "apis/apps/v1", "apis/networking.istio.io/v1"] {
        for answer in [&both.sim, &both.real] {
            let url = answer.json["paths"][path]["serverRelativeURL"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no {path} in the index", answer.kind));
            assert!(
                url.starts_with(&format!("/openapi/v3/{path}?hash=")),
                "{}: {url}",
                answer.kind
            );
        }
    }
    // What kubectl looks for before `apply`: the PATCH operation of the kind, tagged with its
    // GVK, offering `fieldValidation`; and which patch types a kind takes.
    for (doc, item, gvk) in [
        (
            "/openapi/v3/apis/networking.istio.io/v1",
            "/apis/networking.istio.io/v1/namespaces/{namespace}/virtualservices/{name}",
            json!({"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"}),
        ),
        (
            "/openapi/v3/apis/apps/v1",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
        ),
    ] {
        let both = c.send(&Req::get(doc).user(User::Viewer)).await;
        Compare::object(&["/openapi"])
            .message(Message::Any)
            .check(doc, &both);
        for answer in [&both.sim, &both.real] {
            let patch = &answer.json["paths"][item]["patch"];
            assert_eq!(
                patch["x-kubernetes-group-version-kind"], gvk,
                "{} {doc}",
                answer.kind
            );
            assert_eq!(
                patch["x-kubernetes-action"], "patch",
                "{} {doc}",
                answer.kind
            );
            let params: BTreeSet<&str> = patch["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                assert!(params.contains(name), "{} {doc}: no {name}", answer.kind);
            }
        }
        let types = |a: &super::support::Answer| -> BTreeSet<String> {
            a.json["paths"][item]["patch"]["requestBody"]["content"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(types(&both.sim), types(&both.real), "{doc}");
    }
    // Unknown group versions are 404 on both; OpenAPI v2 is not needed by kubectl 1.32.
    let both = c
        .send(&Req::get("/openapi/v3/apis/nope.example/v1").user(User::Viewer))
        .await;
    assert_eq!((both.sim.status, both.real.status), (404, 404));
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_reads_the_istio_schemas() {
    let c = Clusters::start().await;
    for field in [
        "vs.spec.http.route.weight",
        "virtualservice.spec.hosts",
        "dr.spec.subsets.labels",
        "vs.spec.http.match.headers",
        "vs",
        "dr.spec.trafficPolicy.loadBalancer",
        "vs.metadata.labels",
    ] {
        let both = c.kubectl(User::Viewer, &["explain", field]).await;
        let text =
            |r: &Result<String, String>| r.clone().unwrap_or_else(|e| format!("FAILED: {e}"));
        assert_eq!(text(&both.sim), text(&both.real), "kubectl explain {field}");
        assert!(
            both.real.is_ok(),
            "kubectl explain {field}: {:?}",
            both.real
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_apply_validates_on_the_server() {
    let c = Clusters::start().await;
    let manifest = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: applied
spec:
  hosts: [applied]
  http:
  - route:
    - destination: {host: applied, subset: old}
      weight: 90
    - destination: {host: applied, subset: new}
      weight: 10
";
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("vs.yaml");
    std::fs::write(&file, manifest).expect("the manifest is written");
    let file = file.to_string_lossy().into_owned();
    // (Client-side apply after a server-side one differs: kubectl migrates the managedFields
    // the real server keeps, see "server-side apply field ownership"; so server-side goes last.)
    for args in [
        &["apply", "-f", &file][..],
        &["apply", "-f", &file],
        &["apply", "--dry-run=server", "-f", &file],
        &["diff", "-f", &file],
        &["apply", "--server-side", "-f", &file],
    ] {
        let both = c.kubectl(User::Admin, args).await;
        assert_eq!(
            both.sim.is_ok(),
            both.real.is_ok(),
            "kubectl {args:?}: sim {:?} real {:?}",
            both.sim,
            both.real
        );
        if let (Ok(s), Ok(r)) = (&both.sim, &both.real) {
            assert_eq!(s, r, "kubectl {args:?}");
        }
    }
    let both = c
        .kubectl(
            User::Viewer,
            &[
                "get",
                "vs",
                "applied",
                "-o",
                "jsonpath={.spec.http[0].route[*].weight}",
            ],
        )
        .await;
    assert_eq!(both.sim, both.real);
    assert_eq!(both.real.as_deref(), Ok("90 10"));
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_v2_and_the_other_istio_kinds() {
    // Divergence "API subset" (stays, by design): the simulator serves the resources the console
    // and the demo use. The real server also serves OpenAPI v2 (kubectl 1.32 reads v3 first)
    // and the other Istio kinds (Gateway, ServiceEntry, Sidecar, ...).
    let c = Clusters::start().await;
    let both = c.send(&Req::get("/openapi/v2").user(User::Viewer)).await;
    assert_eq!(both.real.status, 200);
    assert_eq!(both.sim.status, 404);
    let both = c
        .send(&Req::get("/apis/networking.istio.io/v1/namespaces/{ns}/gateways").user(User::Viewer))
        .await;
    assert_eq!((both.sim.status, both.real.status), (404, 200));
}
