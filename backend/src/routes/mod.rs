//! The only module that knows HTTP, JSON and SSE: one file per resource, each with a `router()`;
//! here the guards every request passes (the host allow-list, the CSRF check on writes), the body
//! limit, and the decoding of bodies into `Error`s.

mod events;
mod graph;
pub mod openapi;
mod plans;
mod rollout;
mod session;
mod settings;
mod virtual_services;

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::Error;
use crate::state::{AllowedHosts, AppState};

/// Header every write must carry. Browsers refuse to send custom headers cross-origin without a
/// CORS preflight, which this server never grants, so its presence proves a same-origin caller.
pub const CSRF_HEADER: &str = "x-requested-by";

pub use crate::state::BODY_LIMIT;

/// The paths Kubernetes probes, exempt from the host check: a kubelet names the pod's address.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// `/api/v1/...`
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(virtual_services::router())
        .merge(events::router())
        .merge(graph::router())
        .merge(rollout::router())
        .merge(plans::router())
        .merge(session::router())
        .merge(settings::router())
        .merge(openapi::router())
        // Liveness for Kubernetes probes: the process serves requests.
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        // Readiness: the API server answered recently and every cache has synced.
        .route("/readyz", axum::routing::get(readyz))
        // Unknown API paths answer in JSON; everything else falls through to the browser app.
        .route(
            "/api/{*rest}",
            any(|| async { Error::NotFound("no such API endpoint".into()) }),
        )
        .layer(middleware::from_fn(csrf_guard))
        // Answers are about this moment and this caller: no browser or proxy keeps them (the
        // event stream too, instead of its own `no-cache`).
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Refuses every request (reads, writes, the page) whose `Host` is not one the console answers
/// to, before anything else looks at it. A page at a foreign name that resolves to this server
/// (DNS rebinding) is same-origin with itself, so the CSRF guard alone lets it write; its `Host`
/// gives it away. `/healthz` and `/readyz` are exempt: they tell little, and probes name the
/// pod's address.
pub async fn host_guard(
    State(hosts): State<AllowedHosts>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    if hosts.allows_any() || PROBES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    // HTTP/1.1 sends `Host`; HTTP/2 sends the authority in the request line instead.
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("(not text)").to_owned())
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if hosts.allows(&host) => next.run(request).await,
        Some(host) => {
            let name = host
                .rsplit_once(':')
                .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                .map_or(host.as_str(), |(name, _)| name);
            Error::Misdirected(format!(
                "this console does not answer to the host {host:?}: by default it serves only \
                 localhost, 127.0.0.1 and [::1], so that a page on another name resolving to it \
                 (DNS rebinding) cannot use it. Behind a proxy or under a DNS name, start it \
                 with --allowed-host {name}"
            ))
            .into_response()
        }
        None => Error::Misdirected(
            "the request names no host; this console answers only to the names it was started \
             with (--allowed-host) and loopback names"
                .into(),
        )
        .into_response(),
    }
}

/// `GET /readyz`: 200 `{"ready": true, ...}` when the API server answered within the stale
/// threshold and no cache is (re-)listing; else 503 with the reason. Either way the body carries
/// the API server's contact.
async fn readyz(State(state): State<AppState>) -> Response {
    let contact = state.cluster.contact();
    match state.cluster.readiness() {
        Ok(()) => {
            axum::Json(serde_json::json!({"ready": true, "cluster": contact})).into_response()
        }
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"ready": false, "reason": reason, "cluster": contact})),
        )
            .into_response(),
    }
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
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType(
            "send the body as JSON, with Content-Type: application/json".into(),
        ),
        other => Error::BadRequest(other.body_text()),
    }
}

pub(crate) fn bytes_rejection(e: BytesRejection) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Error::BadRequest(e.body_text())
    }
}

fn too_large() -> Error {
    Error::TooLarge(
        "the request body is larger than the console accepts (--max-body, 2 MiB unless set)"
            .to_owned(),
    )
}

/// The body of an action that takes no parameters (`what`, e.g. "a rollback"): nothing, or `{}`.
/// Anything else is refused rather than ignored, so a client never believes it asked for
/// something the console did not do.
pub fn no_parameters(body: &[u8], what: &str) -> Result<(), Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(fields) if fields.is_empty() => Ok(()),
        Ok(fields) => Err(Error::Invalid(format!(
            "{what} takes no parameters, but the body has {}; send no body or {{}}",
            fields
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Err(e) => Err(Error::Invalid(format!(
            "{what} takes no parameters: send no body or {{}} ({e})"
        ))),
    }
}

pub(crate) fn path_rejection(e: PathRejection) -> Error {
    Error::BadRequest(e.body_text())
}

/// The rate window a `GET /api/v1/graph` or `/events` asks for with `?window=S` (seconds): one
/// the console offers, or its default when the query names none.
pub(crate) struct ChosenWindow(pub u32);

impl axum::extract::FromRequestParts<AppState> for ChosenWindow {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(query) =
            axum::extract::Query::<switchyard_protocol::WindowQuery>::try_from_uri(&parts.uri)
                .map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))?;
        state
            .live
            .rate_windows()
            .choose(query.window)
            .map(ChosenWindow)
            .map_err(Error::BadRequest)
    }
}
