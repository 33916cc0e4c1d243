//! The request pipeline: authenticate, impersonate, route the path, authorize, then run the verb
//! (get, list, watch, create, update, patch, delete, deletecollection) against the store. The
//! path parsing is in [`path`], the verbs in [`read`] and [`write`], the access reviews in
//! [`review`].

mod path;
mod read;
mod review;
mod write;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

use super::auth::{self, Attributes, Authenticator, Identity};
use super::objects::{self, IpAllocator};
use super::protobuf;
use super::resources::{self, ResourceDef};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::{discovery, openapi, table, Format};
use crate::store::Store;
use path::Target;

/// Largest request body accepted, as kube-apiserver's default (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub auth: Authenticator,
    pub ips: IpAllocator,
}

pub async fn handle(State(state): State<ApiState>, request: Request) -> Response {
    match serve(&state, request).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// Paths served without credentials, as a default cluster lets `system:anonymous` read them.
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

pub(super) struct QueryParams(HashMap<String, String>);

impl QueryParams {
    fn parse(uri: &Uri) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
        Ok(QueryParams(pairs.into_iter().collect()))
    }
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    /// A boolean option as the API server's query decoder reads one: present and not `0` or
    /// `false` (in any case) is true, even when empty (`?watch` watches).
    fn flag(&self, key: &str) -> bool {
        self.optional_flag(key).unwrap_or(false)
    }
    /// A `*bool` option (`sendInitialEvents`): absent is `None`, otherwise as [`Self::flag`].
    fn optional_flag(&self, key: &str) -> Option<bool> {
        self.get(key)
            .map(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }
}

async fn serve(state: &ApiState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let (path_token, path) = auth::split_token_prefix(parts.uri.path());
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path }.to_owned();
    let params = QueryParams::parse(&parts.uri)?;
    let caller = state.auth.authenticate(&parts.headers, path_token)?;
    let identity = match caller {
        Some(caller) => auth::impersonate(caller, &parts.headers)?,
        None if is_public(&path) => Identity::new("system:anonymous", &["system:unauthenticated"]),
        None => return Err(ApiError::unauthorized()),
    };
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    // Non-resource URLs: discovery, version, health, OpenAPI. Every authenticated user may read
    // them (system:discovery / system:public-info-viewer in a real cluster).
    let non_resource = match segments.as_slice() {
        [] => Some(Ok(discovery::root_paths())),
        ["version"] => Some(Ok(discovery::version())),
        ["healthz" | "livez" | "readyz"] => {
            return plain_get(&parts.method, "ok");
        }
        ["api"] if discovery::wants_aggregated(&accept) => {
            return aggregated(&parts.method, discovery::aggregated(true))
        }
        ["apis"] if discovery::wants_aggregated(&accept) => {
            return aggregated(&parts.method, discovery::aggregated(false))
        }
        ["api"] => {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            Some(Ok(discovery::api_versions(host)))
        }
        ["apis"] => Some(Ok(discovery::api_group_list())),
        ["apis", group] => match discovery::api_group(group) {
            Some(doc) => Some(Ok(doc)),
            None if !is_built_in_group(group) => Some(Err(NotServed::Page)),
            None => Some(Err(ApiError::no_such_path().into())),
        },
        ["api", "v1"] => {
            Some(discovery::resource_list("", "v1").ok_or_else(|| ApiError::no_such_path().into()))
        }
        ["apis", group, version] => match discovery::resource_list(group, version) {
            Some(doc) => Some(Ok(doc)),
            None if !is_built_in_group(group) => Some(Err(NotServed::Page)),
            None => Some(Err(ApiError::no_such_path().into())),
        },
        ["openapi", rest @ ..] => {
            Some(openapi::document(rest, &parts.uri).map_err(NotServed::from))
        }
        _ => None,
    };
    if let Some(doc) = non_resource {
        if identity.user == "system:anonymous" && !is_public(&path) {
            return Err(ApiError::unauthorized());
        }
        if let Err(NotServed::Page) = doc {
            return Ok(page_not_found());
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(ApiError::method_not_allowed());
        }
        let doc = match doc {
            Ok(doc) => doc,
            Err(NotServed::Status(e)) => return Err(e),
            Err(NotServed::Page) => return Ok(page_not_found()),
        };
        if segments == ["openapi", "v3"] {
            // kube-openapi serves its v3 index labelled as plain text (the body is JSON).
            return Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                doc.to_string(),
            )
                .into_response());
        }
        return Ok(super::json_response(StatusCode::OK, &doc));
    }
    if identity.user == "system:anonymous" {
        return Err(ApiError::unauthorized());
    }

    let target = match Target::parse(&segments) {
        Ok(target) => target,
        Err(e) if e == ApiError::no_such_path() && !served_by_built_in_handlers(&segments) => {
            return Ok(page_not_found());
        }
        Err(e) => return Err(e),
    };
    let verb = target.verb(&parts.method, &params)?;
    let resource_for_rbac = match target.subresource {
        Some(sub) => format!("{}/{sub}", target.def.plural),
        None => target.def.plural.to_owned(),
    };
    let decision = auth::authorize(
        &identity,
        &Attributes {
            verb,
            group: target.def.group,
            resource: &resource_for_rbac,
            namespace: target.namespace.unwrap_or(""),
        },
    );
    if !decision.allowed {
        return Err(ApiError::forbidden(
            &identity.user,
            verb,
            target.def.group,
            &resource_for_rbac,
            target.namespace.unwrap_or(""),
            target.name.unwrap_or(""),
        ));
    }
    let format = Format::negotiate(&accept, &params)?;
    let ctx = Ctx {
        state,
        target: &target,
        params: &params,
        headers: &parts.headers,
        format,
    };
    if target.def.review {
        let body = read_body(body).await?;
        let review = decode_object(&parts.headers, &body)?;
        if target.def.kind == "SelfSubjectReview" {
            return Ok(review::self_subject_review(&identity));
        }
        return review::self_subject_access_review(&identity, review);
    }
    if let Some(directive) = params.get("fieldValidation") {
        if !matches!(directive, "" | "Ignore" | "Warn" | "Strict") {
            return Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {directive:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
            )));
        }
    }
    match verb {
        "get" => ctx.get(),
        "list" => ctx.list(),
        "watch" => ctx.watch(),
        "create" => ctx.create(&read_body(body).await?),
        "update" => ctx.update(&read_body(body).await?),
        "patch" => ctx.patch(&read_body(body).await?),
        "delete" => ctx.delete(&read_body(body).await?),
        "deletecollection" => ctx.delete_collection(),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Why a non-resource path has no document: the generic NotFound Status, or no handler at all
/// (Go's plain-text 404).
enum NotServed {
    Status(ApiError),
    Page,
}

impl From<ApiError> for NotServed {
    fn from(e: ApiError) -> Self {
        NotServed::Status(e)
    }
}

/// Whether a group is one of kube-apiserver's own (served by its built-in handlers) rather than a
/// custom resource group.
fn is_built_in_group(group: &str) -> bool {
    resources::ALL.iter().any(|d| d.group == group && !d.custom)
}

/// Whether a path belongs to kube-apiserver's built-in handlers, which answer what they do not
/// serve with the generic NotFound Status: `/api/…` and the built-in groups under `/apis/…`.
/// Everything else falls through the custom resource handler to Go's plain-text 404.
fn served_by_built_in_handlers(segments: &[&str]) -> bool {
    match segments {
        ["api", ..] => true,
        ["apis", group, ..] => is_built_in_group(group),
        _ => false,
    }
}

/// Go's `http.NotFound`: what kube-apiserver answers for a path no handler serves.
fn page_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "404 page not found\n",
    )
        .into_response()
}

