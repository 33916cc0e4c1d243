//! `metav1.Status` errors as the Kubernetes API server writes them: reason, code, message templates
//! and details copied from apimachinery's `errors.go`, so clients (kubectl, kube-rs) react to them
//! exactly as they would to a real cluster.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::resources::ResourceDef;

/// A failed API request, rendered as a `Status` object with the matching HTTP code.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `None` leaves `details` out (as for Unauthorized and BadRequest); `Some({})` writes `{}`.
    pub details: Option<Value>,
}

/// `details` naming one object: `{name, group, kind}` where kind is the resource plural, and group is
/// left out for the core group (as the API server does).
fn object_details(def: &ResourceDef, name: &str) -> Value {
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    if !def.group.is_empty() {
        details.insert("group".into(), json!(def.group));
    }
    details.insert("kind".into(), json!(def.plural));
    Value::Object(details)
}

/// `"name"` quoted as Go's `%q` does it; names are validated DNS labels, but a URL can carry
/// anything, so escape what JSON would.
fn quote(name: &str) -> String {
    serde_json::to_string(name).unwrap_or_else(|_| format!("\"{name}\""))
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// `virtualservices.networking.istio.io "reviews" not found`
    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            details: Some(object_details(def, name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} {} not found", def.qualified_resource(), quote(name)),
            )
        }
    }

    /// An unknown path or resource type.
    pub fn no_such_path() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            details: Some(object_details(def, name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!(
                    "{} {} already exists",
                    def.qualified_resource(),
                    quote(name)
                ),
            )
        }
    }

    pub fn conflict(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            details: Some(object_details(def, name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} {}: the object has been modified; please apply your changes to the latest version and try again",
                    def.qualified_resource(),
                    quote(name)
                ),
            )
        }
    }

    /// `<qualified kind> "name" is invalid: field: detail` with one cause; `qualified` is what the
    /// API server passes as GroupKind (the Kind for validation errors, the resource for some store
    /// checks).
    pub fn invalid(
        qualified: &str,
        details_kind: &str,
        group: &str,
        name: &str,
        field: &str,
        detail: &str,
        cause_reason: &str,
    ) -> Self {
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        if !details_kind.is_empty() {
            details.insert("kind".into(), json!(details_kind));
        }
        details.insert(
            "causes".into(),
            json!([{"reason": cause_reason, "message": detail, "field": field}]),
        );
        ApiError {
            details: Some(Value::Object(details)),
            ..Self::new(
                422,
                "Invalid",
                format!(
                    "{} {} is invalid: {}: {}",
                    qualified,
                    quote(name),
                    field,
                    detail
                ),
            )
        }
    }

    /// A list or watch whose options do not go together: `ListOptions.meta.k8s.io "" is invalid:
    /// field: detail`, or `[field: detail, field: detail]` with one cause each when there are
    /// several. `causes` are `(field, detail, cause reason)`; it must not be empty.
    pub fn invalid_list_options(causes: &[(&str, String, &str)]) -> Self {
        let texts: Vec<String> = causes
            .iter()
            .map(|(field, detail, _)| format!("{field}: {detail}"))
            .collect();
        let text = match texts.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|(field, detail, reason)| {
                json!({"reason": reason, "message": detail, "field": field})
            })
            .collect();
        ApiError {
            details: Some(json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": causes})),
            ..Self::new(
                422,
                "Invalid",
                format!("ListOptions.meta.k8s.io \"\" is invalid: {text}"),
            )
        }
    }

    /// PUT without `metadata.resourceVersion` on a resource that does not allow unconditional
    /// updates (custom resources).
    pub fn resource_version_required(def: &ResourceDef, name: &str) -> Self {
        Self::invalid(
            &def.qualified_resource(),
            def.plural,
            def.group,
            name,
            "metadata.resourceVersion",
            "Invalid value: 0: must be specified for an update",
            "FieldValueInvalid",
        )
    }

    /// Create without a name.
    pub fn name_required(def: &ResourceDef) -> Self {
        Self::invalid(
            &def.qualified_kind(),
            def.kind,
            def.group,
            "",
            "metadata.name",
            "Required value: name or generateName is required",
            "FieldValueRequired",
        )
    }

    /// What the API server answers for any JSON-patch (and most patch) apply-time failure: the
    /// library's detailed text is dropped.
    pub fn patch_rejected() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            )
        }
    }

    /// 403 for a resource request. `name` may be empty (collections), `namespace` empty for
    /// cluster scope.
    pub fn forbidden(
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        // A subresource (`releaseplans/status`) is named whole in the authorizer's sentence, but
        // the object is its resource's (`releaseplans.switchyard.dev "x"`), as kube-apiserver says.
        let base = resource.split('/').next().unwrap_or(resource);
        let qualified = if group.is_empty() {
            base.to_owned()
        } else {
            format!("{base}.{group}")
        };
        let subject = if name.is_empty() {
            format!("{qualified} is forbidden")
        } else {
            format!("{qualified} {} is forbidden", quote(name))
        };
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_owned()
        } else {
            format!("in the namespace {}", quote(namespace))
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        details.insert("kind".into(), json!(base));
        ApiError {
            details: Some(Value::Object(details)),
            ..Self::new(
                403,
                "Forbidden",
                format!(
                    "{subject}: User {} cannot {verb} resource {} in API group {} {scope}",
                    quote(user),
                    quote(resource),
                    quote(group)
                ),
            )
        }
    }

    /// 403 for a non-resource URL such as `/openapi/v3`.
    pub fn forbidden_path(user: &str, verb: &str, path: &str) -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                403,
                "Forbidden",
                format!(
                    "forbidden: User {} cannot {verb} path {}",
                    quote(user),
                    quote(path)
                ),
            )
        }
    }

    /// A bad query option (`PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: …`).
    pub fn invalid_options(field: &str, detail: &str) -> Self {
        let cause = if detail.starts_with("Required") {
            "FieldValueRequired"
        } else if detail.starts_with("Forbidden") {
            "FieldValueForbidden"
        } else if detail.starts_with("Too long") {
            "FieldValueTooLong"
        } else {
            "FieldValueInvalid"
        };
        Self::invalid(
            "PatchOptions.meta.k8s.io",
            "PatchOptions",
            "meta.k8s.io",
            "",
            field,
            detail,
            cause,
        )
    }

    /// The same error with another message.
    pub fn with_message(self, message: String) -> Self {
        ApiError { message, ..self }
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 415 for a body or patch type the resource does not take. The API server writes no
    /// `details` here (unlike most of its errors).
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        ApiError {
            details: None,
            ..Self::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: {}",
                    accepted.join(", ")
                ),
            )
        }
    }

    pub fn method_not_allowed() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// A read at a resourceVersion the server has not reached (it waits a moment first).
    pub fn resource_version_too_large(requested: u64, current: u64) -> Self {
        ApiError {
            details: Some(json!({
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            })),
            ..Self::new(
                504,
                "Timeout",
                format!("Timeout: Too large resource version: {requested}, current: {current}"),
            )
        }
    }

    pub fn too_large() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                413,
                "RequestEntityTooLarge",
                "Request entity too large: limit is 3145728",
            )
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(500, "InternalError", message)
        }
    }

    /// The `Status` object as JSON.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(details), Some(map)) = (&self.details, status.as_object_mut()) {
            map.insert("details".into(), details.clone());
        }
        status
    }
}

