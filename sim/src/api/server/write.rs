//! The write verbs: create, update, patch (JSON, merge, strategic merge, server-side apply),
//! delete and deletecollection, with dry runs and preconditions.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{decode_object, media_type, Ctx};
use crate::api::objects;
use crate::api::patch::{self, MAX_JSON_PATCH_OPS};
use crate::api::resources;
use crate::api::status::{self, ApiError};
use crate::store::StoreError;

impl Ctx<'_> {
    fn parse_body(&self, body: &[u8]) -> Result<Value, ApiError> {
        decode_object(self.headers, body)
    }

    pub(super) fn create(&self, body: &[u8]) -> Result<Response, ApiError> {
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
            objects::validate(def, name, &next)?;
            Ok(next)
        };
        if self.dry_run()? {
            let current = self
                .store()
                .get(&self.target.key())
                .ok_or_else(|| ApiError::not_found(def, name))?;
            // The object as the store would make it, but not stored.
            return crate::store::next_version(&current, compute(&current)?)
                .map_err(|e| objects::store_error(def, name, e));
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

    pub(super) fn update(&self, body: &[u8]) -> Result<Response, ApiError> {
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

    pub(super) fn patch(&self, body: &[u8]) -> Result<Response, ApiError> {
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
                let patch_doc = parse_patch_json(body, PatchKind::Merge)?;
                let updated = self.write(|mut doc| {
                    patch::apply_merge_patch(&mut doc, &patch_doc);
                    Ok(doc)
                })?;
                self.respond_object(StatusCode::OK, &updated)
            }
            "application/strategic-merge-patch+json" if !def.custom => {
                let patch_doc = parse_patch_json(body, PatchKind::StrategicMerge)?;
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

    pub(super) fn delete(&self, body: &[u8]) -> Result<Response, ApiError> {
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
        Ok(crate::api::json_response(
            StatusCode::OK,
            &status::delete_success(def, self.target.name(), uid),
        ))
    }

    pub(super) fn delete_collection(&self) -> Result<Response, ApiError> {
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
        Ok(crate::api::json_response(
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

/// Which patch decoder a body goes through: the two answer non-objects in their own words.
#[derive(Clone, Copy)]
enum PatchKind {
    Merge,
    StrategicMerge,
}

/// A merge or strategic merge patch body. Go's decoder unmarshals it into a
/// `map[string]interface {}`: anything but an object is a 400 naming the JSON type it found.
/// `null` decodes to no map at all: the merge patch handler calls that an invalid patch, the
/// strategic merge handler applies it as an empty patch.
fn parse_patch_json(body: &[u8], kind: PatchKind) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let found = match &value {
        Value::Object(_) => return Ok(value),
        Value::Null => {
            return match kind {
                PatchKind::Merge => Err(ApiError::bad_request("Invalid JSON Patch")),
                PatchKind::StrategicMerge => Ok(json!({})),
            }
        }
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
    };
    let unmarshal =
        format!("json: cannot unmarshal {found} into Go value of type map[string]interface {{}}");
    Err(ApiError::bad_request(match kind {
        PatchKind::Merge => format!("error decoding patch: {unmarshal}"),
        PatchKind::StrategicMerge => unmarshal,
    }))
}
