//! The one write the console makes: new weights for one http route of a VirtualService (or one
//! rule of an HTTPRoute), as a JSON Patch guarded by `test` operations (planned in `weights`),
//! sent with the caller's own client so the cluster's RBAC decides. A fresh read replaces the
//! cache only when the cache disagrees with the client, or when the API server refused the guard.

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::{RouteKind, SetWeightsRequest};

use super::{history, route_resource, weights, Cluster, Current, Error};
use crate::gateway::http_route::backend_service;
use crate::istio::host;

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
    pub before: Current,
    pub after: Current,
}

/// Current time in RFC 3339 with microseconds, so text order is time order.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A route object read from the API server now (not the cache), with the caller's client.
pub(super) async fn read_fresh(
    kind: RouteKind,
    api: &Api<DynamicObject>,
    namespace: &str,
    name: &str,
) -> Result<Value, Error> {
    let fresh = api
        .get(name)
        .await
        .map_err(|e| Error::from_kube_of(kind, e, namespace, name))?;
    serde_json::to_value(&fresh).map_err(Error::unreadable)
}

/// The API of one namespace's route objects of `kind`, as `client` sees it.
pub(super) fn route_api(client: &Client, kind: RouteKind, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &route_resource(kind))
}

impl Cluster {
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
        self.set_route_weights(
            actor,
            RouteKind::VirtualService,
            namespace,
            name,
            index,
            request,
        )
        .await
    }

    /// [`Cluster::set_weights`] for a route object of either kind: route `index` of a
    /// VirtualService, or rule `index` of an HTTPRoute.
    pub async fn set_route_weights(
        &self,
        actor: &Actor<'_>,
        kind: RouteKind,
        namespace: &str,
        name: &str,
        index: usize,
        request: &SetWeightsRequest,
    ) -> Result<WeightChange, Error> {
        let object = self.cached_route(kind, namespace, name)?;
        let operation = uuid::Uuid::new_v4().to_string();
        self.set_weights_on(
            actor,
            kind,
            (namespace, name, index),
            request,
            object,
            &operation,
        )
        .await
    }

    /// What must exist before a plan on an object of `kind` in `namespace` may send traffic to a
    /// destination: per host as written, the subsets DestinationRules define (VirtualService);
    /// the Services known (HTTPRoute), where a backend in a namespace outside the console's scope
    /// is taken as existing (the console cannot tell).
    fn existing(
        &self,
        kind: RouteKind,
        namespace: &str,
        request: &SetWeightsRequest,
    ) -> Result<Existing, Error> {
        Ok(match kind {
            RouteKind::VirtualService => {
                // DestinationRules are keyed by resolved host; the plan looks them up by the
                // route's host as written, resolved the same way.
                let by_host = self.defined_subsets(namespace)?;
                Existing::Subsets(
                    request
                        .expected
                        .iter()
                        .map(|d| {
                            let subsets = by_host
                                .get(&host::resolve(&d.host, namespace))
                                .cloned()
                                .unwrap_or_default();
                            (d.host.clone(), subsets)
                        })
                        .collect(),
                )
            }
            RouteKind::HTTPRoute => {
                let mut known = self.known_backends(namespace)?;
                let in_scope = self.namespaces();
                for d in &request.expected {
                    let (backend_ns, _) = backend_service(&d.host, namespace);
                    if !in_scope.contains(&backend_ns) {
                        known.insert(d.host.clone());
                    }
                }
                Existing::Services(known)
            }
        })
    }

    /// [`Cluster::set_weights`], planned on `object` as the caller last read it (the cache, or
    /// a fresh read a bulk action already made, so it is not read twice).
    /// `operation` is the id the history groups this write under (one per bulk action).
    pub(super) async fn set_weights_on(
        &self,
        actor: &Actor<'_>,
        kind: RouteKind,
        (namespace, name, index): (&str, &str, usize),
        request: &SetWeightsRequest,
        mut object: Value,
        operation: &str,
    ) -> Result<WeightChange, Error> {
        let api = route_api(actor.client, kind, namespace);
        let existing = self.existing(kind, namespace, request)?;
        let stamp = |object: &Value| history::LastChange {
            id: uuid::Uuid::new_v4().to_string(),
            time: now_rfc3339(),
            user: actor.user.to_owned(),
            source: actor.source.to_owned(),
            route_index: index,
            before: history::route_weights_of(kind, object)
                .get(index)
                .cloned()
                .unwrap_or_default(),
            after: request.weights.clone(),
            operation: Some(operation.to_owned()),
        };
        let plan_on = |object: &Value| {
            weights::plan_route(
                kind,
                object,
                index,
                request,
                existing.check(),
                Some(&stamp(object)),
            )
        };
        let mut plan = plan_on(&object);
        if let Err(weights::PlanError::Changed(_)) = plan {
            // The cache may lag behind the cluster (say, the client's own write a moment ago):
            // only a fresh read decides that the client's view is stale.
            object = read_fresh(kind, &api, namespace, name).await?;
            plan = plan_on(&object);
        }
        let before = Current::of(kind, &object);
        let plan = plan.map_err(|e| Error::from_plan(e, &before))?;
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
                    .map(|v| Current::of(kind, &v))
                    .map_err(Error::unreadable)?;
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
                let fresh = Current::of(kind, &read_fresh(kind, &api, namespace, name).await?);
                let view = fresh.view();
                let now: Vec<_> = view
                    .routes
                    .get(index)
                    .map(|r| r.destinations.iter().map(Into::into).collect())
                    .unwrap_or_default();
                let message = if view.routes.len() <= index {
                    format!("route {index} of {name} no longer exists; nothing was written")
                } else {
                    weights::describe_change(name, index, &request.expected, &now)
                };
                Err(Error::Conflict {
                    message,
                    current: Some(Box::new(fresh)),
                })
            }
            Err(e) => Err(Error::from_kube_of(kind, e, namespace, name)),
        }
    }
}

/// What a plan checks exists, owned (see [`Cluster::existing`]).
enum Existing {
    Subsets(BTreeMap<String, Vec<String>>),
    Services(BTreeSet<String>),
}

impl Existing {
    fn check(&self) -> weights::Exists<'_> {
        match self {
            Existing::Subsets(s) => weights::Exists::Subsets(s),
            Existing::Services(s) => weights::Exists::Services(s),
        }
    }
}
