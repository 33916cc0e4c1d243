//! The one write the console makes: new weights for one http route of a VirtualService, as a
//! JSON Patch guarded by `test` operations (planned in `weights`), sent with the caller's own
//! client so the cluster's RBAC decides. A fresh read replaces the cache only when the cache
//! disagrees with the client, or when the API server refused the guard.

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;
use std::collections::BTreeMap;
use switchyard_protocol::{SetWeightsRequest, VirtualServiceRoutes};

use super::{history, view, virtual_service_resource, weights, Cluster, Error};
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
    pub before: VirtualServiceRoutes,
    pub after: VirtualServiceRoutes,
}

/// Current time in RFC 3339 with microseconds, so text order is time order.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A VirtualService read from the API server now (not the cache), with the caller's client.
pub(super) async fn read_fresh(
    api: &Api<DynamicObject>,
    namespace: &str,
    name: &str,
) -> Result<Value, Error> {
    let fresh = api
        .get(name)
        .await
        .map_err(|e| Error::from_kube(e, namespace, name))?;
    serde_json::to_value(&fresh).map_err(Error::unreadable)
}

/// The VirtualService API of one namespace, as `client` sees it.
pub(super) fn virtual_services(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &virtual_service_resource())
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
        let object = self.cached_virtual_service(namespace, name)?;
        let operation = uuid::Uuid::new_v4().to_string();
        self.set_weights_on(actor, namespace, name, index, request, object, &operation)
            .await
    }

    /// [`Cluster::set_weights`], planned on `object` as the caller last read it (the cache, or
    /// a fresh read a bulk action already made, so it is not read twice).
    /// `operation` is the id the history groups this write under (one per bulk action).
    #[allow(clippy::too_many_arguments)] // the public set_weights' six, the object read, the operation
    pub(super) async fn set_weights_on(
        &self,
        actor: &Actor<'_>,
        namespace: &str,
        name: &str,
        index: usize,
        request: &SetWeightsRequest,
        mut object: Value,
        operation: &str,
    ) -> Result<WeightChange, Error> {
        let api = virtual_services(actor.client, namespace);
        // DestinationRules are keyed by resolved host; the plan looks them up by the route's host
        // as written, resolved the same way.
        let by_host = self.defined_subsets(namespace)?;
        let defined: BTreeMap<String, Vec<String>> = request
            .expected
            .iter()
            .map(|d| {
                let subsets = by_host
                    .get(&host::resolve(&d.host, namespace))
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
            operation: Some(operation.to_owned()),
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
            object = read_fresh(&api, namespace, name).await?;
            plan = weights::plan(
                &object,
                index,
                request,
                Some(&defined),
                Some(&stamp(&object)),
            );
        }
        let before = view::virtual_service_routes(&object);
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
                    .map(|v| view::virtual_service_routes(&v))
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
                let fresh = view::virtual_service_routes(&read_fresh(&api, namespace, name).await?);
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
            Err(e) => Err(Error::from_kube(e, namespace, name)),
        }
    }
}
