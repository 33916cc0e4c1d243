//! `GET /api/v1/settings`: what the page needs to know of how this console was started (the
//! old and new subset names, the rate windows offered, the old and new backend suffixes of
//! HTTPRoutes), so it hard-codes none of it. Not secret, needs no caller.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use switchyard_protocol::Settings;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/settings", get(settings))
}

async fn settings(State(state): State<AppState>) -> Json<Settings> {
    Json(Settings {
        subsets: state.subsets.clone(),
        windows: state.live.rate_windows(),
        backends: state.backends.clone(),
    })
}
