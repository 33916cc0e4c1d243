//! kube-rs against the simulated API server over real HTTP on 127.0.0.1, configured from the
//! kubeconfig the simulator writes: the same client code path the console uses on a real cluster.

mod sim_api_support;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, Config};
use serde_json::json;
use sim_api_support::*;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

async fn config(sim: &Sim, token: &str) -> Config {
    let kubeconfig = Kubeconfig::read_from(sim.kubeconfig(token, "hands-on")).expect("kubeconfig");
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig")
}

async fn client(sim: &Sim, token: &str) -> Client {
    Client::try_from(config(sim, token).await).expect("client")
}

fn vs_resource(version: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("networking.istio.io", version, "VirtualService");
    ApiResource::from_gvk_with_plural(&gvk, "virtualservices")
}

fn vs_api(client: Client) -> Api<DynamicObject> {
    Api::namespaced_with(client, "hands-on", &vs_resource("v1"))
}

fn api_error(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn weights(obj: &DynamicObject, rule: usize) -> Vec<i64> {
    obj.data["spec"]["http"][rule]["route"]
        .as_array()
        .map(|routes| routes.iter().filter_map(|r| r["weight"].as_i64()).collect())
        .unwrap_or_default()
}

fn ssar(verb: &str, namespace: &str) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.into()),
                verb: Some(verb.into()),
                group: Some("networking.istio.io".into()),
                resource: Some("virtualservices".into()),
                name: Some("review".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn can(client: Client, verb: &str, namespace: &str) -> (bool, Option<String>) {
    let review = Api::<SelfSubjectAccessReview>::all(client)
        .create(&PostParams::default(), &ssar(verb, namespace))
        .await
        .expect("SSAR");
    let status = review.status.expect("status");
    (status.allowed, status.reason)
}

#[tokio::test]
async fn list_and_get_virtual_services() {
    let sim = Sim::start().await;
    let api = vs_api(client(&sim, ADMIN).await);
    let list = api.list(&ListParams::default()).await.expect("list");
    let names: Vec<String> = list
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    assert_eq!(names, ["product", "recommendation", "review"]);
    assert!(list.metadata.resource_version.is_some());

    let review = api.get("review").await.expect("get");
    assert_eq!(review.data["spec"]["hosts"], json!(["review"]));
    assert_eq!(weights(&review, 1), [100, 0]);
    assert_eq!(review.metadata.generation, Some(1));
    assert!(review.metadata.uid.is_some());

    // Label selectors and the v1beta1 view of the same storage.
    let beta: Api<DynamicObject> = Api::namespaced_with(
        api.clone().into_client(),
        "hands-on",
        &vs_resource("v1beta1"),
    );
    let beta_review = beta.get("review").await.expect("get v1beta1");
    assert_eq!(
        beta_review.types.map(|t| t.api_version),
        Some("networking.istio.io/v1beta1".to_owned())
    );
    let none = api
        .list(&ListParams::default().labels("app in (nothing)"))
        .await
        .expect("list with selector");
    assert!(none.items.is_empty());
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=product"))
        .await
        .expect("list with field selector");
    assert_eq!(by_name.items.len(), 1);
}

#[tokio::test]
async fn json_patch_with_test_guard() {
    let sim = Sim::start().await;
    let api = vs_api(client(&sim, OPERATOR).await);
    let review = api.get("review").await.expect("get");
    let rv = review.metadata.resource_version.clone().expect("rv");
    let guarded = |rv: &str, old: i64, new: i64| -> json_patch::Patch {
        serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "test", "path": "/spec/http/1/route/0/weight", "value": old},
            {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": new},
            {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 100 - new},
        ]))
        .expect("patch")
    };
    let patched = api
        .patch(
            "review",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded(&rv, 100, 80)),
        )
        .await
        .expect("guarded patch applies");
    assert_eq!(weights(&patched, 1), [80, 20]);
    assert_eq!(patched.metadata.generation, Some(2));
    assert_ne!(
        patched.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );

    // The same patch again: the resourceVersion test fails, which is 422 Invalid.
    let err = api
        .patch(
            "review",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded(&rv, 100, 80)),
        )
        .await
        .map(|_| ())
        .expect_err("stale guard fails");
    let status = api_error(err);
    assert_eq!(status.code, 422);
    assert_eq!(status.reason, "Invalid");
    assert_eq!(
        status.message,
        "the server rejected our request due to an error in our request"
    );
    assert_eq!(weights(&api.get("review").await.expect("get"), 1), [80, 20]);
}

