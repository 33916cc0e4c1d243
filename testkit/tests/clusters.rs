//! The test clusters themselves: both kinds start, know the same users with the same rights, and
//! hold the demo objects in the test's namespace.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use switchyard_testkit::{on_every_cluster, Kind, TestCluster, User};

fn virtual_services(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cluster_has_the_demo_objects_and_the_same_users() {
    on_every_cluster!(|kind| async move {
        let cluster = TestCluster::start(kind, 0.0).await;
        assert_eq!(cluster.kind, kind);
        let vs = virtual_services(cluster.client(User::Viewer).await, &cluster.namespace);
        let mut names: Vec<String> = vs
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect();
        names.sort();
        assert_eq!(names, ["product", "recommendation", "review"], "on {kind}");
        // kubectl's view of the same rights.
        for (user, expected) in [
            (User::Operator, "yes"),
            (User::Viewer, "no"),
            (User::Admin, "yes"),
        ] {
            let answer = cluster
                .kubectl(user, &["auth", "can-i", "patch", "virtualservices"])
                .await
                .unwrap_or_else(|e| e);
            assert_eq!(answer.trim(), expected, "{user:?} on {kind}");
        }
        if kind == Kind::Real {
            let version = cluster
                .http()
                .get(format!("{}/version", cluster.url))
                .bearer_auth(cluster.token(User::Viewer))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap();
            assert_eq!(version["gitVersion"], "v1.37.2");
        }
    });
}
