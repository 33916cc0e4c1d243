//! Compiles the cluster's objects (Services, Pods, Deployments, VirtualServices,
//! DestinationRules, HTTPRoutes) into a [`Topology`]: workloads from ready pods, service
//! endpoints, each service's routing (a VirtualService for its host, else the HTTPRoutes attached
//! to it). Pure apart from interning label sets in the metrics registry.

use super::annotations::{parse_behaviour, ANNOTATION_CALLS};
use super::hosts::{dns_host, fqdn, host_specificity, resolve_host};
use super::http_route::{attaches_to, compile_http_routes};
use super::virtual_service::{applies_to_mesh, compile_virtual_service, RouteContext};
use super::{
    Objects, Routing, Service, Target, Topology, Workload, AMBIENT_LABEL,
    INGRESS_USE_WAYPOINT_LABEL, USE_WAYPOINT_LABEL,
};
use crate::mesh::metrics::{PeerLabels, Registry, ServiceLabels};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A pod as the compiler sees it.
pub(super) struct PodInfo<'a> {
    pub(super) namespace: &'a str,
    pub(super) labels: BTreeMap<&'a str, &'a str>,
    pub(super) workload: usize,
}

impl Topology {
    pub fn compile(objects: &Objects, revision: u64, registry: &Registry) -> Topology {
        let mut warnings = Vec::new();
        let deployments: HashMap<(&str, &str), &Value> = objects
            .deployments
            .iter()
            .filter_map(|d| Some(((namespace_of(d)?, name_of(d)?), &**d)))
            .collect();

        // Workloads and ready pods.
        let mut workloads: Vec<Workload> = Vec::new();
        let mut workload_index: HashMap<(String, String), usize> = HashMap::new();
        // Each workload's calls annotation, resolved once services are known.
        let mut calls_of: Vec<(usize, String)> = Vec::new();
        let mut pods: Vec<PodInfo> = Vec::new();
        for pod in &objects.pods {
            let (Some(namespace), Some(pod_name)) = (namespace_of(pod), name_of(pod)) else {
                continue;
            };
            if !is_ready(pod) {
                continue;
            }
            let workload_name = workload_name(pod, pod_name);
            let key = (namespace.to_owned(), workload_name.clone());
            let index = match workload_index.get(&key) {
                Some(i) => *i,
                None => {
                    // Behaviour is declared on the Deployment (what `kubectl annotate deploy`
                    // edits); bare pods carry it themselves.
                    let annotated = deployments
                        .get(&(namespace, workload_name.as_str()))
                        .copied()
                        .unwrap_or(pod);
                    let annotations = string_map(annotated.pointer("/metadata/annotations"));
                    let context = format!("{namespace}/{workload_name}");
                    let behaviour = parse_behaviour(&annotations, &context, &mut warnings);
                    if let Some(calls) = annotations.get(ANNOTATION_CALLS) {
                        calls_of.push((workloads.len(), (*calls).to_owned()));
                    }
                    let peer = registry.peer_id(peer_labels(pod, namespace, &workload_name));
                    let labels: BTreeMap<String, String> =
                        string_map(pod.pointer("/metadata/labels"))
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .collect();
                    let ambient =
                        labels.get(AMBIENT_LABEL.0).map(String::as_str) == Some(AMBIENT_LABEL.1);
                    workloads.push(Workload {
                        name: Arc::from(workload_name.as_str()),
                        namespace: Arc::from(namespace),
                        peer,
                        labels,
                        behaviour,
                        calls: Vec::new(),
                        ambient,
                    });
                    workload_index.insert(key, workloads.len() - 1);
                    workloads.len() - 1
                }
            };
            pods.push(PodInfo {
                namespace,
                labels: string_map(pod.pointer("/metadata/labels")),
                workload: index,
            });
        }

        // Services and their endpoints.
        let mut services: Vec<Service> = Vec::new();
        let mut by_host: HashMap<Arc<str>, usize> = HashMap::new();
        // Per service: the pods it selects, kept for subset filtering.
        let mut selected: Vec<Vec<usize>> = Vec::new();
        for svc in &objects.services {
            let (Some(namespace), Some(name)) = (namespace_of(svc), name_of(svc)) else {
                continue;
            };
            let selector = string_map(svc.pointer("/spec/selector"));
            // A Service without a selector has no pod endpoints (its Endpoints are managed by hand).
            let pod_indexes: Vec<usize> = if selector.is_empty() {
                Vec::new()
            } else {
                pods.iter()
                    .enumerate()
                    .filter(|(_, p)| p.namespace == namespace && labels_match(&selector, &p.labels))
                    .map(|(i, _)| i)
                    .collect()
            };
            let fqdn: Arc<str> = Arc::from(fqdn(name, namespace).as_str());
            let labels = registry.service_id(ServiceLabels::for_host(&fqdn));
            let endpoints = pod_indexes.iter().map(|i| pods[*i].workload).collect();
            let service_labels = string_map(svc.pointer("/metadata/labels"));
            let waypoint = service_labels
                .get(USE_WAYPOINT_LABEL)
                .is_some_and(|w| !w.is_empty() && *w != "none");
            let ingress_waypoint =
                waypoint && service_labels.get(INGRESS_USE_WAYPOINT_LABEL) == Some(&"true");
            by_host.insert(fqdn.clone(), services.len());
            services.push(Service {
                name: Arc::from(name),
                fqdn,
                labels,
                endpoints,
                routing: Routing::Default(Target::NoCluster { service: labels }),
                waypoint,
                ingress_waypoint,
            });
            selected.push(pod_indexes);
        }

        for (workload, calls) in calls_of {
            let namespace = workloads[workload].namespace.clone();
            for call in calls.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                match by_host.get(dns_host(call, &namespace).as_str()) {
                    Some(service) => workloads[workload].calls.push(*service),
                    None => warnings.push(format!(
                        "{namespace}/{}: annotation {ANNOTATION_CALLS} names {call:?}, which is not a service; the call is skipped",
                        workloads[workload].name
                    )),
                }
            }
        }