fn plain_get(method: &Method, text: &'static str) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response())
}

fn aggregated(method: &Method, doc: Value) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, discovery::AGGREGATED_CONTENT_TYPE)],
        doc.to_string(),
    )
        .into_response())
}

async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::too_large())
}

struct Ctx<'a> {
    state: &'a ApiState,
    target: &'a Target<'a>,
    params: &'a QueryParams,
    headers: &'a HeaderMap,
    format: Format,
}

impl Ctx<'_> {
    fn def(&self) -> &'static ResourceDef {
        self.target.def
    }

    fn store(&self) -> &Store {
        &self.state.store
    }

    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.params.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dry run value: {other}; supported values: All"
            ))),
        }
    }

    /// One object in the negotiated format.
    fn respond_object(&self, code: StatusCode, object: &Value) -> Result<Response, ApiError> {
        let object = objects::versioned(self.def(), self.target.version, object);
        let body = match self.format {
            Format::Object => object,
            Format::Table { include_object } => {
                let rv = objects::meta_str(&object, "resourceVersion")
                    .unwrap_or("")
                    .to_owned();
                table::render(self.def(), &[object], &rv, include_object)
            }
            Format::Metadata => table::partial_object_metadata(&object),
        };
        Ok(self.format.respond(code, &body))
    }

    fn selectors(&self) -> Result<(LabelSelector, FieldSelector), ApiError> {
        let labels = LabelSelector::parse(self.params.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields =
            FieldSelector::parse(self.params.get("fieldSelector").unwrap_or(""), self.def())
                .map_err(ApiError::bad_request)?;
        Ok((labels, fields))
    }
}

/// A create/update/review body as JSON, from JSON, YAML or (for the types kubectl's typed clients
/// send) protobuf.
fn decode_object(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    const ACCEPTED: &[&str] = &["application/json", "application/yaml", protobuf::MEDIA_TYPE];
    let value: Value = match media_type(headers).as_str() {
        "" | "application/json" | "*/*" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?,
        "application/yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
            serde_yaml::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
        }
        protobuf::MEDIA_TYPE => protobuf::decode(body).map_err(|e| match e {
            protobuf::DecodeError::Malformed(m) => {
                ApiError::bad_request(format!("error decoding protobuf: {m}"))
            }
            protobuf::DecodeError::UnsupportedKind(_) => {
                ApiError::unsupported_media_type(&ACCEPTED[..2])
            }
        })?,
        _ => return Err(ApiError::unsupported_media_type(ACCEPTED)),
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{}'",
            truncate(&String::from_utf8_lossy(body), 200)
        )));
    }
    Ok(value)
}

/// The request's Content-Type without parameters (`; charset=utf-8` is ignored, as the server does).
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
