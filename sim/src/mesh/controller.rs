//! A minimal Deployment controller for the simulated cluster: keeps, for each Deployment, as many
//! Running pods of its current template as it asks for (named and owned as a ReplicaSet's pods
//! would be), removes pods of old templates or deleted Deployments, and reports status.

use super::topology::{DEPLOYMENTS, PODS};
use crate::store::{Key, Store, StoreError};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

/// The node every simulated pod runs on.
pub const NODE_NAME: &str = "switchyard-sim";

/// Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Watches the store and reconciles after every change to Deployments or Pods.
pub fn run_pod_controller(store: Store) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Subscribe before the first pass so no change between them is missed.
        let mut events = store.subscribe();
        reconcile_logged(&store);
        loop {
            match events.recv().await {
                Ok(event) => {
                    let relevant = |r: &str| r == DEPLOYMENTS || r == PODS;
                    let mut dirty = relevant(&event.key.resource);
                    // Coalesce a burst (e.g. a manifest being applied) into one pass.
                    while let Ok(more) = events.try_recv() {
                        dirty |= relevant(&more.key.resource);
                    }
                    if dirty {
                        reconcile_logged(&store);
                    }
                }
                // Missed events: the state is what matters, so a full pass catches up.
                Err(RecvError::Lagged(_)) => reconcile_logged(&store),
                Err(RecvError::Closed) => return,
            }
        }
    })
}

fn reconcile_logged(store: &Store) {
    let writes = reconcile_pods(store);
    if writes > 0 {
        tracing::debug!(writes, "pod controller reconciled");
    }
}

/// One reconciliation pass over every namespace; returns the number of writes made. Idempotent:
/// a second pass over an unchanged store writes nothing.
pub fn reconcile_pods(store: &Store) -> usize {
    let (deployments, _) = store.list(DEPLOYMENTS, None);
    let (pods, _) = store.list(PODS, None);
    let mut writes = 0;
    let mut deployment_names = BTreeMap::new();
    for deployment in &deployments {
        let (Some(namespace), Some(name)) = (
            str_at(deployment, "/metadata/namespace"),
            str_at(deployment, "/metadata/name"),
        ) else {
            continue;
        };
        deployment_names.insert((namespace.to_owned(), name.to_owned()), ());
        writes += reconcile_deployment(store, deployment, namespace, name, &pods);
    }
    // Garbage collection: pods whose owning Deployment is gone.
    for pod in &pods {
        let (Some(namespace), Some(name)) = (
            str_at(pod, "/metadata/namespace"),
            str_at(pod, "/metadata/name"),
        ) else {
            continue;
        };
        if let Some(owner) = owning_deployment(pod) {
            if !deployment_names.contains_key(&(namespace.to_owned(), owner))
                && delete(store, namespace, name)
            {
                writes += 1;
            }
        }
    }
    writes
}

fn reconcile_deployment(
    store: &Store,
    deployment: &Value,
    namespace: &str,
    name: &str,
    pods: &[Arc<Value>],
) -> usize {
    let mut writes = 0;
    let template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let hash = template_hash(&template);
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1) as usize;
    let mut current: Vec<&str> = Vec::new();
    for pod in pods {
        if str_at(pod, "/metadata/namespace") != Some(namespace)
            || owning_deployment(pod).as_deref() != Some(name)
        {
            continue;
        }
        let Some(pod_name) = str_at(pod, "/metadata/name") else {
            continue;
        };
        if str_at(pod, "/metadata/labels/pod-template-hash") == Some(hash.as_str()) {
            current.push(pod_name);
        } else if delete(store, namespace, pod_name) {
            // An old template's pod: the simulated rollout replaces pods at once.
            writes += 1;
        }
    }
    current.sort_unstable();
    // Scale down from the end, so the oldest-named pods stay (any choice is legal).
    while current.len() > replicas {
        if let Some(extra) = current.pop() {
            if delete(store, namespace, extra) {
                writes += 1;
            }
        }
    }
    let mut ready = current.len();
    while ready < replicas {
        let pod = new_pod(deployment, &template, namespace, name, &hash);
        let pod_name = str_at(&pod, "/metadata/name")
            .unwrap_or_default()
            .to_owned();
        match store.create(Key::new(PODS, namespace, &pod_name), pod) {
            Ok(_) => {
                writes += 1;
                ready += 1;
            }
            // A random suffix collided with an existing pod: draw another.
            Err(StoreError::AlreadyExists) => continue,
            Err(e) => {
                tracing::warn!(%namespace, deployment = name, error = %e, "could not create pod");
                break;
            }
        }
    }
    writes + update_status(store, namespace, name, replicas, ready)
}