#[tokio::test]
async fn put_requires_the_current_resource_version() {
    let sim = Sim::start().await;
    let api = vs_api(client(&sim, ADMIN).await);
    let original = api.get("product").await.expect("get");
    let mut changed = original.clone();
    changed.data["spec"]["gateways"] = json!(["mesh"]);
    let replaced = api
        .replace("product", &PostParams::default(), &changed)
        .await
        .expect("replace with current rv");
    assert_eq!(replaced.data["spec"]["gateways"], json!(["mesh"]));

    let err = api
        .replace("product", &PostParams::default(), &original)
        .await
        .map(|_| ())
        .expect_err("stale replace");
    let status = api_error(err);
    assert_eq!(status.code, 409);
    assert!(status.is_conflict());
    assert_eq!(
        status.message,
        "Operation cannot be fulfilled on virtualservices.networking.istio.io \"product\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let mut unconditional = replaced.clone();
    unconditional.metadata.resource_version = None;
    let status = api_error(
        api.replace("product", &PostParams::default(), &unconditional)
            .await
            .map(|_| ())
            .expect_err("PUT without resourceVersion"),
    );
    assert_eq!(status.code, 422);
    assert!(status
        .message
        .ends_with("metadata.resourceVersion: Invalid value: 0: must be specified for an update"));
}

#[tokio::test]
async fn watcher_and_reflector_see_changes_made_through_the_api() {
    let sim = Sim::start().await;
    let client = client(&sim, ADMIN).await;
    let api = vs_api(client.clone());
    let writer = reflector::store::Writer::new(vs_resource("v1"));
    let reader = writer.as_reader();
    let mut events = reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .default_backoff()
        .boxed();
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.expect("watch") {
            if matches!(event, watcher::Event::InitDone) {
                break;
            }
        }
    })
    .await
    .expect("initial list");
    assert_eq!(reader.state().len(), 3);

    api.patch(
        "review",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"http": [{"route": [{"destination": {"host": "review", "subset": "new"}}]}]}})),
    )
    .await
    .expect("merge patch");
    let applied = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.expect("watch") {
            if let watcher::Event::Apply(obj) = event {
                if obj.metadata.name.as_deref() == Some("review") {
                    return obj;
                }
            }
        }
        panic!("watch ended")
    })
    .await
    .expect("change seen");
    assert_eq!(
        applied.data["spec"]["http"].as_array().map(Vec::len),
        Some(1)
    );

    api.delete("review", &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.try_next().await.expect("watch") {
            if matches!(&event, watcher::Event::Delete(o) if o.metadata.name.as_deref() == Some("review")) {
                return;
            }
        }
    })
    .await
    .expect("delete seen");
    assert_eq!(reader.state().len(), 2);
}

#[tokio::test]
async fn errors_are_kubernetes_statuses() {
    let sim = Sim::start().await;
    let api = vs_api(client(&sim, ADMIN).await);
    let status = api_error(api.get("nope").await.map(|_| ()).expect_err("404"));
    assert_eq!(status.code, 404);
    assert!(status.is_not_found());
    assert_eq!(
        status.message,
        "virtualservices.networking.istio.io \"nope\" not found"
    );
    let details = status.details.expect("details");
    assert_eq!(details.name, "nope");
    assert_eq!(details.group, "networking.istio.io");
    assert_eq!(details.kind, "virtualservices");
    assert_eq!(api.get_opt("nope").await.expect("get_opt"), None);

    let existing = api.get("review").await.expect("get");
    let mut again = existing.clone();
    again.metadata.resource_version = None;
    again.metadata.uid = None;
    let status = api_error(
        api.create(&PostParams::default(), &again)
            .await
            .map(|_| ())
            .expect_err("409"),
    );
    assert!(status.is_already_exists());

    let bad = vs_api(client(&sim, "not-a-token").await);
    let status = api_error(
        bad.list(&ListParams::default())
            .await
            .map(|_| ())
            .expect_err("401"),
    );
    assert_eq!((status.code, status.reason.as_str()), (401, "Unauthorized"));

    let viewer = vs_api(client(&sim, VIEWER).await);
    let status = api_error(
        viewer
            .patch(
                "review",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
            )
            .await
            .map(|_| ())
            .expect_err("403"),
    );
    assert!(status.is_forbidden());
    assert_eq!(
        status.message,
        "virtualservices.networking.istio.io \"review\" is forbidden: User \"viewer\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"hands-on\""
    );

    let status = api_error(
        api.patch(
            "review",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {}})),
        )
        .await
        .map(|_| ())
        .expect_err("415"),
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
}

