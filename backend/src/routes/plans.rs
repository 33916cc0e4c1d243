//! Release plans over HTTP: `GET /api/v1/plans` (every plan the caller may see, with its gate
//! values as they accrue), `GET /api/v1/plans/{id}`, `POST /api/v1/plans` (checked, then created
//! as a ReleasePlan with the caller's own credentials, 201), and the control actions
//! `POST /api/v1/plans/{id}/pause|resume|promote|abort` (recorded on the plan with the caller's
//! credentials, so the cluster's RBAC decides who may; carried out by the driving replica, 202).
//! Writes pass the same CSRF guard as every write.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use switchyard_protocol::plans::PlanAction;
use switchyard_protocol::{Plan, PlanRequest, PlansResponse, RouteKind};

use super::{bytes_rejection, json_rejection, no_parameters, path_rejection, writable};
use crate::auth::Caller;
use crate::cluster::plan_object::{Command, PlanObject};
use crate::error::{Error, Result};
use crate::plans::{model, Plans};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plans", get(list).post(create))
        .route("/api/v1/plans/{id}", get(one))
        .route("/api/v1/plans/{id}/pause", post(pause))
        .route("/api/v1/plans/{id}/resume", post(resume))
        .route("/api/v1/plans/{id}/promote", post(promote))
        .route("/api/v1/plans/{id}/abort", post(abort))
}

fn plans_of(state: &AppState) -> Result<&Plans> {
    state
        .plans
        .as_ref()
        .ok_or_else(|| Error::NotFound("this console does not run release plans".into()))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The plan named `id` among those the caller may see.
fn find(state: &AppState, caller: &Caller, id: &str) -> Result<PlanObject> {
    state
        .cluster
        .plan(id)
        .filter(|p| caller.sees(&p.namespace))
        .ok_or_else(|| Error::NotFound(format!("no release plan {id}")))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<PlansResponse>> {
    let plans = plans_of(&state)?;
    let mut views = plans.views();
    views.retain(|p| caller.sees(&p.namespace));
    Ok(Json(PlansResponse { plans: views }))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Plan>> {
    let Path(id) = id.map_err(path_rejection)?;
    let plans = plans_of(&state)?;
    Ok(Json(plans.view(&find(&state, &caller, &id)?)))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<PlanRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Plan>)> {
    let Json(request) = body.map_err(json_rejection)?;
    let plans = plans_of(&state)?;
    writable(&caller)?;
    // Both kinds of route object the caller may see, for the plan's targets.
    let routes: Vec<_> = RouteKind::ALL
        .into_iter()
        .flat_map(|kind| {
            state
                .cluster
                .routes_of(kind)
                .into_iter()
                .map(move |r| (kind, r))
        })
        .filter(|(_, r)| caller.sees(&r.namespace))
        .collect();
    let (namespace, spec) = model::validate(&request, &routes, plans.names(), &caller.user, &now())
        .map_err(Error::Invalid)?;
    // A plan never moves a route its creator could not move: the cluster says, for each target
    // (`patch virtualservices` or `patch httproutes`).
    for target in &spec.targets {
        match state
            .auth
            .may_patch_route(&caller, target.kind, &target.namespace, &target.name)
            .await
        {
            Ok((true, _)) => {}
            Ok((false, reason)) => {
                return Err(Error::Forbidden(format!(
                    "{} may not patch {} {}/{}, so a plan of theirs may not move it{}",
                    caller.user,
                    target.kind.as_str().to_lowercase(),
                    target.namespace,
                    target.name,
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                )))
            }
            Err(e) => return Err(crate::cluster::Error::from_call(e).into()),
        }
    }
    let created = state
        .cluster
        .create_plan(&caller.client, &namespace, &spec)
        .await?;
    tracing::info!(user = %caller.user, plan = %created.name, targets = spec.targets.len(), "release plan created");
    Ok((StatusCode::CREATED, Json(plans.view(&created))))
}

/// Records a control action on the plan with the caller's credentials; the driving replica
/// carries it out.
async fn act(
    state: AppState,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
    action: PlanAction,
) -> Result<(StatusCode, Json<Plan>)> {
    let Path(id) = id.map_err(path_rejection)?;
    no_parameters(
        &body.map_err(bytes_rejection)?,
        &format!("a plan's {}", action.as_str()),
    )?;
    let plans = plans_of(&state)?;
    writable(&caller)?;
    let plan = find(&state, &caller, &id)?;
    action
        .allowed_in(plan.view().phase)
        .map_err(|message| crate::cluster::Error::Conflict {
            message,
            current: None,
        })?;
    let command = Command {
        action,
        by: caller.user.clone(),
        at: now(),
    };
    let updated = state
        .cluster
        .append_plan_command(&caller.client, &plan, &command)
        .await?;
    tracing::info!(user = %caller.user, plan = %id, action = action.as_str(), "plan action");
    Ok((StatusCode::ACCEPTED, Json(plans.view(&updated))))
}

async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Plan>)> {
    act(state, caller, id, body, PlanAction::Pause).await
}

async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Plan>)> {
    act(state, caller, id, body, PlanAction::Resume).await
}

async fn promote(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Plan>)> {
    act(state, caller, id, body, PlanAction::Promote).await
}

async fn abort(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Plan>)> {
    act(state, caller, id, body, PlanAction::Abort).await
}
