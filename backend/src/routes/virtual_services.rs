//! `GET /api/v1/routes`, `PUT .../virtualservices/{name}/routes/{index}/weights` and
//! `PUT .../httproutes/{name}/routes/{index}/weights` (the same change on an HTTPRoute's rule).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use switchyard_protocol::{
    RouteKind, RoutesResponse, SetHttpRouteWeightsResponse, SetWeightsRequest, SetWeightsResponse,
};

use super::{json_rejection, path_rejection, writable};
use crate::auth::Caller;
use crate::cluster::{Actor, Current, WeightChange};
use crate::error::{Error, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/routes", get(list_routes))
        .route(
            "/api/v1/namespaces/{namespace}/virtualservices/{name}/routes/{index}/weights",
            put(set_weights),
        )
        .route(
            "/api/v1/namespaces/{namespace}/httproutes/{name}/routes/{index}/weights",
            put(set_http_route_weights),
        )
}

async fn list_routes(State(state): State<AppState>, caller: Caller) -> Json<RoutesResponse> {
    let mut routes = state.live.routes();
    routes
        .virtual_services
        .retain(|vs| caller.sees(&vs.namespace));
    routes.http_routes.retain(|hr| caller.sees(&hr.namespace));
    Json(routes)
}

/// One weight change of route object `kind`, as the caller, for both PUT endpoints.
async fn change(
    state: &AppState,
    caller: &Caller,
    kind: RouteKind,
    path: Result<Path<(String, String, usize)>, PathRejection>,
    body: Result<Json<SetWeightsRequest>, JsonRejection>,
) -> Result<WeightChange> {
    let Path((namespace, name, index)) = path.map_err(path_rejection)?;
    let Json(request) = body.map_err(json_rejection)?;
    writable(caller)?;
    let actor = Actor {
        client: &caller.client,
        user: &caller.user,
        source: "console",
    };
    let change = state
        .cluster
        .set_route_weights(&actor, kind, &namespace, &name, index, &request)
        .await?;
    tracing::info!(user = %caller.user, %kind, %namespace, %name, index, split = %change.summary, changed = change.changed, "weights set");
    Ok(change)
}

async fn set_weights(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String, usize)>, PathRejection>,
    body: Result<Json<SetWeightsRequest>, JsonRejection>,
) -> Result<Json<SetWeightsResponse>> {
    let change = change(&state, &caller, RouteKind::VirtualService, path, body).await?;
    let Current::VirtualService(mut after) = change.after else {
        return Err(Error::Internal(
            "a VirtualService write answered another kind".into(),
        ));
    };
    state.live.annotate(&mut after);
    Ok(Json(SetWeightsResponse {
        changed: change.changed,
        virtual_service: after,
    }))
}

async fn set_http_route_weights(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String, usize)>, PathRejection>,
    body: Result<Json<SetWeightsRequest>, JsonRejection>,
) -> Result<Json<SetHttpRouteWeightsResponse>> {
    let change = change(&state, &caller, RouteKind::HTTPRoute, path, body).await?;
    let Current::HttpRoute(mut after) = change.after else {
        return Err(Error::Internal(
            "an HTTPRoute write answered another kind".into(),
        ));
    };
    state.live.annotate_http_route(&mut after);
    Ok(Json(SetHttpRouteWeightsResponse {
        changed: change.changed,
        http_route: after,
    }))
}
