//! `GET /api/v1/routes` and `PUT .../virtualservices/{name}/routes/{index}/weights`.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use switchyard_protocol::{RoutesResponse, SetWeightsRequest, SetWeightsResponse};

use super::{json_rejection, path_rejection, writable};
use crate::auth::Caller;
use crate::cluster::Actor;
use crate::error::Result;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/routes", get(list_routes))
        .route(
            "/api/v1/namespaces/{namespace}/virtualservices/{name}/routes/{index}/weights",
            put(set_weights),
        )
}

async fn list_routes(State(state): State<AppState>, caller: Caller) -> Json<RoutesResponse> {
    let mut routes = state.live.routes();
    routes
        .virtual_services
        .retain(|vs| caller.sees(&vs.namespace));
    Json(routes)
}

async fn set_weights(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String, usize)>, PathRejection>,
    body: Result<Json<SetWeightsRequest>, JsonRejection>,
) -> Result<Json<SetWeightsResponse>> {
    let Path((namespace, name, index)) = path.map_err(path_rejection)?;
    let Json(request) = body.map_err(json_rejection)?;
    writable(&caller)?;
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source: "console",
    };
    let change = state
        .cluster
        .set_weights(&actor, &namespace, &name, index, &request)
        .await?;
    tracing::info!(user = %caller.user, %namespace, %name, index, split = %change.summary, changed = change.changed, "weights set");
    let mut after = change.after;
    state.live.annotate(&mut after);
    Ok(Json(SetWeightsResponse {
        changed: change.changed,
        virtual_service: after,
    }))
}