        // Routing: the oldest VirtualService for a host owns it, as for Istio sidecars; a host no
        // VirtualService owns follows the HTTPRoutes attached to its Service.
        let virtual_services = by_age(&objects.virtual_services);
        let destination_rules = by_age(&objects.destination_rules);
        let http_routes = by_age(&objects.http_routes);
        let ctx = RouteContext {
            services: &services,
            selected: &selected,
            pods: &pods,
            by_host: &by_host,
            destination_rules: &destination_rules,
            registry,
        };
        let mut routings = Vec::with_capacity(services.len());
        for (service, svc) in services.iter().enumerate() {
            let owner = virtual_services
                .iter()
                .filter(|vs| applies_to_mesh(vs))
                .filter_map(|vs| {
                    let ns = namespace_of(vs)?;
                    let hosts = vs.pointer("/spec/hosts")?.as_array()?;
                    let best = hosts
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(|h| host_specificity(&resolve_host(h, ns), &svc.fqdn))
                        .max()?;
                    Some((best, *vs))
                })
                // An exact host beats a wildcard; among equals the oldest (first) wins.
                .fold(None::<(u8, &Value)>, |acc, (spec, vs)| match acc {
                    Some((s, _)) if s >= spec => acc,
                    _ => Some((spec, vs)),
                });
            let service_ns = svc
                .fqdn
                .strip_prefix(&format!("{}.", svc.name))
                .and_then(|rest| rest.strip_suffix(".svc.cluster.local"))
                .unwrap_or_default();
            let attached: Vec<&Value> = http_routes
                .iter()
                .copied()
                .filter(|r| attaches_to(r, &svc.name, service_ns))
                .collect();
            let routing = match owner {
                Some((_, vs)) => {
                    if !attached.is_empty() {
                        warnings.push(format!(
                            "{}: a VirtualService and an HTTPRoute both route it; the VirtualService is used (mixing them is undefined in Istio)",
                            svc.fqdn
                        ));
                    }
                    Routing::Virtual(compile_virtual_service(vs, &ctx, &mut warnings))
                }
                None if !attached.is_empty() => {
                    Routing::Virtual(compile_http_routes(&attached, &ctx, &mut warnings))
                }
                None => Routing::Default(Target::Endpoints {
                    service: svc.labels,
                    endpoints: svc.endpoints.clone(),
                }),
            };
            routings.push((service, routing));
        }
        for (service, routing) in routings {
            services[service].routing = routing;
        }

        Topology {
            revision,
            services,
            by_host,
            workloads,
            warnings,
        }
    }
}

