//! SelfSubjectReview and SelfSubjectAccessReview: who the caller is and what the RBAC table lets
//! them do, as `kubectl auth whoami` and `kubectl auth can-i` ask.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::auth::{self, Attributes, Identity};
use crate::api::status::ApiError;

/// SelfSubjectReview: who the (possibly impersonated) caller is, as `kubectl auth whoami` asks.
/// The answer is a new object (the API server keeps nothing of the request's metadata), stamped
/// with the time it was made.
pub(super) fn self_subject_review(identity: &Identity) -> Response {
    let mut user_info = json!({"username": identity.user});
    if !identity.uid.is_empty() {
        user_info["uid"] = json!(identity.uid);
    }
    user_info["groups"] = json!(identity.groups);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let review = json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": now},
        "status": {"userInfo": user_info},
    });
    crate::api::json_response(StatusCode::CREATED, &review)
}

/// SelfSubjectAccessReview: answers for the (possibly impersonated) caller from the RBAC table.
pub(super) fn self_subject_access_review(
    identity: &Identity,
    mut review: Value,
) -> Result<Response, ApiError> {
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
    let present = |field: &str| spec.get(field).filter(|v| !v.is_null());
    let decision = match (
        present("resourceAttributes"),
        present("nonResourceAttributes"),
    ) {
        (Some(attrs), None) => {
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
        }
        (None, Some(attrs)) => {
            // Discovery and health endpoints are readable by every authenticated user.
            let allowed = text(attrs, "verb") == "get"
                || identity.groups.iter().any(|g| g == "system:masters");
            auth::Decision {
                allowed,
                reason: String::new(),
            }
        }
        (_, non_resource) => {
            // The API server validates the internal type, whose kind is still empty (hence
            // `.authorization.k8s.io ""`), and prints the nonResourceAttributes it found as Go
            // marshals the internal struct (capitalised fields), or null.
            let found = match non_resource {
                Some(attrs) => {
                    json!({"Path": text(attrs, "path"), "Verb": text(attrs, "verb")}).to_string()
                }
                None => "null".to_owned(),
            };
            return Err(ApiError::invalid(
                ".authorization.k8s.io",
                "",
                "authorization.k8s.io",
                "",
                "spec",
                &format!(
                    "Invalid value: {found}: exactly one of nonResourceAttributes or resourceAttributes must be specified"
                ),
                "FieldValueInvalid",
            ));
        }
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
