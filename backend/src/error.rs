//! The API's error type: one place that turns every failure into a status code and an `ApiError`
//! body. 5xx bodies say what failed, never internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchyard_protocol::ApiError;

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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::auth::AuthError> for Error {
    fn from(e: crate::auth::AuthError) -> Self {
        match e {
            crate::auth::AuthError::Unauthenticated(m) => Error::Unauthorized(m),
            crate::auth::AuthError::Upstream(m) => Error::Cluster(cluster::Error::Upstream(m)),
        }
    }
}

impl Error {
    fn parts(
        self,
    ) -> (
        StatusCode,
        &'static str,
        String,
        Option<switchyard_protocol::VirtualServiceRoutes>,
    ) {
        use cluster::Error as C;
        match self {
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m, None),
            Error::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m, None),
            Error::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m, None),
            Error::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            Error::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m, None),
            Error::Cluster(C::NotFound(m)) => (StatusCode::NOT_FOUND, "not_found", m, None),
            Error::Cluster(C::Invalid(m)) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m, None),
            Error::Cluster(C::Conflict { message, current }) => (
                StatusCode::CONFLICT,
                "conflict",
                message,
                current.map(|c| *c),
            ),
            Error::Cluster(C::Forbidden(m)) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            Error::Cluster(C::Upstream(m)) => {
                // The detail goes to the log; the client learns which dependency failed.
                tracing::warn!(error = %m, "kubernetes api call failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream",
                    "the Kubernetes API server could not be reached or failed; try again"
                        .to_owned(),
                    None,
                )
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message, current) = self.parts();
        let body = ApiError {
            code: code.to_owned(),
            message,
            current,
        };
        (status, Json(body)).into_response()
    }
}
