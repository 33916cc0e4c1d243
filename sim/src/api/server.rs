//! The request pipeline: authenticate, impersonate, route the path, authorize, then run the verb
//! (get, list, watch, create, update, patch, delete, deletecollection) against the store.

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

use super::auth::{self, Attributes, Authenticator, Identity};
use super::objects::{self, IpAllocator};
use super::patch::{self, MAX_JSON_PATCH_OPS};
use super::resources::{self, ResourceDef};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, ApiError};
use super::{discovery, openapi, protobuf, table, watch, Format};
use crate::store::{Store, StoreError};

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
    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
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
        ["apis", group] => Some(discovery::api_group(group).ok_or_else(ApiError::no_such_path)),
        ["api", "v1"] => {
            Some(discovery::resource_list("", "v1").ok_or_else(ApiError::no_such_path))
        }
        ["apis", group, version] => {
            Some(discovery::resource_list(group, version).ok_or_else(ApiError::no_such_path))
        }
        ["openapi", rest @ ..] => Some(openapi::document(rest, &parts.uri)),
        _ => None,
    };
    if let Some(doc) = non_resource {
        if identity.user == "system:anonymous" && !is_public(&path) {
            return Err(ApiError::unauthorized());
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(ApiError::method_not_allowed());
        }
        return Ok(super::json_response(StatusCode::OK, &doc?));
    }
    if identity.user == "system:anonymous" {
        return Err(ApiError::unauthorized());
    }

    let target = Target::parse(&segments)?;
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
            return Ok(self_subject_review(&identity, review));
        }
        return self_subject_access_review(&identity, review);
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

