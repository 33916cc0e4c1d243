//! Reads for the graph view: the latest graph snapshot and the weight-change history, to seed
//! the store on load (the event stream keeps both current afterwards).

use super::{client::decode_body, Error};
use gloo_net::http::Request;
use serde::de::DeserializeOwned;
use switchyard_protocol::{Graph, HistoryResponse};

/// `GET /api/v1/graph`.
pub async fn fetch_graph() -> Result<Graph, Error> {
    get("/api/v1/graph").await
}

/// `GET /api/v1/history`.
pub async fn fetch_history() -> Result<HistoryResponse, Error> {
    get("/api/v1/history").await
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, Error> {
    let response = Request::get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    let (status, status_text) = (response.status(), response.status_text());
    let body = response
        .text()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    decode_body(status, &status_text, &body)
}
