//! `GET /api/v1/graph`: the latest graph snapshot, stamped with the API server's contact as of
//! now (never queries anything itself).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use switchyard_protocol::Graph;

use crate::auth::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/graph", get(graph))
}

async fn graph(State(state): State<AppState>, caller: Caller) -> Json<Graph> {
    Json(crate::graph::restrict(&state.live.graph_now(), |ns| {
        caller.sees(ns)
    }))
}
