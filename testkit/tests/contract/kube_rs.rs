//! The same behaviours seen through kube-rs, as the console sees them: the error a failed
//! guarded JSON Patch turns into, a 404, and the watcher the console's reflectors run (initial
//! list, then changes, with bookmarks on).

use super::support::Clusters;
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::watcher;
use serde_json::json;
use std::time::Duration;
use switchyard_testkit::{TestCluster, User};

fn virtual_services(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

/// `(code, reason)` of a kube-rs API error.
fn api_error(result: Result<DynamicObject, kube::Error>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_reports_the_same_errors() {
    let c = Clusters::start().await;
    let mut answers = Vec::new();
    for cluster in [&c.sim, &c.real] {
        let api = virtual_services(cluster.client(User::Operator).await, &cluster.namespace);
        let ops: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/spec/http/1/route/0/weight", "value": 50},
            {"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 0}
        ]))
        .expect("a JSON patch");
        let params = PatchParams {
            field_manager: Some("switchyard".into()),
            ..PatchParams::default()
        };
        let failed = api.patch("review", &params, &Patch::Json::<()>(ops)).await;
        let missing = api.get("nope").await;
        answers.push((cluster.kind, api_error(failed), api_error(missing)));
    }
    assert_eq!(answers[0].1, answers[1].1, "failed test: {answers:?}");
    assert_eq!(answers[1].1, (422, "Invalid".to_owned()));
    assert_eq!(answers[0].2, answers[1].2, "missing object: {answers:?}");
    assert_eq!(answers[1].2, (404, "NotFound".to_owned()));
}

/// Names the watcher delivered up to its first InitDone, then whether it saw `changed` applied
/// after the patch.
async fn watch_like_the_console(cluster: &TestCluster) -> (Vec<String>, bool) {
    let api = virtual_services(cluster.client(User::Viewer).await, &cluster.namespace);
    let config = watcher::Config::default();
    let mut stream = Box::pin(watcher(api, config));
    let mut names = Vec::new();
    let initial = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = stream.next().await {
            match event.expect("the watcher runs") {
                watcher::Event::InitApply(o) => names.extend(o.metadata.name),
                watcher::Event::InitDone => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(initial.is_ok(), "{}: no InitDone", cluster.kind);
    names.sort();
    let admin = virtual_services(cluster.client(User::Admin).await, &cluster.namespace);
    admin
        .patch(
            "review",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"seen": "yes"}}})),
        )
        .await
        .expect("the label patch applies");
    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(o)) = event {
                if o.metadata.name.as_deref() == Some("review")
                    && o.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("seen"))
                        .map(String::as_str)
                        == Some("yes")
                {
                    return true;
                }
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    (names, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_watcher_lists_then_follows_alike() {
    let c = Clusters::start().await;
    let sim = watch_like_the_console(&c.sim).await;
    let real = watch_like_the_console(&c.real).await;
    assert_eq!(sim, real);
    assert_eq!(
        real,
        (
            vec![
                "product".to_owned(),
                "recommendation".to_owned(),
                "review".to_owned()
            ],
            true
        )
    );
}
