//! The only module that talks to Kubernetes: watches (reflectors) keep VirtualServices and
//! DestinationRules of the namespaces in scope current, handlers read those caches, and weight
//! changes go out as JSON Patches guarded by `test` operations (see `weights`), with the
//! caller's own credentials. Every weight change seen through the watch is recorded in the
//! cluster as an Event (see `history`).

pub mod connect;
pub mod history;
pub mod view;
pub mod weights;

pub use connect::config_from_kubeconfig;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Service};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_protocol::{
    ChangeRecord, ExpectedDestination, SetWeightsRequest, ShiftOutcome, ShiftResult, ShiftTarget,
    VirtualServiceRoutes,
};
use tokio::sync::broadcast;

use crate::graph::{DestinationRuleInfo, ServiceInfo, Topology, WorkloadInfo};

/// What went wrong talking to the cluster, in terms the API layer maps to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The route changed since the client saw it; nothing was written.
    #[error("{message}")]
    Conflict {
        message: String,
        current: Option<Box<VirtualServiceRoutes>>,
    },
    #[error("{0}")]
    Forbidden(String),
    /// The API server failed or could not be reached.
    #[error("kubernetes api: {0}")]
    Upstream(String),
}

/// A change seen through the watches, after the cache applied it.
#[derive(Clone, Debug)]
pub enum Change {
    VirtualServiceChanged(VirtualServiceRoutes),
    VirtualServiceDeleted {
        namespace: String,
        name: String,
    },
    /// The cache re-listed (start or reconnect): consumers should take a fresh snapshot.
    Resynced,
    /// Services, Deployments or DestinationRules changed: the graph's topology is different.
    TopologyChanged,
    /// A weight change was recorded in the history.
    Recorded(ChangeRecord),
}

/// Who a write is made for, and how: their client (so the cluster's RBAC decides), their name
/// for the history, and which console action it is (`console`, `bulk`, `rollback`).
pub struct Actor<'a> {
    pub client: &'a Client,
    pub user: &'a str,
    pub source: &'a str,
}

/// The result of a weight change.
#[derive(Debug)]
pub struct WeightChange {
    pub changed: bool,
    pub summary: String,
    pub before: VirtualServiceRoutes,
    pub after: VirtualServiceRoutes,
}

fn virtual_service_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    )
}

fn destination_rule_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "DestinationRule"),
        "destinationrules",
    )
}

struct Scope {
    namespace: String,
    virtual_services: Store<DynamicObject>,
    destination_rules: Store<DynamicObject>,
    services: Store<Service>,
    deployments: Store<Deployment>,
    events: Store<Event>,
}

/// Cheap to clone handle on the cluster and its caches.
#[derive(Clone)]
pub struct Cluster {
    scopes: Arc<Vec<Scope>>,
    changes: broadcast::Sender<Change>,
}

