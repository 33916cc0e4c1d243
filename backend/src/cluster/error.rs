//! What went wrong talking to the cluster, typed; `crate::error` alone decides what each kind
//! means in HTTP. Also the reading of kube-rs errors and weight-plan errors into it.

use switchyard_protocol::{HttpRouteRoutes, RouteKind, VirtualServiceRoutes};

use super::kinds;
use super::weights::PlanError;

/// A route object as it is now, of either kind: what a conflict or an unfitting bulk target
/// shows the client.
#[derive(Clone, Debug, PartialEq)]
pub enum Current {
    VirtualService(VirtualServiceRoutes),
    HttpRoute(HttpRouteRoutes),
}

impl Current {
    /// The object `object` of `kind` in its route-list shape.
    pub fn of(kind: RouteKind, object: &serde_json::Value) -> Current {
        match kind {
            RouteKind::VirtualService => {
                Current::VirtualService(super::view::virtual_service_routes(object))
            }
            RouteKind::HTTPRoute => Current::HttpRoute(kinds::http_route_routes(object)),
        }
    }

    /// Its routes as a [`VirtualServiceRoutes`] (for an HTTPRoute, the view without ports).
    pub fn view(&self) -> VirtualServiceRoutes {
        match self {
            Current::VirtualService(vs) => vs.clone(),
            Current::HttpRoute(hr) => hr.view(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// The change breaks a rule (weight policy, undefined subset, admission webhook).
    #[error("{0}")]
    Invalid(String),
    /// The route changed since the client saw it; nothing was written.
    #[error("{message}")]
    Conflict {
        message: String,
        current: Option<Box<Current>>,
    },
    /// No route of the route object fits the request (a bulk shift names subsets that no route
    /// splits between, or an HTTPRoute has no old/new backend pair); `current` is the object as
    /// it is.
    #[error("{message}")]
    NoFittingRoute {
        message: String,
        current: Box<Current>,
    },
    #[error("{0}")]
    Forbidden(String),
    /// The cluster does not accept the credentials the call went out with (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The cluster refused the request as malformed or too large (a 4xx other than the ones
    /// above, e.g. 431 for headers too large); `message` is the cluster's.
    #[error("{message} ({status})")]
    Rejected { status: u16, message: String },
    /// The API server answered, but failed (5xx) or answered something unreadable.
    #[error("kubernetes api: {0}")]
    Upstream(String),
    /// The API server could not be reached: connection refused or reset, TLS, timeouts.
    #[error("kubernetes api unreachable: {0}")]
    Unreachable(String),
}

impl Error {
    /// A failed call about route object `namespace/name` of `kind`, by the API server's status.
    pub(super) fn from_kube_of(
        kind: RouteKind,
        e: kube::Error,
        namespace: &str,
        name: &str,
    ) -> Self {
        match e {
            kube::Error::Api(status) if status.code == 404 => Error::NotFound(format!(
                "{} {namespace}/{name} not found",
                kinds::noun(kind)
            )),
            other => Error::from_call(other),
        }
    }

    /// Any failed call, by what the API server answered, or that it did not answer: only a
    /// connection that failed or timed out is "unreachable"; an answer is reported as what it is.
    pub fn from_call(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(status) => {
                let message = status.message.clone();
                match status.code {
                    401 => Error::Unauthorized(format!(
                        "the cluster refused the credentials: {message}"
                    )),
                    403 => Error::Forbidden(message),
                    404 => Error::NotFound(message),
                    // 400 with an empty reason is an admission webhook (Istio's validation) saying no.
                    400 | 422 => Error::Invalid(message),
                    409 => Error::Conflict {
                        message,
                        current: None,
                    },
                    code @ 405..=499 => Error::Rejected {
                        status: code,
                        message,
                    },
                    code => Error::Upstream(format!("{message} ({code})")),
                }
            }
            // An answer that is not JSON or not the expected object: the server is there.
            kube::Error::SerdeError(e) => Error::Upstream(format!("unreadable answer: {e}")),
            other => Error::Unreachable(other.to_string()),
        }
    }

    /// A weight plan the console refused; `current` is the object it was planned on.
    pub(super) fn from_plan(e: PlanError, current: &Current) -> Self {
        match e {
            PlanError::Invalid(m) => Error::Invalid(m),
            PlanError::NoSuchRoute { .. } => Error::NotFound(e.to_string()),
            PlanError::Changed(m) => Error::Conflict {
                message: m,
                current: Some(Box::new(current.clone())),
            },
        }
    }

    pub(super) fn unreadable(e: serde_json::Error) -> Self {
        Error::Upstream(format!("unreadable route object: {e}"))
    }
}