fn update_status(
    store: &Store,
    namespace: &str,
    name: &str,
    replicas: usize,
    ready: usize,
) -> usize {
    let key = Key::new(DEPLOYMENTS, namespace, name);
    let before = store.get(&key);
    let result = store.update(&key, |current| {
        let mut next = current.clone();
        let generation = current.pointer("/metadata/generation").cloned().unwrap_or(json!(1));
        let available = ready >= replicas;
        let mut status = json!({
            "observedGeneration": generation,
            "replicas": ready,
            "updatedReplicas": ready,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [{
                "type": "Available",
                "status": if available { "True" } else { "False" },
                "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
            }],
        });
        // kubectl shows a missing count as 0; omitting zero counts is what the real controller does.
        if let Some(map) = status.as_object_mut() {
            if ready == 0 {
                for field in ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"] {
                    map.remove(field);
                }
            }
        }
        if let Some(obj) = next.as_object_mut() {
            obj.insert("status".into(), status);
        }
        Ok(next)
    });
    match (before, result) {
        (Some(before), Ok(after)) if !Arc::ptr_eq(&before, &after) => 1,
        _ => 0,
    }
}

fn new_pod(deployment: &Value, template: &Value, namespace: &str, name: &str, hash: &str) -> Value {
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let replica_set = format!("{name}-{hash}");
    let pod_name = format!("{replica_set}-{suffix}");
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(map) = labels.as_object_mut() {
        map.insert("pod-template-hash".into(), json!(hash));
    }
    let annotations = template
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if let Some(map) = spec.as_object_mut() {
        map.insert("nodeName".into(), json!(NODE_NAME));
        map.entry("serviceAccountName").or_insert(json!("default"));
        map.entry("restartPolicy").or_insert(json!("Always"));
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let containers: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({
                        "name": c.get("name").cloned().unwrap_or(json!("main")),
                        "image": c.get("image").cloned().unwrap_or(json!("")),
                        "imageID": "",
                        "containerID": format!("sim://{pod_name}"),
                        "ready": true,
                        "started": true,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ip = pod_ip(&pod_name);
    let ready_condition =
        |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": namespace,
            "generateName": format!("{replica_set}-"),
            // Pods count generations (kube-apiserver 1.34+); the store starts it at 1.
            "generation": 1,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": replica_set,
                "uid": deployment.pointer("/metadata/uid").cloned().unwrap_or(json!("")),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [
                ready_condition("Initialized"),
                ready_condition("Ready"),
                ready_condition("ContainersReady"),
                ready_condition("PodScheduled"),
            ],
            "hostIP": "10.0.0.1",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": now,
            "containerStatuses": containers,
            "qosClass": "BestEffort",
        },
    })
}

/// The Deployment a pod belongs to: its ReplicaSet owner's name without `-<pod-template-hash>`.
fn owning_deployment(pod: &Value) -> Option<String> {
    let hash = str_at(pod, "/metadata/labels/pod-template-hash")?;
    pod.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("ReplicaSet"))
        .find_map(|o| {
            let owner = o.get("name")?.as_str()?;
            Some(owner.strip_suffix(hash)?.strip_suffix('-')?.to_owned())
        })
}