impl Cluster {
    /// Starts the watches for `namespaces` and returns at once; `wait_ready` waits for the first
    /// list. The watches retry with backoff for as long as the process runs.
    pub fn start(client: Client, namespaces: &[String]) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let mut scopes = Vec::new();
        for ns in namespaces {
            let vs_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &virtual_service_resource());
            let dr_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &destination_rule_resource());
            let vs_writer = Writer::new(virtual_service_resource());
            let dr_writer = Writer::new(destination_rule_resource());
            let (services, svc_writer) = reflector::store::<Service>();
            let (deployments, deploy_writer) = reflector::store::<Deployment>();
            let (events, event_writer) = reflector::store::<Event>();
            scopes.push(Scope {
                namespace: ns.clone(),
                virtual_services: vs_writer.as_reader(),
                destination_rules: dr_writer.as_reader(),
                services,
                deployments,
                events,
            });
            let event_api: Api<Event> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch_virtual_services(
                vs_api,
                vs_writer,
                changes.clone(),
                event_api.clone(),
            ));
            tokio::spawn(watch_history(event_api, event_writer, changes.clone()));
            tokio::spawn(watch_quietly(
                dr_api,
                dr_writer,
                "destinationrules",
                changes.clone(),
            ));
            let svc_api: Api<Service> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch_quietly(
                svc_api,
                svc_writer,
                "services",
                changes.clone(),
            ));
            let deploy_api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch_quietly(
                deploy_api,
                deploy_writer,
                "deployments",
                changes.clone(),
            ));
        }
        Cluster {
            scopes: Arc::new(scopes),
            changes,
        }
    }

    /// Waits until every cache has listed once.
    pub async fn wait_ready(&self) {
        for scope in self.scopes.iter() {
            // Errors only when the writer is gone, i.e. the process is shutting down.
            let _ = scope.virtual_services.wait_until_ready().await;
            let _ = scope.destination_rules.wait_until_ready().await;
            let _ = scope.services.wait_until_ready().await;
            let _ = scope.deployments.wait_until_ready().await;
            let _ = scope.events.wait_until_ready().await;
        }
    }

    pub fn namespaces(&self) -> Vec<String> {
        self.scopes.iter().map(|s| s.namespace.clone()).collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Every VirtualService in scope, ordered by namespace and name, from the cache.
    pub fn virtual_services(&self) -> Vec<VirtualServiceRoutes> {
        let mut all: Vec<VirtualServiceRoutes> = self
            .scopes
            .iter()
            .flat_map(|s| s.virtual_services.state())
            .filter_map(|o| serde_json::to_value(&*o).ok())
            .map(|v| view::virtual_service_routes(&v))
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        all
    }

    /// What exists in scope, for the graph: services, workloads (Deployments with their app and
    /// version labels), VirtualServices and DestinationRules. Reads the caches only.
    pub fn topology(&self) -> Topology {
        let mut topology = Topology {
            virtual_services: self.virtual_services(),
            ..Topology::default()
        };
        for scope in self.scopes.iter() {
            for svc in scope.services.state() {
                topology.services.push(ServiceInfo {
                    namespace: scope.namespace.clone(),
                    name: svc.metadata.name.clone().unwrap_or_default(),
                });
            }
            for d in scope.deployments.state() {
                let labels = d
                    .spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .or_else(|| d.metadata.labels.clone())
                    .unwrap_or_default();
                topology.workloads.push(WorkloadInfo {
                    namespace: scope.namespace.clone(),
                    name: d.metadata.name.clone().unwrap_or_default(),
                    app: labels.get("app").cloned(),
                    version: labels.get("version").cloned(),
                });
            }
            topology.destination_rules.extend(destination_rules(
                &scope.destination_rules,
                &scope.namespace,
            ));
        }
        topology
            .services
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        topology
            .workloads
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        topology
    }

    /// The recorded weight changes in scope, oldest first, from the Event cache.
    pub fn history(&self) -> Vec<ChangeRecord> {
        let mut records: Vec<ChangeRecord> = self
            .scopes
            .iter()
            .flat_map(|s| s.events.state())
            .filter_map(|e| serde_json::to_value(&*e).ok())
            .filter_map(|e| history::record_from_event(&e))
            .collect();
        history::sort(&mut records);
        records
    }

    /// The route a bulk shift or rollback changes: the last route whose destinations are exactly
    /// the subsets named in `weights` (the default route after any header or URI matches).
    fn shift_route(vs: &VirtualServiceRoutes, keys: &[&str]) -> Option<usize> {
        switchyard_protocol::subsets::shift_route(vs, keys).map(|r| r.index)
    }

    /// VirtualServices in scope with an old/new style route for these subsets, as shift targets.
    pub fn shift_targets(&self, weights: &BTreeMap<String, u32>) -> Vec<ShiftTarget> {
        let keys: Vec<&str> = weights.keys().map(String::as_str).collect();
        self.virtual_services()
            .into_iter()
            .filter(|vs| Self::shift_route(vs, &keys).is_some())
            .map(|vs| ShiftTarget {
                namespace: vs.namespace,
                name: vs.name,
                expected: None,
            })
            .collect()
    }

    /// Sets one split on several VirtualServices. Each target succeeds or fails on its own; a
    /// target whose route changed since the client saw it is not touched.
    pub async fn shift(
        &self,
        actor: &Actor<'_>,
        targets: &[ShiftTarget],
        weights: &BTreeMap<String, u32>,
    ) -> Vec<ShiftResult> {
        let keys: Vec<&str> = weights.keys().map(String::as_str).collect();
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let failed = |status: u16,
                          message: String,
                          current: Option<VirtualServiceRoutes>,
                          index| ShiftResult {
                namespace: target.namespace.clone(),
                name: target.name.clone(),
                outcome: ShiftOutcome::Failed,
                route_index: index,
                message,
                status: Some(status),
                virtual_service: current,
            };
            let current = match self
                .cached_virtual_service(&target.namespace, &target.name)
                .map(|v| view::virtual_service_routes(&v))
            {
                Ok(vs) => vs,
                Err(e) => {
                    results.push(failed(404, e.to_string(), None, None));
                    continue;
                }
            };
            let Some(index) = Self::shift_route(&current, &keys) else {
                let message = format!(
                    "{} has no route that splits between exactly {}",
                    target.name,
                    keys.join(" and ")
                );
                results.push(failed(422, message, Some(current), None));
                continue;
            };
            let expected: Vec<ExpectedDestination> = match &target.expected {
                Some(expected) => expected.clone(),
                None => current.routes[index]
                    .destinations
                    .iter()
                    .map(Into::into)
                    .collect(),
            };
            let request = SetWeightsRequest {
                weights: weights.clone(),
                expected,
            };
            let result = match self
                .set_weights(actor, &target.namespace, &target.name, index, &request)
                .await
            {
                Ok(change) => ShiftResult {
                    namespace: target.namespace.clone(),
                    name: target.name.clone(),
                    outcome: if change.changed {
                        ShiftOutcome::Changed
                    } else {
                        ShiftOutcome::Unchanged
                    },
                    route_index: Some(index),
                    message: if change.changed {
                        let before: Vec<ExpectedDestination> = change
                            .before
                            .routes
                            .get(index)
                            .map(|r| r.destinations.iter().map(Into::into).collect())
                            .unwrap_or_default();
                        let before = weights::split_text(&before);
                        format!("{before} → {}", change.summary)
                    } else {
                        format!("already {}", change.summary)
                    },
                    status: None,
                    virtual_service: Some(change.after),
                },
                Err(e) => {
                    let (status, current) = match &e {
                        Error::NotFound(_) => (404, None),
                        Error::Invalid(_) => (422, None),
                        Error::Conflict { current, .. } => (409, current.as_deref().cloned()),
                        Error::Forbidden(_) => (403, None),
                        Error::Upstream(_) => (503, None),
                    };
                    failed(status, e.to_string(), current, Some(index))
                }
            };
            results.push(result);
        }
        results
    }

    fn scope(&self, namespace: &str) -> Result<&Scope, Error> {
        self.scopes
            .iter()
            .find(|s| s.namespace == namespace)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "namespace {namespace} is not watched by this console"
                ))
            })
    }

    fn cached_virtual_service(&self, namespace: &str, name: &str) -> Result<Value, Error> {
        let scope = self.scope(namespace)?;
        let obj = scope
            .virtual_services
            .get(
                &reflector::ObjectRef::new_with(name, virtual_service_resource()).within(namespace),
            )
            .ok_or_else(|| {
                Error::NotFound(format!("virtualservice {namespace}/{name} not found"))
            })?;
        serde_json::to_value(&*obj)
            .map_err(|e| Error::Upstream(format!("unreadable virtualservice: {e}")))
    }

    /// Subsets defined by the DestinationRules of `namespace`, keyed by fully qualified host.
    fn defined_subsets(&self, namespace: &str) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let scope = self.scope(namespace)?;
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for dr in destination_rules(&scope.destination_rules, namespace) {
            map.entry(dr.host)
                .or_default()
                .extend(dr.subsets.into_keys());
        }
        Ok(map)
    }

    /// Sets the weights of route `index` of a VirtualService, guarded so that a route changed or
    /// moved since the client saw it is never overwritten.
    pub async fn set_weights(
        &self,
        actor: &Actor<'_>,
        namespace: &str,
        name: &str,
        index: usize,
        request: &SetWeightsRequest,
    ) -> Result<WeightChange, Error> {
        let mut object = self.cached_virtual_service(namespace, name)?;
        let api: Api<DynamicObject> =
            Api::namespaced_with(actor.client.clone(), namespace, &virtual_service_resource());
        // DestinationRule hosts are matched by FQDN; the plan looks them up by the route's host.
        let by_fqdn = self.defined_subsets(namespace)?;
        let defined: BTreeMap<String, Vec<String>> = request
            .expected
            .iter()
            .map(|d| {
                let subsets = by_fqdn
                    .get(&qualify(&d.host, namespace))
                    .cloned()
                    .unwrap_or_default();
                (d.host.clone(), subsets)
            })
            .collect();
        let stamp = |object: &Value| history::LastChange {
            id: uuid::Uuid::new_v4().to_string(),
            time: now_rfc3339(),
            user: actor.user.to_owned(),
            source: actor.source.to_owned(),
            route_index: index,
            before: history::route_weights(object)
                .get(index)
                .cloned()
                .unwrap_or_default(),
            after: request.weights.clone(),
        };
        let mut plan = weights::plan(
            &object,
            index,
            request,
            Some(&defined),
            Some(&stamp(&object)),
        );
        if let Err(weights::PlanError::Changed(_)) = plan {
            // The cache may lag behind the cluster (say, the client's own write a moment ago):
            // only a fresh read decides that the client's view is stale.
            let fresh = api
                .get(name)
                .await
                .map_err(|e| from_kube(e, namespace, name))?;
            object = serde_json::to_value(&fresh)
                .map_err(|e| Error::Upstream(format!("unreadable virtualservice: {e}")))?;
            plan = weights::plan(
                &object,
                index,
                request,
                Some(&defined),
                Some(&stamp(&object)),
            );
        }
        let before = view::virtual_service_routes(&object);
        let plan = plan.map_err(|e| match e {
            weights::PlanError::Invalid(m) => Error::Invalid(m),
            weights::PlanError::NoSuchRoute { .. } => Error::NotFound(e.to_string()),
            weights::PlanError::Changed(m) => Error::Conflict {
                message: m,
                current: Some(Box::new(before.clone())),
            },
        })?;
        let Some(patch) = plan.patch else {
            return Ok(WeightChange {
                changed: false,
                summary: plan.summary,
                after: before.clone(),
                before,
            });
        };
        let params = PatchParams {
            field_manager: Some("switchyard".into()),
            ..PatchParams::default()
        };
        match api.patch(name, &params, &Patch::Json::<()>(patch)).await {
            Ok(obj) => {
                let after = serde_json::to_value(&obj)
                    .map(|v| view::virtual_service_routes(&v))
                    .map_err(|e| Error::Upstream(format!("unreadable virtualservice: {e}")))?;
                Ok(WeightChange {
                    changed: true,
                    summary: plan.summary,
                    before,
                    after,
                })
            }
            // A failed `test` is 422 Invalid on a real API server: the route moved or changed
            // under us. Read it fresh (the cache may lag) and say what changed.
            Err(kube::Error::Api(status)) if status.code == 422 || status.code == 409 => {
                let fresh = api
                    .get(name)
                    .await
                    .map_err(|e| from_kube(e, namespace, name))?;
                let fresh = serde_json::to_value(&fresh)
                    .map(|v| view::virtual_service_routes(&v))
                    .map_err(|e| Error::Upstream(format!("unreadable virtualservice: {e}")))?;
                let now: Vec<_> = fresh
                    .routes
                    .get(index)
                    .map(|r| r.destinations.iter().map(Into::into).collect())
                    .unwrap_or_default();
                let message = if fresh.routes.len() <= index {
                    format!("route {index} of {name} no longer exists; nothing was written")
                } else {
                    weights::describe_change(name, index, &request.expected, &now)
                };
                Err(Error::Conflict {
                    message,
                    current: Some(Box::new(fresh)),
                })
            }
            Err(e) => Err(from_kube(e, namespace, name)),
        }
    }
}

