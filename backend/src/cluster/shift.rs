//! Bulk actions: one split for several route objects (bulk shift, rollback), VirtualServices and
//! HTTPRoutes alike. Each target succeeds or fails on its own, with a typed error; `crate::error`
//! says what a failure means in HTTP. Which route a shift changes is decided here: from the cache
//! when the client says what it saw, else from a fresh read, so a rollback right after a change
//! never plans on a cache that has not seen that change yet.

use std::collections::BTreeMap;
use switchyard_protocol::backends::old_new;
use switchyard_protocol::{
    Backends, ExpectedDestination, RouteKind, SetWeightsRequest, ShiftTarget, Subsets,
    VirtualServiceRoutes,
};

use super::write::{read_fresh, route_api};
use super::{weights, Actor, Cluster, Current, Error};

/// What happened to one target of a bulk action.
#[derive(Debug)]
pub struct ShiftAttempt {
    pub kind: RouteKind,
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
    /// The route object after the attempt.
    pub after: Current,
}

/// The names old and new go by: the subsets of VirtualServices (which also key a bulk action's
/// weights) and the backend suffixes of HTTPRoutes.
#[derive(Clone, Copy, Debug)]
pub struct OldNewNames<'a> {
    pub subsets: &'a Subsets,
    pub backends: &'a Backends,
}

/// The route of a VirtualService a bulk shift changes: the last route whose destinations are
/// exactly the subsets named in `weights` (the default route after any header or URI matches).
fn shift_route(vs: &VirtualServiceRoutes, keys: &[&str]) -> Option<usize> {
    switchyard_protocol::subsets::shift_route(vs, keys).map(|r| r.index)
}

/// The route a bulk action with `weights` changes in `routes` (an object of `kind`), with the
/// weights in that route's keys; or why there is none.
fn plan_target(
    kind: RouteKind,
    routes: &VirtualServiceRoutes,
    weights: &BTreeMap<String, u32>,
    names: OldNewNames<'_>,
) -> Result<(usize, BTreeMap<String, u32>), String> {
    match kind {
        RouteKind::VirtualService => {
            let keys: Vec<&str> = weights.keys().map(String::as_str).collect();
            shift_route(routes, &keys)
                .map(|index| (index, weights.clone()))
                .ok_or_else(|| {
                    format!(
                        "{} has no route that splits between exactly {}",
                        routes.name,
                        keys.join(" and ")
                    )
                })
        }
        RouteKind::HTTPRoute => {
            let (old, new) = (names.subsets.old_name(), names.subsets.new_name());
            let Some(found) = old_new(kind, routes, names.subsets, names.backends) else {
                return Err(format!(
                    "{} has no rule that splits between exactly two backends {{service}}-{} and {{service}}-{}",
                    routes.name,
                    names.backends.old_suffix(),
                    names.backends.new_suffix()
                ));
            };
            let translated = found.translate(names.subsets, weights).ok_or_else(|| {
                format!(
                    "{} is an HTTPRoute: its rule shifts between its old and new backends only, so the weights must name exactly {old} and {new}",
                    routes.name
                )
            })?;
            Ok((found.route.index, translated))
        }
    }
}

impl Cluster {
    /// Route objects in scope with an old/new route for these weights, as shift targets:
    /// VirtualServices with a route split between exactly the weights' subsets, HTTPRoutes with a
    /// rule split between an old/new backend pair (when the weights name the old and new subset).
    pub fn shift_targets(
        &self,
        weights: &BTreeMap<String, u32>,
        names: OldNewNames<'_>,
    ) -> Vec<ShiftTarget> {
        RouteKind::ALL
            .into_iter()
            .flat_map(|kind| {
                self.routes_of(kind)
                    .into_iter()
                    .filter(move |routes| plan_target(kind, routes, weights, names).is_ok())
                    .map(move |routes| ShiftTarget {
                        namespace: routes.namespace,
                        name: routes.name,
                        kind,
                        expected: None,
                    })
            })
            .collect()
    }

    /// Sets one split on several route objects. Each target succeeds or fails on its own; a
    /// target whose route changed since the client saw it is not touched.
    pub async fn shift(
        &self,
        actor: &Actor<'_>,
        targets: &[ShiftTarget],
        weights: &BTreeMap<String, u32>,
        names: OldNewNames<'_>,
    ) -> Vec<ShiftAttempt> {
        let mut attempts = Vec::with_capacity(targets.len());
        // One id for every change of this shift or rollback: the history groups them.
        let operation = uuid::Uuid::new_v4().to_string();
        for target in targets {
            let (route_index, result) = self
                .shift_one(actor, target, weights, names, &operation)
                .await;
            attempts.push(ShiftAttempt {
                kind: target.kind,
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
        names: OldNewNames<'_>,
        operation: &str,
    ) -> (Option<usize>, Result<Shifted, Error>) {
        let kind = target.kind;
        // Without the client's view, "what is there now" must be the cluster's answer: the
        // cache may lag a write made a moment ago, and planning on it would report "already"
        // for a route that is not.
        let current = match &target.expected {
            Some(_) => self.cached_route(kind, &target.namespace, &target.name),
            None => {
                let api = route_api(actor.client, kind, &target.namespace);
                read_fresh(kind, &api, &target.namespace, &target.name).await
            }
        };
        let (object, current) = match current {
            Ok(v) => {
                let current = Current::of(kind, &v);
                (v, current)
            }
            Err(e) => return (None, Err(e)),
        };
        let view = current.view();
        let (index, weights) = match plan_target(kind, &view, weights, names) {
            Ok(found) => found,
            Err(message) => {
                return (
                    None,
                    Err(Error::NoFittingRoute {
                        message,
                        current: Box::new(current),
                    }),
                )
            }
        };
        let expected: Vec<ExpectedDestination> = match &target.expected {
            Some(expected) => expected.clone(),
            None => view
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
                kind,
                (&target.namespace, &target.name, index),
                &request,
                object,
                operation,
            )
            .await
            .map(|change| Shifted {
                message: if change.changed {
                    let before: Vec<ExpectedDestination> = change
                        .before
                        .view()
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
