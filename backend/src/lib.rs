//! Switchyard's console: shifts live traffic between service versions by editing Istio
//! VirtualService and Gateway API HTTPRoute weights, serves the browser app and a JSON+SSE API, reads the cluster through
//! kube-rs and traffic from Prometheus. It runs against any Kubernetes API server; the simulated
//! one lives in `switchyard-sim` and is joined to it only by the `switchyard` binary.

pub mod auth;
pub mod cluster;
pub mod error;
pub mod gateway;
pub mod graph;
pub mod istio;
pub mod live;
pub mod metrics;
pub mod plans;
pub mod routes;
pub mod server;
pub mod state;
pub mod ui;

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

pub use state::AppState;

/// The page's Content-Security-Policy: scripts and wasm only from this server, no framing, API
/// calls only to this origin. Styles may be inline because the graph positions SVG with them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'; object-src 'none'";

/// The whole HTTP surface: the JSON+SSE API under `/api/v1` and the embedded browser app, behind
/// the host allow-list (`state.allowed_hosts`), with security headers on every response.
pub fn app(state: AppState) -> Router {
    let hosts = state.allowed_hosts.clone();
    let body_limit = axum::extract::DefaultBodyLimit::max(state.max_body);
    let headers = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    headers.into_iter().fold(
        Router::new()
            // JSON answers are gzipped for clients that accept it (the event stream is not:
            // tower-http leaves text/event-stream alone, so events are not held back).
            .merge(
                routes::api()
                    .with_state(state)
                    .layer(tower_http::compression::CompressionLayer::new()),
            )
            .merge(ui::router())
            .layer(body_limit)
            .layer(axum::middleware::from_fn_with_state(
                hosts,
                routes::host_guard,
            )),
        |router, (name, value)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_static(value),
            ))
        },
    )
}
