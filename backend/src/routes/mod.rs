//! The only module that knows HTTP, JSON and SSE: one file per resource, each with a `router()`.

mod events;
mod graph;
mod rollout;
mod session;
mod settings;
mod virtual_services;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use crate::error::Error;
use crate::state::AppState;

/// Header every write must carry. Browsers refuse to send custom headers cross-origin without a
/// CORS preflight, which this server never grants, so its presence proves a same-origin caller.
pub const CSRF_HEADER: &str = "x-requested-by";

/// `/api/v1/...`
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(virtual_services::router())
        .merge(events::router())
        .merge(graph::router())
        .merge(rollout::router())
        .merge(session::router())
        .merge(settings::router())
        // Liveness and readiness for Kubernetes probes: the process serves requests.
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        // Unknown API paths answer in JSON; everything else falls through to the browser app.
        .route(
            "/api/{*rest}",
            any(|| async { Error::NotFound("no such API endpoint".into()) }),
        )
        .layer(middleware::from_fn(csrf_guard))
}

async fn csrf_guard(
    method: Method,
    headers: HeaderMap,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if writes {
        if headers.get(CSRF_HEADER).is_none() {
            return Error::Forbidden(format!("writes need the {CSRF_HEADER} header"))
                .into_response();
        }
        // A browser sends Origin on cross-site writes; it must be this server.
        if let (Some(origin), Some(host)) = (headers.get("origin"), headers.get("host")) {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            let same = origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host);
            if !same {
                return Error::Forbidden("cross-origin writes are refused".into()).into_response();
            }
        }
    }
    next.run(request).await
}

/// Refuses writes the console itself does not accept from this caller (before asking the cluster).
pub(crate) fn writable(caller: &crate::auth::Caller) -> Result<(), Error> {
    if caller.may_write {
        Ok(())
    } else {
        Err(Error::Forbidden(
            caller
                .reason
                .clone()
                .unwrap_or_else(|| "writes are not allowed".into()),
        ))
    }
}

pub(crate) fn json_rejection(e: JsonRejection) -> Error {
    match e {
        JsonRejection::JsonDataError(e) => {
            Error::Invalid(format!("the request body does not fit: {}", e.body_text()))
        }
        other => Error::BadRequest(other.body_text()),
    }
}

pub(crate) fn path_rejection(e: PathRejection) -> Error {
    Error::BadRequest(e.body_text())
}