/// A stable hash of the pod template, rendered as Kubernetes renders `pod-template-hash` (FNV-1a
/// over the template's JSON; serde_json's maps are sorted, so equal templates hash equally).
pub(crate) fn template_hash(template: &Value) -> String {
    let text = template.to_string();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char;
            hash /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn pod_ip(pod_name: &str) -> String {
    let h = template_hash(&json!(pod_name));
    let bytes = h.as_bytes();
    format!("10.244.{}.{}", bytes[0] % 250, 2 + bytes[1] % 250)
}

fn delete(store: &Store, namespace: &str, name: &str) -> bool {
    store.delete(&Key::new(PODS, namespace, name)).is_ok()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(name: &str, replicas: u64, version: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": "review", "version": version}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "review", "version": version}},
                "template": {
                    "metadata": {"labels": {"app": "review", "version": version}},
                    "spec": {"containers": [{"name": "review", "image": format!("review:{version}")}]}
                }
            }
        })
    }

    fn pods_of(store: &Store, ns: &str) -> Vec<Arc<Value>> {
        store.list(PODS, Some(ns)).0
    }

    #[test]
    fn creates_scales_rolls_and_collects_pods() {
        let store = Store::new();
        let key = Key::new(DEPLOYMENTS, "ns", "review-v1");
        store
            .create(key.clone(), deployment("review-v1", 2, "v1"))
            .unwrap();

        assert!(reconcile_pods(&store) >= 3, "two pods and a status");
        let pods = pods_of(&store, "ns");
        assert_eq!(pods.len(), 2);
        for pod in &pods {
            assert_eq!(pod["metadata"]["labels"]["app"], "review");
            assert_eq!(pod["status"]["phase"], "Running");
            assert_eq!(owning_deployment(pod).as_deref(), Some("review-v1"));
            let name = pod["metadata"]["name"].as_str().unwrap();
            assert!(name.starts_with("review-v1-"), "{name}");
            assert_eq!(crate::mesh::topology::workload_name(pod, name), "review-v1");
        }
        let status = &store.get(&key).unwrap()["status"];
        assert_eq!(status["readyReplicas"], 2);
        assert_eq!(reconcile_pods(&store), 0, "a second pass changes nothing");

        // Scale to zero.
        store
            .update(&key, |d| {
                let mut d = d.clone();
                d["spec"]["replicas"] = json!(0);
                Ok(d)
            })
            .unwrap();
        reconcile_pods(&store);
        assert!(pods_of(&store, "ns").is_empty());
        assert!(store.get(&key).unwrap()["status"]
            .get("readyReplicas")
            .is_none());

        // Back to one, then a template change replaces the pod.
        store
            .update(&key, |d| {
                let mut d = d.clone();
                d["spec"]["replicas"] = json!(1);
                Ok(d)
            })
            .unwrap();
        reconcile_pods(&store);
        let before = pods_of(&store, "ns")[0]["metadata"]["name"].clone();
        store
            .update(&key, |d| {
                let mut d = d.clone();
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("review:v1.1");
                Ok(d)
            })
            .unwrap();
        reconcile_pods(&store);
        let after = pods_of(&store, "ns");
        assert_eq!(after.len(), 1);
        assert_ne!(after[0]["metadata"]["name"], before);

        // Deleting the Deployment collects its pods; bare pods are left alone.
        store
            .create(
                Key::new(PODS, "ns", "bare"),
                json!({"metadata": {"labels": {"app": "x"}}}),
            )
            .unwrap();
        store.delete(&key).unwrap();
        reconcile_pods(&store);
        let left: Vec<_> = pods_of(&store, "ns")
            .iter()
            .map(|p| p["metadata"]["name"].clone())
            .collect();
        assert_eq!(left, vec![json!("bare")]);
    }

    #[test]
    fn template_hash_is_stable_and_sensitive() {
        let a = json!({"metadata": {"labels": {"app": "a", "version": "v1"}}});
        let b = json!({"metadata": {"labels": {"version": "v1", "app": "a"}}});
        let c = json!({"metadata": {"labels": {"app": "a", "version": "v2"}}});
        assert_eq!(template_hash(&a), template_hash(&b));
        assert_ne!(template_hash(&a), template_hash(&c));
        assert_eq!(template_hash(&a).len(), 10);
    }

    #[tokio::test]
    async fn controller_task_follows_changes() {
        let store = Store::new();
        let handle = run_pod_controller(store.clone());
        let mut events = store.subscribe();
        store
            .create(
                Key::new(DEPLOYMENTS, "ns", "review-v2"),
                deployment("review-v2", 1, "v2"),
            )
            .unwrap();
        // Wait for the pod's creation event, bounded.
        let created = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                match events.recv().await {
                    Ok(e) if e.key.resource == PODS => return true,
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await;
        handle.abort();
        assert_eq!(created, Ok(true));
        assert_eq!(pods_of(&store, "ns").len(), 1);
    }
}
