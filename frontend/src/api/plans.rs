//! Release plans over HTTP: the list, creating one, a control action, and the plans' evidence
//! from the history.

use super::client::{get_json, send_json, write, API};
use super::Error;
use gloo_net::http::Request;
use switchyard_protocol::plans::PlanAction;
use switchyard_protocol::{HistoryResponse, Plan, PlanRequest, PlansResponse};

/// `GET /api/v1/plans`.
pub async fn list() -> Result<PlansResponse, Error> {
    get_json(&format!("{API}/plans")).await
}

/// `GET /api/v1/history` (its `plan_events`, for the plans' timelines).
pub async fn history() -> Result<HistoryResponse, Error> {
    get_json(&format!("{API}/history")).await
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
