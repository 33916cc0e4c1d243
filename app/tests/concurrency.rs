//! Ten clients make 1,000 random weight changes against the same routes at once, on the simulated
//! cluster and on the real kube-apiserver: no update is
//! lost (every accepted change is in the history, in order, each starting from the one before),
//! the final state is the last accepted change, and every refusal is a 409 with the current state.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_protocol::{ApiError, HistoryResponse, RoutesResponse, SetWeightsResponse};

mod support;

use support::Kind;
use switchyard_testkit::on_every_cluster;

const CLIENTS: u64 = 10;
const CHANGES_PER_CLIENT: usize = 100;
const TARGETS: [&str; 3] = ["product", "recommendation", "review"];

#[derive(Debug)]
struct Accepted {
    vs: String,
    resource_version: u64,
    after: BTreeMap<String, u32>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lost_updates_under_concurrent_changes() {
    on_every_cluster!(|kind| no_lost_updates_on(kind));
}

async fn no_lost_updates_on(kind: Kind) {
    let console = support::console_on(kind, support::Options::default()).await;
    let base = console.base.clone();
    let ns = console.ns.clone();

    let mut tasks = Vec::new();
    for seed in 0..CLIENTS {
        let base = base.clone();
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut accepted = Vec::new();
            let mut rejected = 0usize;
            for _ in 0..CHANGES_PER_CLIENT {
                let routes: RoutesResponse = http
                    .get(format!("{base}/api/v1/routes"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let vs_name = TARGETS[rng.random_range(0..TARGETS.len())];
                let vs = routes
                    .virtual_services
                    .iter()
                    .find(|v| v.name == vs_name)
                    .unwrap();
                let seen: Vec<_> = vs.routes[1]
                    .destinations
                    .iter()
                    .map(|d| json!({"host": d.host, "subset": d.subset, "weight": d.weight}))
                    .collect();
                let old: u32 = rng.random_range(0..=100);
                let res = http
                    .put(format!(
                        "{base}/api/v1/namespaces/{ns}/virtualservices/{vs_name}/routes/1/weights"
                    ))
                    .header("x-requested-by", "switchyard")
                    .json(&json!({"weights": {"old": old, "new": 100 - old}, "expected": seen}))
                    .send()
                    .await
                    .unwrap();
                match res.status().as_u16() {
                    200 => {
                        let body: SetWeightsResponse = res.json().await.unwrap();
                        if body.changed {
                            accepted.push(Accepted {
                                vs: vs_name.to_owned(),
                                resource_version: body
                                    .virtual_service
                                    .resource_version
                                    .parse()
                                    .unwrap(),
                                after: body.virtual_service.routes[1]
                                    .destinations
                                    .iter()
                                    .map(|d| (d.key().to_owned(), d.weight))
                                    .collect(),
                            });
                        }
                    }
                    409 => {
                        let err: ApiError = res.json().await.unwrap();
                        assert_eq!(err.code, "conflict");
                        let current = err.current.expect("a refusal carries the current state");
                        assert_eq!(current.name, vs_name);
                        rejected += 1;
                    }
                    other => panic!("unexpected status {other}: {}", res.text().await.unwrap()),
                }
            }
            (accepted, rejected)
        }));
    }
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut rejected = 0;
    for t in tasks {
        let (a, r) = t.await.unwrap();
        accepted.extend(a);
        rejected += r;
    }
    assert!(
        accepted.len() > 100,
        "enough changes went through to mean something: {}",
        accepted.len()
    );
    assert!(rejected > 0, "the clients did collide");
    eprintln!("accepted {}, refused with 409: {rejected}", accepted.len());

    // Wait (bounded) until the history has every accepted change.
    let http = reqwest::Client::new();
    let history = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let h: HistoryResponse = http
                .get(format!("{base}/api/v1/history"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if h.changes.len() >= accepted.len() {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("history catches up within 60 s");
    assert_eq!(
        history.changes.len(),
        accepted.len(),
        "no change recorded that was not accepted"
    );

    for vs in TARGETS {
        let mut mine: Vec<&Accepted> = accepted.iter().filter(|a| a.vs == vs).collect();
        mine.sort_by_key(|a| a.resource_version);
        let recorded: Vec<_> = history
            .changes
            .iter()
            .filter(|c| c.virtual_service == vs)
            .collect();
        assert_eq!(
            recorded.len(),
            mine.len(),
            "{vs}: every accepted change is in the history"
        );
        for (i, (record, change)) in recorded.iter().zip(&mine).enumerate() {
            assert_eq!(
                record.resource_version.parse::<u64>().unwrap(),
                change.resource_version,
                "{vs}: history in order at {i}"
            );
            assert_eq!(record.after, change.after, "{vs}: change {i}");
            assert_eq!(record.source, "console");
            if i > 0 {
                assert_eq!(
                    record.before,
                    recorded[i - 1].after,
                    "{vs}: change {i} starts from the one before: nothing lost"
                );
            }
        }
        // The final state is the last accepted change.
        let routes: RoutesResponse = http
            .get(format!("{base}/api/v1/routes"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let now = routes
            .virtual_services
            .iter()
            .find(|v| v.name == vs)
            .unwrap();
        let final_weights: BTreeMap<String, u32> = now.routes[1]
            .destinations
            .iter()
            .map(|d| (d.key().to_owned(), d.weight))
            .collect();
        if let Some(last) = mine.last() {
            assert_eq!(
                final_weights, last.after,
                "{vs}: final state is the last accepted change"
            );
        }
    }
}
