//! Bulk actions: one split for several VirtualServices (bulk shift, rollback). Each target
//! succeeds or fails on its own, with a typed error; `crate::error` says what a failure means in
//! HTTP. Which route a shift changes is decided here: from the cache when the client says what it
//! saw, else from a fresh read, so a rollback right after a change never plans on a cache that
//! has not seen that change yet.

use std::collections::BTreeMap;
use switchyard_protocol::{
    ExpectedDestination, SetWeightsRequest, ShiftTarget, VirtualServiceRoutes,
};

use super::write::{read_fresh, virtual_services};
use super::{view, weights, Actor, Cluster, Error};

/// What happened to one target of a bulk action.
#[derive(Debug)]
pub struct ShiftAttempt {
    pub namespace: String,
    pub name: String,
    /// The route that was (or would have been) changed, when there was one.
    pub route_index: Option<usize>,
    pub result: Result<Shifted, Error>,
}

/// A target the bulk action reached.
#[derive(Debug)]
pub struct Shifted {
    /// False when the route already had the split.
    pub changed: bool,
    /// From what to what, e.g. `old 100 / new 0 → old 20 / new 80`, or `already old 20 / new 80`.
    pub message: String,
    /// The VirtualService after the attempt.
    pub after: VirtualServiceRoutes,
}

/// The route a bulk shift or rollback changes: the last route whose destinations are exactly
/// the subsets named in `weights` (the default route after any header or URI matches).
fn shift_route(vs: &VirtualServiceRoutes, keys: &[&str]) -> Option<usize> {
    switchyard_protocol::subsets::shift_route(vs, keys).map(|r| r.index)
}

impl Cluster {
    /// VirtualServices in scope with an old/new style route for these subsets, as shift targets.
    pub fn shift_targets(&self, weights: &BTreeMap<String, u32>) -> Vec<ShiftTarget> {
        let keys: Vec<&str> = weights.keys().map(String::as_str).collect();
        self.virtual_services()
            .into_iter()
            .filter(|vs| shift_route(vs, &keys).is_some())
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
    ) -> Vec<ShiftAttempt> {
        let mut attempts = Vec::with_capacity(targets.len());
        // One id for every change of this shift or rollback: the history groups them.
        let operation = uuid::Uuid::new_v4().to_string();
        for target in targets {
            let (route_index, result) = self.shift_one(actor, target, weights, &operation).await;
            attempts.push(ShiftAttempt {
                namespace: target.namespace.clone(),
                name: target.name.clone(),
                route_index,
                result,
            });
        }
        attempts
    }

    async fn shift_one(
        &self,
        actor: &Actor<'_>,
        target: &ShiftTarget,
        weights: &BTreeMap<String, u32>,
        operation: &str,
    ) -> (Option<usize>, Result<Shifted, Error>) {
        let keys: Vec<&str> = weights.keys().map(String::as_str).collect();
        // Without the client's view, "what is there now" must be the cluster's answer: the
        // cache may lag a write made a moment ago, and planning on it would report "already"
        // for a route that is not.
        let current = match &target.expected {
            Some(_) => self.cached_virtual_service(&target.namespace, &target.name),
            None => {
                let api = virtual_services(actor.client, &target.namespace);
                read_fresh(&api, &target.namespace, &target.name).await
            }
        };
        let (object, current) = match current {
            Ok(v) => {
                let routes = view::virtual_service_routes(&v);
                (v, routes)
            }
            Err(e) => return (None, Err(e)),
        };
        let Some(index) = shift_route(&current, &keys) else {
            let message = format!(
                "{} has no route that splits between exactly {}",
                target.name,
                keys.join(" and ")
            );
            return (
                None,
                Err(Error::NoFittingRoute {
                    message,
                    current: Box::new(current),
                }),
            );
        };
        let expected: Vec<ExpectedDestination> = match &target.expected {
            Some(expected) => expected.clone(),
            None => current
                .routes
                .get(index)
                .map(|r| r.destinations.iter().map(Into::into).collect())
                .unwrap_or_default(),
        };
        let request = SetWeightsRequest {
            weights: weights.clone(),
            expected,
        };
        let result = self
            .set_weights_on(
                actor,
                &target.namespace,
                &target.name,
                index,
                &request,
                object,
                operation,
            )
            .await
            .map(|change| Shifted {
                message: if change.changed {
                    let before: Vec<ExpectedDestination> = change
                        .before
                        .routes
                        .get(index)
                        .map(|r| r.destinations.iter().map(Into::into).collect())
                        .unwrap_or_default();
                    format!("{} → {}", weights::split_text(&before), change.summary)
                } else {
                    format!("already {}", change.summary)
                },
                changed: change.changed,
                after: change.after,
            });
        (Some(index), result)
    }
}
