//! Rollout actions for a team: `POST /api/v1/shift` (one split for the VirtualServices and
//! HTTPRoutes it names; an empty list is refused), `POST /api/v1/rollback` (everything, of both
//! kinds, back to the old version), `GET /api/v1/history`, and `GET /api/v1/access` (may the
//! caller patch each VirtualService and HTTPRoute, as the cluster says; the answers are kept per
//! caller for a minute by `auth`).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use switchyard_protocol::weights;
use switchyard_protocol::{
    Access, AccessResponse, HistoryResponse, RouteKind, ShiftOutcome, ShiftRequest, ShiftResponse,
    ShiftResult,
};

use super::{bytes_rejection, json_rejection, no_parameters, writable};
use crate::auth::Caller;
use crate::cluster::{Actor, Current, OldNewNames, ShiftAttempt};
use crate::error::{Error, Failure, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/shift", post(shift))
        .route("/api/v1/rollback", post(rollback))
        .route("/api/v1/history", get(history))
        .route("/api/v1/access", get(access))
}

async fn shift(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ShiftRequest>, JsonRejection>,
) -> Result<Json<ShiftResponse>> {
    let Json(request) = body.map_err(json_rejection)?;
    writable(&caller)?;
    weights::validate_values(&request.weights).map_err(|e| Error::Invalid(e.to_string()))?;
    // An empty list once meant "every VirtualService": a request that names nothing must not
    // change everything. Sending everything back is rollback's job, and it says so.
    if request.targets.is_empty() {
        return Err(Error::Invalid(
            "targets is empty: name each VirtualService or HTTPRoute to shift. To send every \
             old/new route back to the old version, POST /api/v1/rollback, the one action that \
             changes everything"
                .into(),
        ));
    }
    let targets = request.targets;
    // Named services sent back to the old version are a rollback of those services (the page's
    // rollback with some services unticked), and the history says so.
    let source = if request.weights == state.subsets.rollback_weights() {
        "rollback"
    } else {
        "bulk"
    };
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source,
    };
    let results = shift_results(
        state
            .cluster
            .shift(&actor, &targets, &request.weights, names(&state))
            .await,
    );
    tracing::info!(user = %caller.user, targets = results.len(), "bulk shift");
    Ok(Json(ShiftResponse { results }))
}

/// Every old/new route in scope to 100% old. Needs only the API server (the targets from the
/// cache, each route read fresh before its guarded write), never the metrics. Takes no
/// parameters: the body is empty or `{}`.
async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ShiftResponse>> {
    no_parameters(&body.map_err(bytes_rejection)?, "a rollback")?;
    writable(&caller)?;
    let weights = state.subsets.rollback_weights();
    let targets = state.cluster.shift_targets(&weights, names(&state));
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source: "rollback",
    };
    let results = shift_results(
        state
            .cluster
            .shift(&actor, &targets, &weights, names(&state))
            .await,
    );
    tracing::warn!(user = %caller.user, targets = results.len(), "rollback");
    Ok(Json(ShiftResponse { results }))
}

/// The names old and new go by in this console.
fn names(state: &AppState) -> OldNewNames<'_> {
    OldNewNames {
        subsets: &state.subsets,
        backends: &state.backends,
    }
}

/// Bulk results on the wire: a failure carries the status and message the single-route API would
/// have answered, as `crate::error` maps them.
fn shift_results(attempts: Vec<ShiftAttempt>) -> Vec<ShiftResult> {
    attempts
        .into_iter()
        .map(|attempt| {
            let (outcome, message, status, current) = match attempt.result {
                Ok(shifted) => (
                    if shifted.changed {
                        ShiftOutcome::Changed
                    } else {
                        ShiftOutcome::Unchanged
                    },
                    shifted.message,
                    None,
                    Some(shifted.after),
                ),
                Err(e) => {
                    let failure = Failure::from(e);
                    (
                        ShiftOutcome::Failed,
                        failure.message,
                        Some(failure.status.as_u16()),
                        failure.current,
                    )
                }
            };
            let (virtual_service, http_route) = match current {
                Some(Current::VirtualService(vs)) => (Some(vs), None),
                Some(Current::HttpRoute(hr)) => (None, Some(hr)),
                None => (None, None),
            };
            ShiftResult {
                namespace: attempt.namespace,
                name: attempt.name,
                kind: attempt.kind,
                outcome,
                route_index: attempt.route_index,
                message,
                status,
                virtual_service,
                http_route,
            }
        })
        .collect()
}

