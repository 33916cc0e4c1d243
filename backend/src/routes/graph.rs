//! `GET /api/v1/graph`: the latest graph snapshot over the rate window asked for (`?window=S`,
//! else the default), stamped with the API server's contact as of now (never queries anything
//! itself).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use switchyard_protocol::Graph;

use super::ChosenWindow;
use crate::auth::Caller;
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/graph", get(graph))
}

async fn graph(
    State(state): State<AppState>,
    ChosenWindow(window): ChosenWindow,
    caller: Caller,
) -> Result<Json<Graph>, Error> {
    let graph = state
        .live
        .graph_now_over(window)
        .ok_or_else(|| Error::BadRequest(format!("rate window {window} s is not offered")))?;
    Ok(Json(crate::graph::restrict(&graph, |ns| caller.sees(ns))))
}