#[tokio::test]
async fn access_reviews_and_impersonation() {
    let sim = Sim::start().await;
    let (allowed, reason) = can(client(&sim, OPERATOR).await, "patch", "hands-on").await;
    assert!(allowed);
    assert!(reason
        .unwrap_or_default()
        .starts_with("RBAC: allowed by RoleBinding"));
    assert!(
        !can(client(&sim, OPERATOR).await, "delete", "hands-on")
            .await
            .0
    );
    assert!(
        !can(client(&sim, OPERATOR).await, "patch", "default")
            .await
            .0
    );
    assert!(!can(client(&sim, VIEWER).await, "patch", "hands-on").await.0);
    assert!(can(client(&sim, VIEWER).await, "get", "hands-on").await.0);

    // The admin acting as the viewer gets the viewer's answers and the viewer's 403s.
    let mut as_viewer = config(&sim, ADMIN).await;
    as_viewer.auth_info.impersonate = Some("viewer".into());
    let as_viewer = Client::try_from(as_viewer).expect("client");
    assert!(!can(as_viewer.clone(), "patch", "hands-on").await.0);
    let status = api_error(
        vs_api(as_viewer)
            .patch(
                "review",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {}})),
            )
            .await
            .map(|_| ())
            .expect_err("impersonated viewer may not patch"),
    );
    assert!(status.message.contains("User \"viewer\" cannot patch"));

    // A group grants on its own: a made-up user in switchyard:operators may patch.
    let mut in_group = config(&sim, ADMIN).await;
    in_group.auth_info.impersonate = Some("jane".into());
    in_group.auth_info.impersonate_groups = Some(vec!["switchyard:operators".into()]);
    assert!(
        can(
            Client::try_from(in_group).expect("client"),
            "patch",
            "hands-on"
        )
        .await
        .0
    );

    // Only the admin may impersonate.
    let mut sneaky = config(&sim, OPERATOR).await;
    sneaky.auth_info.impersonate = Some("admin".into());
    let status = api_error(
        vs_api(Client::try_from(sneaky).expect("client"))
            .list(&ListParams::default())
            .await
            .map(|_| ())
            .expect_err("operator may not impersonate"),
    );
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "users \"admin\" is forbidden: User \"operator\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
}

#[tokio::test]
async fn server_side_apply_creates_and_updates() {
    let sim = Sim::start().await;
    let api = vs_api(client(&sim, ADMIN).await);
    let canary = json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "canary"},
        "spec": {"hosts": ["canary"], "http": [{"route": [{"destination": {"host": "canary"}}]}]},
    });
    let created = api
        .patch(
            "canary",
            &PatchParams::apply("switchyard-test").force(),
            &Patch::Apply(&canary),
        )
        .await
        .expect("apply creates");
    assert_eq!(created.metadata.namespace.as_deref(), Some("hands-on"));
    let mut changed = canary.clone();
    changed["spec"]["hosts"] = json!(["canary", "canary.hands-on.svc.cluster.local"]);
    let updated = api
        .patch(
            "canary",
            &PatchParams::apply("switchyard-test"),
            &Patch::Apply(&changed),
        )
        .await
        .expect("apply updates");
    assert_eq!(
        updated.data["spec"]["hosts"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    let status = api_error(
        api.patch("canary", &PatchParams::default(), &Patch::Apply(&changed))
            .await
            .map(|_| ())
            .expect_err("apply without field manager"),
    );
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );

    // Built-in types too: a namespace created with a typed client.
    let namespaces: Api<Namespace> = Api::all(api.into_client());
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "from-kube-rs"}})).expect("namespace");
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
}
