//! Typed calls to the JSON API over gloo-net: one async fn per endpoint, every failure an
//! [`Error`]. URLs are absolute because the server answers any unknown page path with the app.

use super::Error;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use switchyard_protocol::{
    ApiError, RoutesResponse, SetHttpRouteWeightsResponse, SetWeightsRequest, SetWeightsResponse,
};

pub(super) const API: &str = "/api/v1";

/// The server refuses writes without this header: a cross-site form cannot set it (CSRF guard).
const REQUESTED_BY: (&str, &str) = ("x-requested-by", "switchyard");

/// `GET /api/v1/routes` (the first call of a load takes the read [`super::preload`] started).
pub async fn fetch_routes() -> Result<RoutesResponse, Error> {
    super::preload::routes().await
}

/// A GET of a JSON resource, every failure an [`Error`]; shared by the other `api` modules.
pub(super) async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, Error> {
    send_json(
        Request::get(url)
            .header("accept", "application/json")
            .build()
            .map_err(|e| Error::Decode(e.to_string()))?,
    )
    .await
}

/// A write request: JSON answers and the CSRF header the server requires.
pub(super) fn write(builder: RequestBuilder) -> RequestBuilder {
    builder
        .header("accept", "application/json")
        .header(REQUESTED_BY.0, REQUESTED_BY.1)
}

/// Sends a built request and reads its JSON answer.
pub(super) async fn send_json<T: DeserializeOwned>(request: Request) -> Result<T, Error> {
    let response = request
        .send()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    read_json(response).await
}

/// `PUT /api/v1/namespaces/{ns}/virtualservices/{name}/routes/{index}/weights`.
pub async fn set_weights(
    namespace: &str,
    name: &str,
    index: usize,
    request: &SetWeightsRequest,
) -> Result<SetWeightsResponse, Error> {
    let request = write(Request::put(&weights_url(namespace, name, index)))
        .json(request)
        .map_err(|e| Error::Decode(e.to_string()))?;
    send_json(request).await
}

/// The weights endpoint of one route.
pub fn weights_url(namespace: &str, name: &str, index: usize) -> String {
    format!(
        "{API}/namespaces/{}/virtualservices/{}/routes/{index}/weights",
        encode_segment(namespace),
        encode_segment(name)
    )
}

/// `PUT /api/v1/namespaces/{ns}/httproutes/{name}/routes/{index}/weights`: one HTTPRoute rule.
pub async fn set_http_route_weights(
    namespace: &str,
    name: &str,
    index: usize,
    request: &SetWeightsRequest,
) -> Result<SetHttpRouteWeightsResponse, Error> {
    let request = write(Request::put(&http_route_weights_url(
        namespace, name, index,
    )))
    .json(request)
    .map_err(|e| Error::Decode(e.to_string()))?;
    send_json(request).await
}

/// The weights endpoint of one HTTPRoute rule.
pub fn http_route_weights_url(namespace: &str, name: &str, index: usize) -> String {
    format!(
        "{API}/namespaces/{}/httproutes/{}/routes/{index}/weights",
        encode_segment(namespace),
        encode_segment(name)
    )
}

/// Percent-encodes one path segment. Kubernetes names are DNS labels and never need it, but a
/// name is data from the server and must not be able to change the path's shape.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

pub(super) async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, Error> {
    let status = response.status();
    let status_text = response.status_text();
    let body = response
        .text()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    decode_body(status, &status_text, &body)
}

/// Turns a status and body into the typed answer or an [`Error`]. An error status whose body is
/// not an `ApiError` (a proxy's HTML page, say) still becomes a sentence with the status in it.
pub fn decode_body<T: DeserializeOwned>(
    status: u16,
    status_text: &str,
    body: &str,
) -> Result<T, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| Error::Decode(e.to_string()));
    }
    match serde_json::from_str::<ApiError>(body) {
        Ok(api_error) => Err(Error::Api(Box::new(api_error))),
        Err(_) => Err(Error::Api(Box::new(ApiError {
            code: format!("http_{status}"),
            message: format!("the server answered {status} {status_text}")
                .trim_end()
                .to_owned(),
            current: None,
            current_http_route: None,
        }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_url_encodes_segments() {
        assert_eq!(
            weights_url("hands-on", "review", 1),
            "/api/v1/namespaces/hands-on/virtualservices/review/routes/1/weights"
        );
        assert_eq!(
            weights_url("a/b", "c d", 0),
            "/api/v1/namespaces/a%2Fb/virtualservices/c%20d/routes/0/weights"
        );
        assert_eq!(
            http_route_weights_url("hands-on-gateway", "review", 1),
            "/api/v1/namespaces/hands-on-gateway/httproutes/review/routes/1/weights"
        );
    }

    #[test]
    fn bodies_decode_to_answers_or_errors() {
        let ok: Result<RoutesResponse, _> = decode_body(200, "OK", r#"{"virtual_services":[]}"#);
        assert_eq!(ok, Ok(RoutesResponse::default()));

        let conflict: Result<RoutesResponse, _> = decode_body(
            409,
            "Conflict",
            r#"{"code":"conflict","message":"review route 1 changed on the server"}"#,
        );
        let err = conflict.expect_err("409");
        assert_eq!(err.code(), Some("conflict"));
        assert_eq!(err.to_string(), "review route 1 changed on the server");

        let proxy: Result<RoutesResponse, _> = decode_body(502, "Bad Gateway", "<html>");
        assert_eq!(
            proxy.expect_err("502").to_string(),
            "the server answered 502 Bad Gateway"
        );

        let garbled: Result<RoutesResponse, _> = decode_body(200, "OK", "{");
        assert!(matches!(garbled, Err(Error::Decode(_))));
    }
}
