//! The API's error type, and the one place that says what every failure means in HTTP: a status
//! code and an `ApiError` body, for a whole response or for one target of a bulk action. 5xx
//! bodies say what failed, never internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchyard_protocol::ApiError;

use crate::auth::AuthError;
use crate::cluster;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Cluster(#[from] cluster::Error),
    /// The request itself is malformed (bad JSON, bad path parameter).
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but breaks a rule (e.g. weights not summing to 100).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    /// The request names a host this console does not answer to (the DNS-rebinding guard).
    #[error("{0}")]
    Misdirected(String),
    /// The request body is larger than the console accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The request body is not JSON by its `Content-Type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The console could not make its answer (e.g. encoding it failed).
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => Error::Unauthorized(m),
            AuthError::Upstream(m) => Error::Cluster(cluster::Error::Upstream(m)),
            AuthError::Cluster(e) => Error::Cluster(e),
        }
    }
}

/// What a failure means to a client: the status, the `code` of the `ApiError` body, the sentence
/// for people, and the route object as it is now when that helps (conflicts).
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub current: Option<cluster::Current>,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Failure {
            status,
            code,
            message,
            current: None,
        }
    }
}

impl From<cluster::Error> for Failure {
    fn from(e: cluster::Error) -> Self {
        Error::Cluster(e).into()
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        use cluster::Error as C;
        match e {
            Error::BadRequest(m) => Failure::new(StatusCode::BAD_REQUEST, "bad_request", m),
            Error::Internal(m) => Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
            Error::Invalid(m) | Error::Cluster(C::Invalid(m)) => {
                Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m)
            }
            Error::Cluster(C::NoFittingRoute { message, current }) => Failure {
                current: Some(*current),
                ..Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            },
            Error::NotFound(m) | Error::Cluster(C::NotFound(m)) => {
                Failure::new(StatusCode::NOT_FOUND, "not_found", m)
            }
            Error::Forbidden(m) | Error::Cluster(C::Forbidden(m)) => {
                Failure::new(StatusCode::FORBIDDEN, "forbidden", m)
            }
            Error::Unauthorized(m) | Error::Cluster(C::Unauthorized(m)) => {
                Failure::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
            }
            Error::Cluster(C::Rejected { status, message }) => Failure::new(
                // Only 4xx are built; anything else would be a bug, and reads as a client error.
                StatusCode::from_u16(status)
                    .ok()
                    .filter(StatusCode::is_client_error)
                    .unwrap_or(StatusCode::BAD_REQUEST),
                "rejected_by_cluster",
                format!("the Kubernetes API refused the request: {message}"),
            ),
            Error::Misdirected(m) => {
                Failure::new(StatusCode::MISDIRECTED_REQUEST, "misdirected", m)
            }
            Error::TooLarge(m) => Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            Error::UnsupportedMediaType(m) => Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            ),
            Error::Cluster(C::Conflict { message, current }) => Failure {
                current: current.map(|c| *c),
                ..Failure::new(StatusCode::CONFLICT, "conflict", message)
            },
            Error::Cluster(C::Upstream(m)) => {
                // The detail goes to the log; the client learns which dependency failed.
                tracing::warn!(error = %m, "kubernetes api call failed");
                Failure::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream",
                    "the Kubernetes API server failed to answer the request; try again".to_owned(),
                )
            }
            Error::Cluster(C::Unreachable(m)) => {
                tracing::warn!(error = %m, "kubernetes api unreachable");
                Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unreachable",
                    "the Kubernetes API server could not be reached; try again".to_owned(),
                )
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let failure = Failure::from(self);
        let (current, current_http_route) = match failure.current {
            Some(cluster::Current::VirtualService(vs)) => (Some(vs), None),
            Some(cluster::Current::HttpRoute(hr)) => (None, Some(hr)),
            None => (None, None),
        };
        let body = ApiError {
            code: failure.code.to_owned(),
            message: failure.message,
            current,
            current_http_route,
        };
        // An error is about this request only: no cache may keep it (successful API answers
        // get the same header from `routes`).
        (
            failure.status,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Json(body),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cluster::{Current, Error as C};
    use switchyard_protocol::VirtualServiceRoutes;

    fn vs(name: &str) -> Current {
        Current::VirtualService(VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: name.into(),
            resource_version: "1".into(),
            hosts: vec![],
            weight_managers: Vec::new(),
            routes: vec![],
        })
    }

    #[test]
    fn cluster_errors_map_to_their_statuses() {
        let status = |e: C| Failure::from(e).status.as_u16();
        assert_eq!(status(C::NotFound("x".into())), 404);
        assert_eq!(status(C::Invalid("x".into())), 422);
        assert_eq!(status(C::Forbidden("x".into())), 403);
        assert_eq!(status(C::Upstream("x".into())), 502);
        assert_eq!(status(C::Unreachable("x".into())), 503);
        assert_eq!(status(C::Unauthorized("x".into())), 401);
        let rejected = |status| C::Rejected {
            status,
            message: "x".into(),
        };
        assert_eq!(status(rejected(431)), 431);
        assert_eq!(status(rejected(429)), 429);
        assert_eq!(status(rejected(503)), 400);
        let api_status = |e: Error| Failure::from(e).status.as_u16();
        assert_eq!(api_status(Error::Misdirected("x".into())), 421);
        assert_eq!(api_status(Error::TooLarge("x".into())), 413);
        assert_eq!(api_status(Error::UnsupportedMediaType("x".into())), 415);
        assert_eq!(
            status(C::Conflict {
                message: "x".into(),
                current: None
            }),
            409
        );
    }

    #[test]
    fn conflicts_and_unfitting_routes_carry_the_current_object() {
        let f = Failure::from(C::Conflict {
            message: "changed".into(),
            current: Some(Box::new(vs("review"))),
        });
        assert_eq!((f.code, f.message.as_str()), ("conflict", "changed"));
        assert_eq!(f.current, Some(vs("review")));
        let f = Failure::from(C::NoFittingRoute {
            message: "no route".into(),
            current: Box::new(vs("rating")),
        });
        assert_eq!((f.status.as_u16(), f.code), (422, "invalid"));
        assert_eq!(f.current, Some(vs("rating")));
    }

    #[test]
    fn upstream_failures_do_not_leak_details() {
        let f = Failure::from(C::Unreachable(
            "dial tcp 10.0.0.1:6443: secret detail".into(),
        ));
        assert_eq!(f.code, "unreachable");
        assert!(!f.message.contains("10.0.0.1"), "{}", f.message);
        let f = Failure::from(C::Upstream(
            "etcdserver: 10.0.0.2:2379 timeout (500)".into(),
        ));
        assert_eq!(f.code, "upstream");
        assert!(!f.message.contains("10.0.0.2"), "{}", f.message);
    }
}
