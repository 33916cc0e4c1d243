//! Typed calls for the rollout actions and the session: the console's settings, bulk shift,
//! rollback, history, access reviews, who am I, and signing in and out with a bearer token
//! (token mode).
//!
//! The token goes to the server once, in the body of `POST /api/v1/session`; the server keeps it
//! in an HttpOnly cookie the page's scripts cannot read. Nothing here stores it or logs it.

use super::client::{decode_body, get_json, send_json as send, write, API};
use super::Error;
use gloo_net::http::Request;
use switchyard_protocol::{
    AccessResponse, HistoryResponse, SessionRequest, Settings, ShiftRequest, ShiftResponse, WhoAmI,
};

/// `GET /api/v1/settings`: the old and new subset names the server was started with.
pub async fn fetch_settings() -> Result<Settings, Error> {
    get_json(&format!("{API}/settings")).await
}

/// `GET /api/v1/whoami`.
pub async fn fetch_whoami() -> Result<WhoAmI, Error> {
    get_json(&format!("{API}/whoami")).await
}

/// `GET /api/v1/access`: may the caller patch each VirtualService, as the cluster says.
pub async fn fetch_access() -> Result<AccessResponse, Error> {
    get_json(&format!("{API}/access")).await
}

/// `GET /api/v1/history`: every recorded weight change, oldest first (the readers of a load
/// share the one read [`super::preload`] started).
pub async fn fetch_history() -> Result<HistoryResponse, Error> {
    super::preload::history().await
}

/// `POST /api/v1/shift`: one split for several VirtualServices in one request.
pub async fn shift(request: &ShiftRequest) -> Result<ShiftResponse, Error> {
    let builder = write(Request::post(&format!("{API}/shift")))
        .json(request)
        .map_err(|e| Error::Decode(e.to_string()))?;
    send(builder).await
}

/// `POST /api/v1/rollback`: every old/new route in scope to old 100 / new 0.
pub async fn rollback() -> Result<ShiftResponse, Error> {
    send(
        write(Request::post(&format!("{API}/rollback")))
            .build()
            .map_err(build_error)?,
    )
    .await
}

/// `POST /api/v1/session`: hands the token to the server, which answers with who it belongs to
/// and sets the session cookie.
pub async fn sign_in(token: String) -> Result<WhoAmI, Error> {
    let builder = write(Request::post(&format!("{API}/session")))
        .json(&SessionRequest { token })
        .map_err(|e| Error::Decode(e.to_string()))?;
    send(builder).await
}

/// `DELETE /api/v1/session`: the server expires the cookie (204, no body).
pub async fn sign_out() -> Result<(), Error> {
    let response = write(Request::delete(&format!("{API}/session")))
        .send()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    if response.ok() {
        Ok(())
    } else {
        let (status, status_text) = (response.status(), response.status_text());
        let body = response.text().await.unwrap_or_default();
        decode_body::<serde_json::Value>(status, &status_text, &body).map(|_| ())
    }
}

fn build_error(e: gloo_net::Error) -> Error {
    Error::Decode(e.to_string())
}