/// The DestinationRules of a cache as host (fully qualified) and subsets with their labels.
fn destination_rules(cache: &Store<DynamicObject>, namespace: &str) -> Vec<DestinationRuleInfo> {
    cache
        .state()
        .iter()
        .filter_map(|dr| serde_json::to_value(&**dr).ok())
        .filter_map(|v| {
            let host = v.pointer("/spec/host")?.as_str()?;
            let subsets = v
                .pointer("/spec/subsets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    let name = s.get("name")?.as_str()?.to_owned();
                    let labels = s
                        .get("labels")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((name, labels))
                })
                .collect();
            Some(DestinationRuleInfo {
                namespace: namespace.to_owned(),
                host: qualify(host, namespace),
                subsets,
            })
        })
        .collect()
}

/// Current time in RFC 3339 with microseconds, so text order is time order.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// `review` in namespace `hands-on` is `review.hands-on.svc.cluster.local`, as Istio resolves short
/// names relative to the object's namespace.
pub fn qualify(host: &str, namespace: &str) -> String {
    match host.split('.').count() {
        1 => format!("{host}.{namespace}.svc.cluster.local"),
        2 => format!("{host}.svc.cluster.local"),
        _ => host.to_owned(),
    }
}

fn from_kube(e: kube::Error, namespace: &str, name: &str) -> Error {
    match e {
        kube::Error::Api(status) => match status.code {
            404 => Error::NotFound(format!("virtualservice {namespace}/{name} not found")),
            403 => Error::Forbidden(status.message.clone()),
            // 400 with an empty reason is an admission webhook (Istio's validation) saying no.
            400 | 422 => Error::Invalid(status.message.clone()),
            409 => Error::Conflict {
                message: status.message.clone(),
                current: None,
            },
            _ => Error::Upstream(format!("{} ({})", status.message, status.code)),
        },
        other => Error::Upstream(other.to_string()),
    }
}

