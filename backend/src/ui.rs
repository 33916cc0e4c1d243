//! Serves the browser app embedded in the binary: `index.html`, the wasm, its JS glue and the
//! stylesheet. `build.rs` builds them and generates the table included below.
//!
//! Caching: assets under `/assets/` carry a content hash in their name and are cached for a
//! year; `index.html` is revalidated on every load (ETag), so a new binary's UI shows up on the
//! next reload. Any other path that is not under `/api` and does not name a file (no `.` in its
//! last segment, so `/favicon.ico` is a 404) answers with `index.html`, so a bookmarked page still
//! opens the app. Clients that accept brotli get the brotli copy `build.rs` made, those that
//! accept gzip (and not brotli, or prefer gzip by q-value) the gzip copy, others the bytes as
//! they are; each encoding has its own ETag. Security headers (CSP and friends) are added for every
//! response by `crate::app`; the page needs no inline script (`index.html` loads a boot module)
//! and works under `script-src 'self' 'wasm-unsafe-eval'`.

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use switchyard_protocol::ApiError;

/// One embedded file (the generated table is a `static` of these).
pub(crate) struct Asset {
    /// URL path without the leading slash.
    pub(crate) path: &'static str,
    pub(crate) content_type: &'static str,
    /// Content-hashed name: safe to cache forever.
    pub(crate) immutable: bool,
    pub(crate) etag: &'static str,
    pub(crate) bytes: &'static [u8],
    /// The same bytes gzip-compressed, when that saves enough.
    pub(crate) gzip: Option<&'static [u8]>,
    /// The same bytes brotli-compressed, when that saves enough.
    pub(crate) brotli: Option<&'static [u8]>,
}

/// A content coding the server has copies in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The ETag suffix of this representation.
    fn tag(self) -> &'static str {
        match self {
            Coding::Brotli => "-br",
            Coding::Gzip => "-gz",
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Routes for the embedded UI: `/`, `/assets/*`, and `index.html` for any other non-API page.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .fallback(fallback)
}

async fn index(headers: HeaderMap) -> Response {
    serve(INDEX, &headers)
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    // The raw path, so a file name is matched exactly as the page requested it.
    let path = uri.path().trim_start_matches('/');
    serve(path, &headers)
}

/// Unknown API paths get a JSON 404 like every other API error; other GETs get the app.
async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return (
            StatusCode::NOT_FOUND,
            Json(ApiError {
                code: "not_found".into(),
                message: format!("no api endpoint {path}"),
                current: None,
                current_http_route: None,
            }),
        )
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    // A file the app has is served under its own name too (`/index.html`); one it does not have
    // (`/favicon.ico`, `/robots.txt`) is not a page of the app.
    let name = path.trim_start_matches('/');
    if ASSETS.iter().any(|a| a.path == name) {
        return serve(name, &headers);
    }
    if path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
    {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve(INDEX, &headers)
}

fn serve(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let available = [
        asset.brotli.map(|b| (Coding::Brotli, b)),
        asset.gzip.map(|b| (Coding::Gzip, b)),
    ];
    let chosen = choose(request_headers, available.iter().flatten().map(|(c, _)| *c))
        .and_then(|coding| available.iter().flatten().find(|(c, _)| *c == coding))
        .copied();
    // Each encoding is its own representation, so it gets its own validator.
    let etag = match chosen {
        Some((coding, _)) => format!("{}{}\"", asset.etag.trim_end_matches('"'), coding.tag()),
        None => asset.etag.to_owned(),
    };
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(chosen.map_or(asset.bytes, |(_, bytes)| bytes)))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.immutable {
            IMMUTABLE
        } else {
            REVALIDATE
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    if asset.gzip.is_some() || asset.brotli.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some((coding, _)) = chosen.filter(|_| !not_modified) {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.name()),
        );
    }
    response
}