/// A resource request's parsed path.
struct Target<'a> {
    def: &'static ResourceDef,
    version: &'a str,
    /// The namespace in the path; `None` for cluster-scoped types and all-namespace lists.
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn parse(segments: &[&'a str]) -> Result<Self, ApiError> {
        let (group, version, rest) = match segments {
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return Err(ApiError::no_such_path()),
        };
        if resources::in_group_version(group, version).is_empty() {
            return Err(ApiError::no_such_path());
        }
        let lookup = |plural: &str| {
            resources::by_plural(group, plural)
                .filter(|d| d.versions.contains(&version))
                .ok_or_else(ApiError::no_such_path)
        };
        let (namespace, plural, name, subresource) = match rest {
            // `/namespaces/{ns}/{resource}…` is namespaced unless it is the namespace itself.
            ["namespaces", ns, plural, tail @ ..] => match tail {
                [] => (Some(*ns), *plural, None, None),
                [name] => (Some(*ns), *plural, Some(*name), None),
                [name, sub] => (Some(*ns), *plural, Some(*name), Some(*sub)),
                _ => return Err(ApiError::no_such_path()),
            },
            [plural] => (None, *plural, None, None),
            [plural, name] => (None, *plural, Some(*name), None),
            [plural, name, sub] => (None, *plural, Some(*name), Some(*sub)),
            _ => return Err(ApiError::no_such_path()),
        };
        // `/api/v1/namespaces/{ns}/status` style paths: a namespace's own subresource.
        let (def, namespace, name, subresource) = match (namespace, lookup(plural)) {
            (Some(ns), Err(_)) if group.is_empty() && name.is_none() => {
                (lookup("namespaces")?, None, Some(ns), Some(plural))
            }
            (_, def) => (def?, namespace, name, subresource),
        };
        if def.namespaced {
            // A namespaced item needs its namespace.
            if namespace.is_none() && name.is_some() {
                return Err(ApiError::no_such_path());
            }
        } else if namespace.is_some() {
            return Err(ApiError::no_such_path());
        }
        match subresource {
            None => {}
            Some("status") if def.custom || def.plural == "namespaces" => {}
            Some(_) => return Err(ApiError::no_such_path()),
        }
        Ok(Target {
            def,
            version,
            namespace,
            name,
            subresource,
        })
    }

    fn verb(&self, method: &Method, params: &QueryParams) -> Result<&'static str, ApiError> {
        let item = self.name.is_some();
        let verb = match (method.as_str(), item) {
            ("GET" | "HEAD", true) => "get",
            ("GET" | "HEAD", false) if params.flag("watch") => "watch",
            ("GET" | "HEAD", false) => "list",
            ("POST", false) => "create",
            ("PUT", true) => "update",
            ("PATCH", true) => "patch",
            ("DELETE", true) => "delete",
            ("DELETE", false) => "deletecollection",
            _ => return Err(ApiError::method_not_allowed()),
        };
        let allowed_here = match self.subresource {
            Some(_) => matches!(verb, "get" | "update" | "patch"),
            None => self.def.has_verb(verb),
        };
        // Namespaced types can be listed and watched across namespaces, nothing else.
        let needs_namespace =
            self.def.namespaced && self.namespace.is_none() && !matches!(verb, "list" | "watch");
        if !allowed_here || needs_namespace {
            return Err(ApiError::method_not_allowed());
        }
        Ok(verb)
    }

    fn namespace(&self) -> &'a str {
        self.namespace.unwrap_or("")
    }

    fn name(&self) -> &'a str {
        self.name.unwrap_or("")
    }

    fn key(&self) -> crate::store::Key {
        objects::key(self.def, self.namespace(), self.name())
    }
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

    fn get(&self) -> Result<Response, ApiError> {
        let object = self
            .store()
            .get(&self.target.key())
            .ok_or_else(|| ApiError::not_found(self.def(), self.target.name()))?;
        self.respond_object(StatusCode::OK, &object)
    }

    fn list(&self) -> Result<Response, ApiError> {
        let (labels, fields) = self.selectors()?;
        let (items, rv) = self
            .store()
            .list(&self.def().qualified_resource(), self.target.namespace);
        let mut matching: Vec<Value> = items
            .iter()
            .filter(|o| labels.matches_object(o) && fields.matches(o))
            .map(|o| objects::versioned(self.def(), self.target.version, o))
            .collect();

        // Pagination: the continue token is the position (namespace/name) to resume after,
        // hex-encoded so it is opaque and URL-safe.
        if let Some(token) = self.params.get("continue").filter(|t| !t.is_empty()) {
            let after = decode_continue(token)
                .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
            matching.retain(|o| position(o) > after);
        }
        let limit = self
            .params
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0);
        let mut list_meta = json!({"resourceVersion": rv.to_string()});
        if let Some(limit) = limit {
            if matching.len() > limit {
                let remaining = matching.len() - limit;
                matching.truncate(limit);
                if let Some(last) = matching.last() {
                    list_meta["continue"] = json!(encode_continue(&position(last)));
                    list_meta["remainingItemCount"] = json!(remaining);
                }
            }
        }
        let body = match self.format {
            Format::Table { include_object } => {
                let mut t = table::render(self.def(), &matching, &rv.to_string(), include_object);
                t["metadata"] = list_meta;
                t
            }
            Format::Metadata => json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": list_meta,
                "items": matching.iter().map(table::partial_object_metadata).collect::<Vec<_>>(),
            }),
            Format::Object => json!({
                "kind": self.def().list_kind(),
                "apiVersion": self.def().api_version(self.target.version),
                "metadata": list_meta,
                "items": matching,
            }),
        };
        Ok(self.format.respond(StatusCode::OK, &body))
    }

    fn watch(&self) -> Result<Response, ApiError> {
        let (labels, fields) = self.selectors()?;
        let timeout = match self.params.get("timeoutSeconds") {
            None | Some("") => None,
            Some(t) => Some(Duration::from_secs(t.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("invalid timeoutSeconds: {t}"))
            })?)),
        };
        watch::serve(
            self.store(),
            watch::WatchRequest {
                def: self.def(),
                version: self.target.version.to_owned(),
                namespace: self.target.namespace.map(str::to_owned),
                labels,
                fields,
                resource_version: self.params.get("resourceVersion").map(str::to_owned),
                timeout,
                bookmarks: self.params.flag("allowWatchBookmarks"),
                send_initial_events: self.params.flag("sendInitialEvents"),
                format: self.format,
            },
        )
    }

    fn parse_body(&self, body: &[u8]) -> Result<Value, ApiError> {
        decode_object(self.headers, body)
    }

    fn create(&self, body: &[u8]) -> Result<Response, ApiError> {
        let object = self.parse_body(body)?;
        self.create_object(object)
    }

    fn create_object(&self, object: Value) -> Result<Response, ApiError> {
        let def = self.def();
        let namespace = self.target.namespace();
        if def.namespaced && !objects::namespace_exists(self.store(), namespace) {
            return Err(ApiError::not_found(&resources::NAMESPACES, namespace));
        }
        let (key, object) =
            objects::prepare_create(def, self.target.version, namespace, object, &self.state.ips)?;
        if self.dry_run()? {
            if self.store().get(&key).is_some() {
                return Err(ApiError::already_exists(def, &key.name));
            }
            return self.respond_object(StatusCode::CREATED, &object);
        }
        let name = key.name.clone();
        let created = self
            .store()
            .create(key, object)
            .map_err(|e| objects::store_error(def, &name, e))?;
        self.respond_object(StatusCode::CREATED, &created)
    }

    /// Runs `change` on the live object (in the request's version) inside the store's atomic
    /// update, then restores what the main resource or the status subresource may not change.
    fn write<F>(&self, change: F) -> Result<Value, ApiError>
    where
        F: FnOnce(Value) -> Result<Value, ApiError>,
    {
        let def = self.def();
        let name = self.target.name();
        let version = self.target.version;
        let status_only = self.target.subresource == Some("status");
        let ips = &self.state.ips;
        let mut failure: Option<ApiError> = None;
        let compute = |current: &Value| -> Result<Value, ApiError> {
            let mut next = change(objects::versioned(def, version, current))?;
            if !next.is_object() {
                return Err(ApiError::patch_rejected());
            }
            if let Some(body_name) = objects::meta_str(&next, "name") {
                if body_name != name {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({body_name}) does not match the name on the URL ({name})"
                    )));
                }
            }
            let map = next.as_object_mut().ok_or_else(ApiError::patch_rejected)?;
            map.insert(
                "apiVersion".into(),
                json!(def.api_version(def.storage_version())),
            );
            map.insert("kind".into(), json!(def.kind));
            if status_only {
                // Only the status changes through /status.
                let mut out = current.clone();
                if let Some(out_map) = out.as_object_mut() {
                    match next.get("status") {
                        Some(s) => out_map.insert("status".into(), s.clone()),
                        None => out_map.remove("status"),
                    };
                    if let Some(rv) = objects::meta_str(&next, "resourceVersion") {
                        if let Some(meta) = objects::metadata_mut(&mut out) {
                            meta.insert("resourceVersion".into(), json!(rv));
                        }
                    }
                }
                return Ok(out);
            }
            if def.custom {
                // The main resource cannot change the status subresource.
                match current.get("status") {
                    Some(s) => map.insert("status".into(), s.clone()),
                    None => map.remove("status"),
                };
            }
            objects::apply_defaults(def, name, &mut next, Some(current), ips);
            Ok(next)
        };
        if self.dry_run()? {
            let current = self
                .store()
                .get(&self.target.key())
                .ok_or_else(|| ApiError::not_found(def, name))?;
            let next = compute(&current)?;
            if let Some(rv) = objects::meta_str(&next, "resourceVersion") {
                if Some(rv) != objects::meta_str(&current, "resourceVersion") {
                    return Err(ApiError::conflict(def, name));
                }
            }
            return Ok(next);
        }
        let result = self.store().update(&self.target.key(), |current| {
            compute(current).map_err(|e| {
                failure = Some(e);
                StoreError::Rejected(String::new())
            })
        });
        match result {
            Ok(object) => Ok((*object).clone()),
            Err(StoreError::Rejected(_)) => {
                Err(failure.unwrap_or_else(|| ApiError::internal("update rejected")))
            }
            Err(e) => Err(objects::store_error(def, name, e)),
        }
    }

    fn update(&self, body: &[u8]) -> Result<Response, ApiError> {
        let def = self.def();
        let name = self.target.name();
        let mut object = self.parse_body(body)?;
        objects::check_type(def, self.target.version, &mut object)?;
        match objects::meta_str(&object, "name") {
            Some(n) if n != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )))
            }
            Some(_) => {}
            None => {
                return Err(ApiError::name_required(def));
            }
        }
        if let Some(ns) = objects::meta_str(&object, "namespace") {
            if def.namespaced && ns != self.target.namespace() {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let has_rv = objects::meta_str(&object, "resourceVersion").is_some();
        if !has_rv && def.custom {
            // Custom resources do not allow unconditional updates. The store check below happens
            // after the existence check, as in the API server.
            if self.store().get(&self.target.key()).is_none() {
                return Err(ApiError::not_found(def, name));
            }
            return Err(ApiError::resource_version_required(def, name));
        }
        let updated = self.write(move |_current| Ok(object))?;
        self.respond_object(StatusCode::OK, &updated)
    }

    fn patch(&self, body: &[u8]) -> Result<Response, ApiError> {
        let def = self.def();
        let content_type = media_type(self.headers);
        let is_apply = content_type == "application/apply-patch+yaml";
        if self.params.flag("force") && !is_apply {
            return Err(ApiError::invalid_options(
                "force",
                "Forbidden: may not be specified for non-apply patch",
            ));
        }
        match content_type.as_str() {
            "application/json-patch+json" => {
                let ops = patch::parse_json_patch(body).map_err(ApiError::bad_request)?;
                if ops.len() > MAX_JSON_PATCH_OPS {
                    return Err(ApiError {
                        code: 413,
                        reason: "RequestEntityTooLarge",
                        message: format!(
                            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPS}, got {}",
                            ops.len()
                        ),
                        details: Some(json!({})),
                    });
                }
                let updated = self.write(|mut doc| {
                    patch::apply_json_patch(&mut doc, &ops)
                        .map_err(|_| ApiError::patch_rejected())?;
                    Ok(doc)
                })?;
                self.respond_object(StatusCode::OK, &updated)
            }
            "application/merge-patch+json" => {
                let patch_doc = parse_patch_json(body)?;
                let updated = self.write(|mut doc| {
                    patch::apply_merge_patch(&mut doc, &patch_doc);
                    Ok(doc)
                })?;
                self.respond_object(StatusCode::OK, &updated)
            }
            "application/strategic-merge-patch+json" if !def.custom => {
                let patch_doc = parse_patch_json(body)?;
                let updated = self.write(|mut doc| {
                    patch::apply_strategic_merge(&mut doc, &patch_doc);
                    Ok(doc)
                })?;
                self.respond_object(StatusCode::OK, &updated)
            }
            "application/apply-patch+yaml" => self.apply(body),
            _ => {
                let mut accepted = vec![
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                ];
                if !def.custom {
                    accepted.push("application/strategic-merge-patch+json");
                }
                Err(ApiError::unsupported_media_type(&accepted))
            }
        }
    }

    /// Server-side apply: creates the object if absent, else sets the applied fields.
    fn apply(&self, body: &[u8]) -> Result<Response, ApiError> {
        let def = self.def();
        let manager = self.params.get("fieldManager").unwrap_or("");
        if manager.is_empty() {
            return Err(ApiError::invalid_options(
                "fieldManager",
                "Required value: is required for apply patch",
            ));
        }
        if manager.len() > 128 {
            return Err(ApiError::invalid_options(
                "fieldManager",
                "Too long: may not be more than 128 bytes",
            ));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("error decoding YAML: body is not UTF-8"))?;
        let mut applied: Value = serde_yaml::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        if !applied.is_object() {
            return Err(ApiError::bad_request(
                "error decoding YAML: the apply configuration must be an object",
            ));
        }
        let name = self.target.name();
        let given_type = |field: &str| {
            applied
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if given_type("apiVersion").is_none() || given_type("kind").is_none() {
            return Err(ApiError::bad_request(
                "apply configuration must include apiVersion and kind",
            ));
        }
        objects::check_type(def, self.target.version, &mut applied)?;
        match objects::meta_str(&applied, "name") {
            Some(n) if n != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )))
            }
            _ => {
                if let Some(meta) = objects::metadata_mut(&mut applied) {
                    meta.insert("name".into(), json!(name));
                }
            }
        }
        if self.store().get(&self.target.key()).is_none() {
            if self.target.subresource.is_some() {
                return Err(ApiError::not_found(def, name));
            }
            match self.create_object(applied.clone()) {
                // Lost a race with another creator: apply onto what they made.
                Err(e) if e.reason == "AlreadyExists" => {}
                other => return other,
            }
        }
        let updated = self.write(|mut doc| {
            patch::apply_configuration(&mut doc, &applied);
            Ok(doc)
        })?;
        self.respond_object(StatusCode::OK, &updated)
    }

    fn delete(&self, body: &[u8]) -> Result<Response, ApiError> {
        let def = self.def();
        let name = self.target.name();
        let key = self.target.key();
        // DeleteOptions may carry preconditions on uid and resourceVersion.
        let options: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
        };
        let precondition = |field: &str| {
            options
                .pointer(&format!("/preconditions/{field}"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (want_uid, want_rv) = (precondition("uid"), precondition("resourceVersion"));
        let check = |current: &Value| -> Result<(), ApiError> {
            for (field, want) in [("UID", &want_uid), ("ResourceVersion", &want_rv)] {
                let meta_field = if field == "UID" {
                    "uid"
                } else {
                    "resourceVersion"
                };
                if let Some(want) = want {
                    let have = objects::meta_str(current, meta_field).unwrap_or("");
                    if have != want {
                        return Err(ApiError::conflict(def, name).with_message(format!(
                            "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {field} in precondition: {want}, {field} in object meta: {have}",
                            def.qualified_resource()
                        )));
                    }
                }
            }
            Ok(())
        };
        if self.dry_run()? {
            let current = self
                .store()
                .get(&key)
                .ok_or_else(|| ApiError::not_found(def, name))?;
            check(&current)?;
            return self.deleted_response(&current);
        }
        let mut failure = None;
        let deleted = self
            .store()
            .delete_if(&key, |current| {
                check(current).map_err(|e| {
                    failure = Some(e);
                    StoreError::Rejected(String::new())
                })
            })
            .map_err(|e| match e {
                StoreError::Rejected(_) => failure
                    .take()
                    .unwrap_or_else(|| ApiError::internal("delete rejected")),
                e => objects::store_error(def, name, e),
            })?;
        if def.plural == "namespaces" {
            // Namespace deletion removes everything in it (immediately, where a real cluster
            // finalizes asynchronously).
            for nested in resources::ALL.iter().filter(|d| d.namespaced && !d.review) {
                let (items, _) = self.store().list(&nested.qualified_resource(), Some(name));
                for item in items {
                    if let Some(item_name) = objects::meta_str(&item, "name") {
                        let _ = self.store().delete(&objects::key(nested, name, item_name));
                    }
                }
            }
        }
        self.deleted_response(&deleted)
    }

    fn deleted_response(&self, deleted: &Value) -> Result<Response, ApiError> {
        let def = self.def();
        if def.delete_returns_object {
            let mut object = deleted.clone();
            if def.plural == "namespaces" {
                object["status"] = json!({"phase": "Terminating"});
            }
            return self.respond_object(StatusCode::OK, &object);
        }
        let uid = objects::meta_str(deleted, "uid").unwrap_or("");
        Ok(super::json_response(
            StatusCode::OK,
            &status::delete_success(def, self.target.name(), uid),
        ))
    }

    fn delete_collection(&self) -> Result<Response, ApiError> {
        let def = self.def();
        let (labels, fields) = self.selectors()?;
        let (items, _) = self
            .store()
            .list(&def.qualified_resource(), self.target.namespace);
        let mut deleted = Vec::new();
        for item in items
            .iter()
            .filter(|o| labels.matches_object(o) && fields.matches(o))
        {
            let ns = objects::meta_str(item, "namespace").unwrap_or("");
            let Some(name) = objects::meta_str(item, "name") else {
                continue;
            };
            if self.dry_run()? {
                deleted.push((**item).clone());
            } else if let Ok(gone) = self.store().delete(&objects::key(def, ns, name)) {
                deleted.push((*gone).clone());
            }
        }
        let items: Vec<Value> = deleted
            .iter()
            .map(|o| objects::versioned(def, self.target.version, o))
            .collect();
        Ok(super::json_response(
            StatusCode::OK,
            &json!({
                "kind": def.list_kind(),
                "apiVersion": def.api_version(self.target.version),
                "metadata": {"resourceVersion": self.store().current_rv().to_string()},
                "items": items,
            }),
        ))
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

fn parse_patch_json(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::patch_rejected());
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

fn position(object: &Value) -> (String, String) {
    (
        objects::meta_str(object, "namespace")
            .unwrap_or("")
            .to_owned(),
        objects::meta_str(object, "name").unwrap_or("").to_owned(),
    )
}

fn encode_continue((ns, name): &(String, String)) -> String {
    format!("{ns}\0{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Option<(String, String)> {
    if !token.len().is_multiple_of(2) || token.len() > 1024 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (ns, name) = text.split_once('\0')?;
    Some((ns.to_owned(), name.to_owned()))
}

/// SelfSubjectReview: who the (possibly impersonated) caller is, as `kubectl auth whoami` asks.
fn self_subject_review(identity: &Identity, mut review: Value) -> Response {
    let status = json!({"userInfo": {"username": identity.user, "groups": identity.groups}});
    if let Some(map) = review.as_object_mut() {
        map.insert("apiVersion".into(), json!("authentication.k8s.io/v1"));
        map.insert("kind".into(), json!("SelfSubjectReview"));
        map.entry("metadata")
            .or_insert_with(|| json!({"creationTimestamp": null}));
        map.insert("status".into(), status);
    } else {
        review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
            "metadata": {"creationTimestamp": null}, "status": status});
    }
    super::json_response(StatusCode::CREATED, &review)
}

/// SelfSubjectAccessReview: answers for the (possibly impersonated) caller from the RBAC table.
fn self_subject_access_review(
    identity: &Identity,
    mut review: Value,
) -> Result<Response, ApiError> {
    let spec = review
        .get("spec")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("spec is required"))?;
    let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
    let decision = if let Some(attrs) = spec.get("resourceAttributes") {
        let resource = match text(attrs, "subresource").as_str() {
            "" => text(attrs, "resource"),
            sub => format!("{}/{sub}", text(attrs, "resource")),
        };
        auth::authorize(
            identity,
            &Attributes {
                verb: &text(attrs, "verb"),
                group: &text(attrs, "group"),
                resource: &resource,
                namespace: &text(attrs, "namespace"),
            },
        )
    } else if let Some(attrs) = spec.get("nonResourceAttributes") {
        // Discovery and health endpoints are readable by every authenticated user.
        let allowed =
            text(attrs, "verb") == "get" || identity.groups.iter().any(|g| g == "system:masters");
        auth::Decision {
            allowed,
            reason: String::new(),
        }
    } else {
        return Err(ApiError::invalid(
            "SelfSubjectAccessReview.authorization.k8s.io",
            "SelfSubjectAccessReview",
            "authorization.k8s.io",
            "",
            "spec.resourceAttributes",
            "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
            "FieldValueInvalid",
        ));
    };
    let mut status = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        status["reason"] = json!(decision.reason);
    }
    if let Some(map) = review.as_object_mut() {
        map.insert("apiVersion".into(), json!("authorization.k8s.io/v1"));
        map.insert("kind".into(), json!("SelfSubjectAccessReview"));
        map.entry("metadata")
            .or_insert_with(|| json!({"creationTimestamp": null}));
        map.insert("status".into(), status);
    }
    Ok(super::json_response(StatusCode::CREATED, &review))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let pos = ("hands-on".to_owned(), "review".to_owned());
        assert_eq!(decode_continue(&encode_continue(&pos)), Some(pos));
        assert_eq!(decode_continue("zz"), None);
        assert_eq!(decode_continue("abc"), None);
    }

    #[test]
    fn paths_parse() {
        let t = Target::parse(&[
            "apis",
            "networking.istio.io",
            "v1beta1",
            "namespaces",
            "ns",
            "virtualservices",
            "r",
        ])
        .unwrap();
        assert_eq!(
            (t.def.plural, t.version, t.namespace, t.name),
            ("virtualservices", "v1beta1", Some("ns"), Some("r"))
        );
        let t = Target::parse(&["api", "v1", "namespaces", "ns"]).unwrap();
        assert_eq!(
            (t.def.plural, t.namespace, t.name),
            ("namespaces", None, Some("ns"))
        );
        let t = Target::parse(&["api", "v1", "namespaces", "ns", "status"]).unwrap();
        assert_eq!(
            (t.def.plural, t.name, t.subresource),
            ("namespaces", Some("ns"), Some("status"))
        );
        let t = Target::parse(&["api", "v1", "pods"]).unwrap();
        assert_eq!((t.def.plural, t.namespace), ("pods", None));
        for bad in [
            &["api", "v2", "pods"][..],
            &["apis", "networking.istio.io", "v1alpha3", "virtualservices"],
            &["api", "v1", "nodes"],
            &["api", "v1", "pods", "p"],
            &["api", "v1", "namespaces", "ns", "pods", "p", "log"],
            &["api", "v1", "namespaces", "ns", "namespaces", "x"],
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?}");
        }
    }
}
