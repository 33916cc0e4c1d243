//! Who am I (`GET /api/v1/whoami`) and, in token mode, signing in and out: `POST /api/v1/session`
//! checks a bearer token with the cluster and keeps it in an HttpOnly, SameSite=Strict session
//! cookie (never readable by the page's scripts, gone when the browser session ends);
//! `DELETE /api/v1/session` forgets it.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use switchyard_protocol::{SessionRequest, WhoAmI};

use super::json_rejection;
use crate::auth::{Mode, TOKEN_COOKIE};
use crate::error::{Error, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
}

async fn whoami(State(state): State<AppState>, request: axum::extract::Request) -> Json<WhoAmI> {
    let (parts, _) = request.into_parts();
    let mode = state.auth.mode().name().to_owned();
    Json(match state.auth.caller(&parts).await {
        Ok(caller) => WhoAmI {
            auth_mode: mode,
            user: Some(caller.user),
            groups: caller.groups,
            may_write: caller.may_write,
            reason: caller.reason,
        },
        Err(e) => WhoAmI {
            auth_mode: mode,
            user: None,
            groups: vec![],
            may_write: false,
            reason: Some(e.to_string()),
        },
    })
}

fn cookie(value: &str, headers: &HeaderMap, expire: bool) -> Result<HeaderValue> {
    // Behind TLS (directly or via a proxy that says so) the cookie is also Secure.
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let mut text = format!("{TOKEN_COOKIE}={value}; Path=/api; HttpOnly; SameSite=Strict");
    if secure {
        text.push_str("; Secure");
    }
    if expire {
        text.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&text).map_err(|_| {
        Error::BadRequest("the token contains characters a cookie cannot carry".into())
    })
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SessionRequest>, JsonRejection>,
) -> Result<Response> {
    let Json(request) = body.map_err(json_rejection)?;
    if !matches!(state.auth.mode(), Mode::Token) {
        return Err(Error::BadRequest(
            "this console does not use tokens; nothing to sign in to".into(),
        ));
    }
    let token = request.token.trim();
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::Invalid(
            "paste a Kubernetes bearer token (printable characters, no spaces)".into(),
        ));
    }
    let caller = state.auth.token_caller(token).await?;
    let who = WhoAmI {
        auth_mode: "token".into(),
        user: Some(caller.user),
        groups: caller.groups,
        may_write: caller.may_write,
        reason: caller.reason,
    };
    let mut response = Json(who).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(token, &headers, false)?);
    Ok(response)
}

async fn sign_out(headers: HeaderMap) -> Result<Response> {
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie("", &headers, true)?);
    Ok(response)
}
