//! What went wrong talking to the cluster, typed; `crate::error` alone decides what each kind
//! means in HTTP. Also the reading of kube-rs errors and weight-plan errors into it.

use switchyard_protocol::VirtualServiceRoutes;

use super::weights::PlanError;

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
        current: Option<Box<VirtualServiceRoutes>>,
    },
    /// No http route of the VirtualService fits the request (a bulk shift names subsets that
    /// no route splits between); `current` is the VirtualService as it is.
    #[error("{message}")]
    NoFittingRoute {
        message: String,
        current: Box<VirtualServiceRoutes>,
    },
    #[error("{0}")]
    Forbidden(String),
    /// The API server failed or could not be reached.
    #[error("kubernetes api: {0}")]
    Upstream(String),
}

impl Error {
    /// A failed call about VirtualService `namespace/name`, by the API server's status.
    pub(super) fn from_kube(e: kube::Error, namespace: &str, name: &str) -> Self {
        match e {
            kube::Error::Api(status) => match status.code {
                404 => Error::NotFound(format!("virtualservice {namespace}/{name} not found")),
                403 => Error::Forbidden(status.message.clone()),
                // 400 with an empty reason is an admission webhook (Istio's validation) saying no.
                400 | 422 => Error::Invalid(status.message.clone()),
                409 => Error::Conflict {
                    message: status.message.clone(),
                    current: None,
                },
                _ => Error::Upstream(format!("{} ({})", status.message, status.code)),
            },
            other => Error::Upstream(other.to_string()),
        }
    }

    /// A weight plan the console refused; `current` is the VirtualService it was planned on.
    pub(super) fn from_plan(e: PlanError, current: &VirtualServiceRoutes) -> Self {
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
        Error::Upstream(format!("unreadable virtualservice: {e}"))
    }
}
