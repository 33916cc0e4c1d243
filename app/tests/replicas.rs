//! Two console replicas side by side on one cluster (the real kube-apiserver and the simulated
//! one): writes through either, every change recorded in the history exactly once, both replicas
//! showing the same history.

use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use switchyard_protocol::{HistoryResponse, RoutesResponse, SetWeightsResponse};
use switchyard_testkit::on_every_cluster;

mod support;

use support::{Kind, TestCluster};

const CHANGES: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_record_every_change_once() {
    on_every_cluster!(|kind| two_replicas_on(kind));
}

async fn two_replicas_on(kind: Kind) {
    let kube = Arc::new(TestCluster::start(kind, 0.0).await);
    let a = support::attach(kube.clone(), support::Options::default()).await;
    let b = support::attach(kube.clone(), support::Options::default()).await;
    let http = reqwest::Client::new();
    let mut versions = BTreeSet::new();
    for i in 0..CHANGES {
        // Alternate replicas; each write is based on what that replica shows.
        let console = if i % 2 == 0 { &a } else { &b };
        let body = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let routes: RoutesResponse = http
                    .get(format!("{}/api/v1/routes", console.base))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let vs = routes
                    .virtual_services
                    .iter()
                    .find(|v| v.name == "review")
                    .unwrap();
                let seen: Vec<_> = vs.routes[1]
                    .destinations
                    .iter()
                    .map(|d| json!({"host": d.host, "subset": d.subset, "weight": d.weight}))
                    .collect();
                let old = (i as u32 * 7 + 3) % 101;
                let res = http
                    .put(format!(
                        "{}/api/v1/namespaces/{}/virtualservices/review/routes/1/weights",
                        console.base, console.ns
                    ))
                    .header("x-requested-by", "switchyard")
                    .json(&json!({"weights": {"old": old, "new": 100 - old}, "expected": seen}))
                    .send()
                    .await
                    .unwrap();
                // 409: this replica had not seen the other's last write yet; read again.
                if res.status() == 200 {
                    return res.json::<SetWeightsResponse>().await.unwrap();
                }
                assert_eq!(res.status(), 409, "on {kind}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("each write goes through within 20 s");
        assert!(body.changed, "on {kind}");
        versions.insert(body.virtual_service.resource_version);
    }
    assert_eq!(versions.len(), CHANGES);

    // Both replicas record what they see; the history has each change once, on both.
    for console in [&a, &b] {
        let history = support::history_until(&http, &console.base, CHANGES).await;
        let recorded: Vec<&str> = history
            .changes
            .iter()
            .map(|c| c.resource_version.as_str())
            .collect();
        let unique: BTreeSet<&str> = recorded.iter().copied().collect();
        assert_eq!(recorded.len(), CHANGES, "once each on {kind}: {recorded:?}");
        assert_eq!(
            unique,
            versions.iter().map(String::as_str).collect(),
            "on {kind}"
        );
    }
    // Give late duplicates a chance to appear, then count the Events in the cluster itself.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events: HistoryResponse = http
        .get(format!("{}/api/v1/history", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events.changes.len(), CHANGES, "no late duplicate on {kind}");
}