/// Oldest first (creationTimestamp is RFC 3339 in UTC, so it sorts as text), then by
/// namespace/name so equal timestamps order deterministically.
fn by_age(objects: &[Arc<Value>]) -> Vec<&Value> {
    let mut sorted: Vec<&Value> = objects.iter().map(|o| &**o).collect();
    sorted.sort_by_key(|o| {
        (
            o.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or(""),
            namespace_of(o).unwrap_or(""),
            name_of(o).unwrap_or(""),
        )
    });
    sorted
}

pub(super) fn namespace_of(o: &Value) -> Option<&str> {
    o.pointer("/metadata/namespace").and_then(Value::as_str)
}

pub(super) fn name_of(o: &Value) -> Option<&str> {
    o.pointer("/metadata/name").and_then(Value::as_str)
}

pub(super) fn string_map(v: Option<&Value>) -> BTreeMap<&str, &str> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn labels_match(selector: &BTreeMap<&str, &str>, labels: &BTreeMap<&str, &str>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A pod serves traffic unless it is terminating, not running, or not Ready. A pod with no
/// status at all (created by hand; the simulator has no kubelet) counts as running.
fn is_ready(pod: &Value) -> bool {
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        return false;
    }
    if let Some(phase) = pod.pointer("/status/phase").and_then(Value::as_str) {
        if phase != "Running" {
            return false;
        }
    }
    let not_ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) != Some("True")
            })
        });
    !not_ready
}

/// Istio's workload name: the Deployment for a ReplicaSet-owned pod (the owner name without the
/// `-<pod-template-hash>` suffix), the owner for other controllers, else the pod itself.
pub(crate) fn workload_name(pod: &Value, pod_name: &str) -> String {
    let hash = pod
        .pointer("/metadata/labels/pod-template-hash")
        .and_then(Value::as_str);
    let owners = pod
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array);
    let owner = owners.and_then(|os| {
        os.iter()
            .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| os.first())
    });
    let Some(owner) = owner else {
        return pod_name.to_owned();
    };
    let kind = owner
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = owner
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(pod_name);
    if kind == "ReplicaSet" {
        if let Some(deployment) = hash.and_then(|h| name.strip_suffix(h)?.strip_suffix('-')) {
            return deployment.to_owned();
        }
    }
    name.to_owned()
}

fn peer_labels(pod: &Value, namespace: &str, workload: &str) -> PeerLabels {
    let labels = string_map(pod.pointer("/metadata/labels"));
    let first = |keys: &[&str]| keys.iter().find_map(|k| labels.get(k).copied());
    let service_account = pod
        .pointer("/spec/serviceAccountName")
        .or_else(|| pod.pointer("/spec/serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    PeerLabels {
        workload: Arc::from(workload),
        namespace: Arc::from(namespace),
        principal: Arc::from(
            format!("spiffe://cluster.local/ns/{namespace}/sa/{service_account}").as_str(),
        ),
        app: Arc::from(labels.get("app").copied().unwrap_or("unknown")),
        version: Arc::from(labels.get("version").copied().unwrap_or("unknown")),
        canonical_service: Arc::from(
            first(&[
                "service.istio.io/canonical-name",
                "app.kubernetes.io/name",
                "app",
            ])
            .unwrap_or(workload),
        ),
        canonical_revision: Arc::from(
            first(&[
                "service.istio.io/canonical-revision",
                "app.kubernetes.io/version",
                "version",
            ])
            .unwrap_or("latest"),
        ),
        cluster: Arc::from("Kubernetes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workload_name_strips_the_template_hash() {
        let pod = json!({"metadata": {
            "labels": {"pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "review-v2-7d9f8b6c5d", "controller": true}]}});
        assert_eq!(
            workload_name(&pod, "review-v2-7d9f8b6c5d-x2x4k"),
            "review-v2"
        );
        assert_eq!(workload_name(&json!({"metadata": {}}), "bare"), "bare");
        let stateful =
            json!({"metadata": {"ownerReferences": [{"kind": "StatefulSet", "name": "db"}]}});
        assert_eq!(workload_name(&stateful, "db-0"), "db");
    }

    #[test]
    fn readiness() {
        assert!(is_ready(&json!({"metadata": {}})));
        assert!(is_ready(
            &json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        ));
        assert!(!is_ready(&json!({"status": {"phase": "Pending"}})));
        assert!(!is_ready(
            &json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}})
        ));
        assert!(!is_ready(
            &json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})
        ));
    }
}