async fn watch_virtual_services(
    api: Api<DynamicObject>,
    writer: Writer<DynamicObject>,
    changes: broadcast::Sender<Change>,
    events: Api<Event>,
) {
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    futures::pin_mut!(stream);
    // Last version seen of each VirtualService, to tell what a change changed.
    let mut previous: HashMap<String, Value> = HashMap::new();
    while let Some(event) = stream.next().await {
        // Nobody listening is fine; errors are retried by the backoff and only logged.
        let _ = match event {
            Ok(watcher::Event::Apply(obj)) => {
                let Ok(v) = serde_json::to_value(&obj) else {
                    continue;
                };
                let key = format!(
                    "{}/{}",
                    obj.metadata.namespace.clone().unwrap_or_default(),
                    obj.metadata.name.clone().unwrap_or_default()
                );
                if let Some(before) = previous.get(&key) {
                    for record in history::changes_between(before, &v, &now_rfc3339()) {
                        tokio::spawn(record_change(
                            events.clone(),
                            record,
                            obj.metadata.uid.clone(),
                        ));
                    }
                }
                previous.insert(key, v.clone());
                changes.send(Change::VirtualServiceChanged(view::virtual_service_routes(
                    &v,
                )))
            }
            Ok(watcher::Event::InitApply(obj)) => {
                if let Ok(v) = serde_json::to_value(&obj) {
                    let key = format!(
                        "{}/{}",
                        obj.metadata.namespace.clone().unwrap_or_default(),
                        obj.metadata.name.clone().unwrap_or_default()
                    );
                    previous.insert(key, v);
                }
                continue;
            }
            Ok(watcher::Event::Delete(obj)) => {
                let namespace = obj.metadata.namespace.clone().unwrap_or_default();
                let name = obj.metadata.name.clone().unwrap_or_default();
                previous.remove(&format!("{namespace}/{name}"));
                changes.send(Change::VirtualServiceDeleted { namespace, name })
            }
            Ok(watcher::Event::InitDone) => changes.send(Change::Resynced),
            Ok(watcher::Event::Init) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "virtualservice watch failed; retrying");
                continue;
            }
        };
    }
}