/// `Status{status: Success}` as returned by DELETE for resources that do not return the object.
pub fn delete_success(def: &ResourceDef, name: &str, uid: &str) -> Value {
    let mut details = object_details(def, name);
    if let Some(map) = details.as_object_mut() {
        map.insert("uid".into(), json!(uid));
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        super::json_response(code, &self.to_status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::{by_plural, VIRTUAL_SERVICES};

    #[test]
    fn not_found_matches_apimachinery() {
        let err = ApiError::not_found(&VIRTUAL_SERVICES, "reviews");
        assert_eq!(
            err.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"virtualservices.networking.istio.io \"reviews\" not found",
                   "reason":"NotFound",
                   "details":{"name":"reviews","group":"networking.istio.io","kind":"virtualservices"},
                   "code":404})
        );
    }

    #[test]
    fn core_resources_have_no_group() {
        let pods = by_plural("", "pods").unwrap();
        let err = ApiError::already_exists(pods, "p");
        assert_eq!(err.message, "pods \"p\" already exists");
        assert_eq!(err.details, Some(json!({"name":"p","kind":"pods"})));
    }

    #[test]
    fn conflict_and_invalid_messages() {
        assert_eq!(
            ApiError::conflict(&VIRTUAL_SERVICES, "reviews").message,
            "Operation cannot be fulfilled on virtualservices.networking.istio.io \"reviews\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let err = ApiError::resource_version_required(&VIRTUAL_SERVICES, "reviews");
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "virtualservices.networking.istio.io \"reviews\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"
        );
        assert_eq!(
            err.details.unwrap()["causes"][0]["field"],
            "metadata.resourceVersion"
        );
    }

    #[test]
    fn forbidden_messages_name_scope() {
        let err = ApiError::forbidden(
            "jane",
            "patch",
            "networking.istio.io",
            "virtualservices",
            "bookinfo",
            "reviews",
        );
        assert_eq!(
            err.message,
            "virtualservices.networking.istio.io \"reviews\" is forbidden: User \"jane\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"bookinfo\""
        );
        let err = ApiError::forbidden("x", "impersonate", "", "users", "", "jane");
        assert_eq!(
            err.message,
            "users \"jane\" is forbidden: User \"x\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
        );
        let err = ApiError::forbidden("x", "list", "", "pods", "ns", "");
        assert_eq!(
            err.message,
            "pods is forbidden: User \"x\" cannot list resource \"pods\" in API group \"\" in the namespace \"ns\""
        );
    }

    #[test]
    fn unauthorized_has_no_details() {
        let status = ApiError::unauthorized().to_status();
        assert_eq!(status["code"], 401);
        assert!(status.get("details").is_none());
    }
}