async fn history(State(state): State<AppState>, caller: Caller) -> Json<HistoryResponse> {
    let mut changes = state.cluster.history();
    changes.retain(|c| caller.sees(&c.namespace));
    let mut plan_events = state.cluster.plan_history();
    plan_events.retain(|e| caller.sees(&e.namespace));
    Json(HistoryResponse {
        changes,
        plan_events,
    })
}

async fn access(State(state): State<AppState>, caller: Caller) -> Json<AccessResponse> {
    let mut all = access_of(&state, &caller).await;
    let http_routes = all.remove(&RouteKind::HTTPRoute).unwrap_or_default();
    Json(AccessResponse {
        virtual_services: all.remove(&RouteKind::VirtualService).unwrap_or_default(),
        http_routes,
        plans: plan_access(&state, &caller).await,
    })
}

/// May `caller` steer each release plan they see (a patch on the ReleasePlan), as the cluster
/// says: a person allowed to patch the routes may still be refused the plans, and the reverse.
async fn plan_access(state: &AppState, caller: &Caller) -> Vec<Access> {
    let mut out = Vec::new();
    for plan in state
        .cluster
        .plans()
        .into_iter()
        .filter(|p| caller.sees(&p.namespace))
    {
        let answer = if caller.may_write {
            state
                .auth
                .may_patch_plan(caller, &plan.namespace, &plan.name)
                .await
        } else {
            Ok((false, None))
        };
        let (can_patch, reason) = decided(caller, answer, || {
            format!(
                "{} may not patch releaseplans in {}",
                caller.user, plan.namespace
            )
        });
        out.push(Access {
            namespace: plan.namespace,
            name: plan.name,
            can_patch,
            reason,
        });
    }
    out
}

/// The caller's permission from the console's own rule (no writes from this caller) and the
/// cluster's answer; `refused` words a refusal the cluster gave no reason for. An access review
/// that failed shows the controls and lets the write decide.
fn decided(
    caller: &Caller,
    answer: Result<crate::auth::Decision, kube::Error>,
    refused: impl FnOnce() -> String,
) -> (bool, Option<String>) {
    if !caller.may_write {
        return (false, caller.reason.clone());
    }
    match answer {
        Ok((true, _)) => (true, None),
        Ok((false, reason)) => (false, Some(reason.unwrap_or_else(refused))),
        Err(e) => {
            tracing::warn!(error = %e, "access review failed");
            (
                true,
                Some("the cluster could not check access; writes may be refused".into()),
            )
        }
    }
}

/// May `caller` patch each VirtualService and HTTPRoute they see, as the cluster says (answers
/// kept per caller by `auth`), by kind. `whoami`'s `may_write` is read from the same answers, so
/// the two never disagree.
pub(super) async fn access_of(
    state: &AppState,
    caller: &Caller,
) -> std::collections::BTreeMap<RouteKind, Vec<Access>> {
    let mut all = std::collections::BTreeMap::new();
    for kind in RouteKind::ALL {
        all.insert(kind, access_of_kind(state, caller, kind).await);
    }
    all
}

async fn access_of_kind(state: &AppState, caller: &Caller, kind: RouteKind) -> Vec<Access> {
    let resource = match kind {
        RouteKind::VirtualService => "virtualservices",
        RouteKind::HTTPRoute => "httproutes",
    };
    let mut out = Vec::new();
    for vs in state
        .cluster
        .routes_of(kind)
        .into_iter()
        .filter(|vs| caller.sees(&vs.namespace))
    {
        // No review is sent for a caller the console refuses anyway.
        let answer = if caller.may_write {
            state
                .auth
                .may_patch_route(caller, kind, &vs.namespace, &vs.name)
                .await
        } else {
            Ok((false, None))
        };
        let (can_patch, reason) = decided(caller, answer, || {
            format!(
                "{} may not patch {resource} in {}",
                caller.user, vs.namespace
            )
        });
        out.push(Access {
            namespace: vs.namespace,
            name: vs.name,
            can_patch,
            reason,
        });
    }
    out
}
