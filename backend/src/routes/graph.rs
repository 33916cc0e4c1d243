//! `GET /api/v1/graph`: the latest graph snapshot over the rate window asked for (`?window=S`,
//! else the default), stamped with the API server's contact as of now (never queries anything
//! itself). The encoded answer, JSON and gzipped, comes from the refresher's
//! [`crate::live::Answers`], made once per snapshot, contact and visible namespaces.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::ChosenWindow;
use crate::auth::Caller;
use crate::error::Error;
use crate::live::AnswerKey;
use crate::state::AppState;
use crate::ui::{choose, Coding};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/graph", get(graph))
}

async fn graph(
    State(state): State<AppState>,
    ChosenWindow(window): ChosenWindow,
    headers: HeaderMap,
    caller: Caller,
) -> Result<Response, Error> {
    let latest = state
        .live
        .latest_over(window)
        .ok_or_else(|| Error::BadRequest(format!("rate window {window} s is not offered")))?;
    let contact = state.live.cluster_contact();
    let key = AnswerKey::of(&latest, window, &contact, caller.readable.as_deref());
    let encoded = state
        .live
        .answers()
        .get_or_encode(key, || {
            let mut graph = crate::graph::restrict(&latest, |ns| caller.sees(ns));
            graph.freshness.cluster = contact;
            graph
        })
        .map_err(Error::Internal)?;
    let gzip = choose(&headers, [Coding::Gzip].into_iter()).is_some();
    let body = if gzip {
        encoded.gzip.clone()
    } else {
        encoded.json.clone()
    };
    let mut response = Body::from(body).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}
