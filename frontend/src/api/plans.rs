//! Release plans over HTTP: creating one, a control action, and the plans' evidence from the
//! history (the plans themselves come with the event stream).

use super::client::{send_json, write, API};
use super::Error;
use gloo_net::http::Request;
use switchyard_protocol::plans::PlanAction;
use switchyard_protocol::{HistoryResponse, Plan, PlanRequest};

/// `GET /api/v1/history` (its `plan_events`, for the plans' timelines): one of the readers of
/// the read [`super::preload`] started.
pub async fn history() -> Result<HistoryResponse, Error> {
    super::preload::history().await
}

/// `POST /api/v1/plans`.
pub async fn create(request: &PlanRequest) -> Result<Plan, Error> {
    let request = write(Request::post(&format!("{API}/plans")))
        .json(request)
        .map_err(|e| Error::Decode(e.to_string()))?;
    send_json(request).await
}

/// `POST /api/v1/plans/{id}/{action}`.
pub async fn act(id: &str, action: PlanAction) -> Result<Plan, Error> {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    let request = write(Request::post(&format!(
        "{API}/plans/{id}/{}",
        action.as_str()
    )))
    .build()
    .map_err(|e| Error::Decode(e.to_string()))?;
    send_json(request).await
}