/// The coding to send among `available` by `Accept-Encoding` (RFC 9110 §12.5.3): the highest
/// q-value above zero, a coding named outright before `*`, brotli before gzip on a tie; `None`
/// (the bytes as they are) when none is acceptable or the header is absent.
pub(crate) fn choose(
    headers: &HeaderMap,
    available: impl Iterator<Item = Coding>,
) -> Option<Coding> {
    let mut named: Vec<(String, f32)> = Vec::new();
    let mut any: Option<f32> = None;
    for entry in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = entry.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("").to_ascii_lowercase();
        if coding.is_empty() {
            continue;
        }
        let q = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(0.0);
        if coding == "*" {
            any = Some(q);
        } else {
            named.push((coding, q));
        }
    }
    let q_of = |coding: Coding| {
        named
            .iter()
            .find(|(name, _)| name == coding.name())
            .map(|(_, q)| *q)
            .or(any)
            .unwrap_or(0.0)
    };
    let mut best: Option<(Coding, f32)> = None;
    for coding in available {
        let q = q_of(coding);
        // `available` lists brotli first, so a tie keeps it.
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((coding, q));
        }
    }
    best.map(|(coding, _)| coding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::to_bytes, http::Request};
    use tower::ServiceExt;

    async fn get(path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        router()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    fn header(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn index_is_html_and_revalidated() {
        let response = get("/", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, header::CACHE_CONTROL), "no-cache");
        let etag = header(&response, header::ETAG).to_owned();
        let again = get("/", &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn unknown_pages_get_the_app_and_unknown_api_paths_json() {
        let page = get("/some/bookmarked/page", &[]).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            header(&page, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );

        let api = get("/api/v1/nope", &[]).await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        let body = to_bytes(api.into_body(), 1 << 16).await.expect("body");
        let error: ApiError = serde_json::from_slice(&body).expect("an ApiError");
        assert_eq!(error.code, "not_found");

        let missing = get("/assets/missing-0000.js", &[]).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn every_asset_is_served_with_its_type_and_cache_policy() {
        for asset in ASSETS {
            let response = get(&format!("/{}", asset.path), &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
            assert_eq!(header(&response, header::CONTENT_TYPE), asset.content_type);
            let expected = if asset.immutable {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            assert_eq!(header(&response, header::CACHE_CONTROL), expected);
            if asset.path.ends_with(".wasm") {
                assert_eq!(asset.content_type, "application/wasm");
            }
        }
    }

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_coding_follows_accept_encoding() {
        use Coding::{Brotli, Gzip};
        let both = || [Brotli, Gzip].into_iter();
        let table = [
            ("br, gzip, deflate", Some(Brotli)),
            ("gzip, deflate, br, zstd", Some(Brotli)),
            ("gzip", Some(Gzip)),
            ("gzip;q=1.0, br;q=0.5", Some(Gzip)),
            ("br;q=0, gzip", Some(Gzip)),
            ("*", Some(Brotli)),
            ("*;q=0.5, br;q=0", Some(Gzip)),
            ("identity", None),
            ("gzip;q=0, br;q=0", None),
            ("BR", Some(Brotli)),
            ("br;q=nonsense, gzip", Some(Gzip)),
            ("", None),
        ];
        for (value, want) in table {
            assert_eq!(choose(&accept(value), both()), want, "{value:?}");
        }
        assert_eq!(choose(&HeaderMap::new(), both()), None);
        assert_eq!(choose(&accept("br"), [Gzip].into_iter()), None);
    }

    #[tokio::test]
    async fn brotli_copies_go_to_clients_that_accept_them() {
        for asset in ASSETS.iter().filter(|a| a.brotli.is_some()) {
            let path = format!("/{}", asset.path);
            let response = get(&path, &[("accept-encoding", "gzip, deflate, br")]).await;
            assert_eq!(header(&response, header::CONTENT_ENCODING), "br", "{path}");
            assert_eq!(header(&response, header::VARY), "accept-encoding");
            assert!(header(&response, header::ETAG).ends_with("-br\""));
            let body = to_bytes(response.into_body(), 1 << 26).await.expect("body");
            assert_eq!(Some(&body[..]), asset.brotli, "{path}");
        }
    }

    #[tokio::test]
    async fn gzip_copies_go_to_clients_that_accept_them() {
        for asset in ASSETS.iter().filter(|a| a.gzip.is_some()) {
            let path = format!("/{}", asset.path);
            let zipped = get(&path, &[("accept-encoding", "gzip, deflate")]).await;
            assert_eq!(header(&zipped, header::CONTENT_ENCODING), "gzip", "{path}");
            assert_eq!(header(&zipped, header::VARY), "accept-encoding");
            let etag = header(&zipped, header::ETAG).to_owned();
            let body = to_bytes(zipped.into_body(), 1 << 24).await.expect("body");
            // The copy build.rs made (gzip magic first); the browser test decodes it for real.
            assert_eq!(Some(&body[..]), asset.gzip, "{path}");
            assert_eq!(body.get(..2), Some(&[0x1f, 0x8b][..]));

            let revalidated = get(
                &path,
                &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
            )
            .await;
            assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

            let refused = get(&path, &[("accept-encoding", "gzip;q=0, identity")]).await;
            assert_eq!(header(&refused, header::CONTENT_ENCODING), "");
            assert_ne!(header(&refused, header::ETAG), etag);
        }
    }
}
