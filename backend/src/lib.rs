//! Switchyard's server: shifts live traffic between service versions by editing Istio
//! VirtualService weights, serves the browser app and a JSON+SSE API, and carries the simulated
//! cluster used by `switchyard demo` and the tests.

pub mod auth;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod graph;
pub mod live;
pub mod metrics;
pub mod routes;
pub mod sim;
pub mod state;
pub mod ui;

use axum::Router;

pub use state::AppState;

/// The whole HTTP surface: the JSON+SSE API under `/api/v1` and the embedded browser app.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::api().with_state(state))
        .merge(ui::router())
}
