//! Who am I (`GET /api/v1/whoami`) and, in token mode, signing in and out: `POST /api/v1/session`
//! checks a bearer token with the cluster, opens a session for it in the cluster (`auth::Sessions`)
//! and sets an HttpOnly, SameSite=Strict cookie holding only the session's id (never readable by
//! the page's scripts, `Secure` behind HTTPS, no longer-lived than the session);
//! `DELETE /api/v1/session` ends the session for every replica. `whoami`'s `may_write` agrees
//! with `GET /api/v1/access`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use switchyard_protocol::{SessionRequest, WhoAmI};

use super::rollout::access_of;
use super::{bytes_rejection, json_rejection, no_parameters};
use crate::auth::{session_id, Caller, Mode, Sessions, SESSION_COOKIE};
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
        Ok(caller) => who_am_i(&state, caller).await,
        Err(e) => WhoAmI {
            auth_mode: mode,
            user: None,
            groups: vec![],
            may_write: false,
            reason: Some(e.to_string()),
        },
    })
}

/// Who the caller is and whether they may write: `may_write` only when the console accepts their
/// writes and, where it watches VirtualServices or HTTPRoutes, the cluster lets them patch at
/// least one (the answers `GET /api/v1/access` gives). With none in scope there is nothing to
/// contradict.
async fn who_am_i(state: &AppState, caller: Caller) -> WhoAmI {
    let (may_write, reason) = if caller.may_write {
        let access: Vec<_> = access_of(state, &caller)
            .await
            .into_values()
            .flatten()
            .collect();
        if access.is_empty() || access.iter().any(|a| a.can_patch) {
            (true, None)
        } else {
            let why = access
                .iter()
                .find_map(|a| a.reason.clone())
                .unwrap_or_default();
            (
                false,
                Some(format!(
                    "{} may patch none of the VirtualServices and HTTPRoutes in scope: {why}",
                    caller.user
                )),
            )
        }
    } else {
        (false, caller.reason.clone())
    };
    WhoAmI {
        auth_mode: state.auth.mode().name().to_owned(),
        user: Some(caller.user),
        groups: caller.groups,
        may_write,
        reason,
    }
}

/// The session cookie: `value` with the session's absolute limit as its lifetime, or an expired
/// one that makes the browser forget it (`None`).
fn cookie(value: Option<&str>, headers: &HeaderMap, sessions: &Sessions) -> HeaderValue {
    // Behind TLS (directly or via a proxy that says so) the cookie is also Secure.
    let secure = sessions.secure()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let max_age = value.map_or(0, |_| sessions.limits().absolute.as_secs());
    let mut text = format!(
        "{SESSION_COOKIE}={}; Path=/api; HttpOnly; SameSite=Strict; Max-Age={max_age}",
        value.unwrap_or_default()
    );
    if secure {
        text.push_str("; Secure");
    }
    // Session ids are hexadecimal: always a valid header value.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("switchyard_session=; Max-Age=0"))
}

fn sessions_of(state: &AppState) -> Result<&Sessions> {
    match (state.auth.mode(), state.auth.sessions()) {
        (Mode::Token, Some(sessions)) => Ok(sessions),
        _ => Err(Error::BadRequest(
            "this console does not use tokens; nothing to sign in to or out of".into(),
        )),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SessionRequest>, JsonRejection>,
) -> Result<Response> {
    let Json(request) = body.map_err(json_rejection)?;
    let sessions = sessions_of(&state)?;
    let token = request.token.trim();
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::Invalid(
            "paste a Kubernetes bearer token (printable characters, no spaces)".into(),
        ));
    }
    let caller = state.auth.token_caller(token).await?;
    let id = sessions.open(token, &caller.user).await?;
    let cookie = cookie(Some(&id), &headers, sessions);
    let who = who_am_i(&state, caller).await;
    let mut response = Json(who).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    no_parameters(&body.map_err(bytes_rejection)?, "signing out")?;
    let sessions = sessions_of(&state)?;
    if let Some(id) = session_id(&headers) {
        sessions.close(&id).await?;
    }
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(None, &headers, sessions));
    Ok(response)
}
