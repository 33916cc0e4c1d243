//! Rollout actions for a team: `POST /api/v1/shift` (one split for several VirtualServices),
//! `POST /api/v1/rollback` (everything back to the old version), `GET /api/v1/history`, and
//! `GET /api/v1/access` (may the caller patch each VirtualService, as the cluster says; the
//! answers are kept per caller for a minute by `auth`).

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use switchyard_protocol::weights;
use switchyard_protocol::{
    Access, AccessResponse, HistoryResponse, ShiftOutcome, ShiftRequest, ShiftResponse, ShiftResult,
};

use super::{json_rejection, writable};
use crate::auth::Caller;
use crate::cluster::{Actor, ShiftAttempt};
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
    let targets = if request.targets.is_empty() {
        state.cluster.shift_targets(&request.weights)
    } else {
        request.targets
    };
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source: "bulk",
    };
    let results = shift_results(
        state
            .cluster
            .shift(&actor, &targets, &request.weights)
            .await,
    );
    tracing::info!(user = %caller.user, targets = results.len(), "bulk shift");
    Ok(Json(ShiftResponse { results }))
}

/// Every old/new route in scope to 100% old. Needs only the API server (the targets from the
/// cache, each route read fresh before its guarded write), never the metrics.
async fn rollback(State(state): State<AppState>, caller: Caller) -> Result<Json<ShiftResponse>> {
    writable(&caller)?;
    let weights = state.subsets.rollback_weights();
    let targets = state.cluster.shift_targets(&weights);
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source: "rollback",
    };
    let results = shift_results(state.cluster.shift(&actor, &targets, &weights).await);
    tracing::warn!(user = %caller.user, targets = results.len(), "rollback");
    Ok(Json(ShiftResponse { results }))
}

/// Bulk results on the wire: a failure carries the status and message the single-route API would
/// have answered, as `crate::error` maps them.
fn shift_results(attempts: Vec<ShiftAttempt>) -> Vec<ShiftResult> {
    attempts
        .into_iter()
        .map(|attempt| {
            let (outcome, message, status, virtual_service) = match attempt.result {
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
            ShiftResult {
                namespace: attempt.namespace,
                name: attempt.name,
                outcome,
                route_index: attempt.route_index,
                message,
                status,
                virtual_service,
            }
        })
        .collect()
}

async fn history(State(state): State<AppState>, caller: Caller) -> Json<HistoryResponse> {
    let mut changes = state.cluster.history();
    changes.retain(|c| caller.sees(&c.namespace));
    Json(HistoryResponse { changes })
}

async fn access(State(state): State<AppState>, caller: Caller) -> Result<Json<AccessResponse>> {
    let mut out = Vec::new();
    for vs in state
        .cluster
        .virtual_services()
        .into_iter()
        .filter(|vs| caller.sees(&vs.namespace))
    {
        let (can_patch, reason) = if !caller.may_write {
            (false, caller.reason.clone())
        } else {
            match state.auth.may_patch(&caller, &vs.namespace, &vs.name).await {
                Ok((true, _)) => (true, None),
                Ok((false, reason)) => (
                    false,
                    Some(reason.unwrap_or_else(|| {
                        format!(
                            "{} may not patch virtualservices in {}",
                            caller.user, vs.namespace
                        )
                    })),
                ),
                // The cluster could not say; the page shows controls and lets the write decide.
                Err(e) => {
                    tracing::warn!(error = %e, "access review failed");
                    (
                        true,
                        Some("the cluster could not check access; writes may be refused".into()),
                    )
                }
            }
        };
        out.push(Access {
            namespace: vs.namespace,
            name: vs.name,
            can_patch,
            reason,
        });
    }
    Ok(Json(AccessResponse {
        virtual_services: out,
    }))
}