/// Writes the Event for one change. Every replica that sees the change tries; the Event's name is
/// derived from the change, so the first write wins and the others get AlreadyExists.
async fn record_change(events: Api<Event>, record: ChangeRecord, uid: Option<String>) {
    let event = history::event_for(&record, uid.as_deref());
    let event: Event = match serde_json::from_value(event) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "could not build the history event");
            return;
        }
    };
    match events.create(&PostParams::default(), &event).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => {
            tracing::warn!(error = %e, vs = %record.virtual_service, "could not record the change in the history")
        }
    }
}

/// Keeps the history cache (Events the console wrote) and announces new records.
async fn watch_history(api: Api<Event>, writer: Writer<Event>, changes: broadcast::Sender<Change>) {
    let label = format!("{}={}", history::EVENT_LABEL.0, history::EVENT_LABEL.1);
    let config = watcher::Config::default().labels(&label);
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(e)) => {
                if let Some(record) = serde_json::to_value(&e)
                    .ok()
                    .and_then(|v| history::record_from_event(&v))
                {
                    let _ = changes.send(Change::Recorded(record));
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "history watch failed; retrying"),
        }
    }
}

/// Keeps a cache of objects the graph's topology is built from; any change there is a hint so the
/// graph is redrawn without waiting for the next metrics refresh.
async fn watch_quietly<K>(
    api: Api<K>,
    writer: Writer<K>,
    what: &'static str,
    changes: broadcast::Sender<Change>,
) where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone) => {
                let _ = changes.send(Change::TopologyChanged);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, resource = what, "watch failed; retrying"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::qualify;

    #[test]
    fn qualifies_short_hosts() {
        assert_eq!(
            qualify("review", "hands-on"),
            "review.hands-on.svc.cluster.local"
        );
        assert_eq!(
            qualify("review.other", "hands-on"),
            "review.other.svc.cluster.local"
        );
        assert_eq!(
            qualify("review.hands-on.svc.cluster.local", "x"),
            "review.hands-on.svc.cluster.local"
        );
    }
}
