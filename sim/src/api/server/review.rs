//! SelfSubjectReview and SelfSubjectAccessReview: who the caller is and what the RBAC table lets
//! them do, as `kubectl auth whoami` and `kubectl auth can-i` ask.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::auth::{self, Attributes, Identity};
use crate::api::status::ApiError;

/// SelfSubjectReview: who the (possibly impersonated) caller is, as `kubectl auth whoami` asks.
pub(super) fn self_subject_review(identity: &Identity, mut review: Value) -> Response {
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
    crate::api::json_response(StatusCode::CREATED, &review)
}

/// SelfSubjectAccessReview: answers for the (possibly impersonated) caller from the RBAC table.
pub(super) fn self_subject_access_review(
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
    Ok(crate::api::json_response(StatusCode::CREATED, &review))
}
