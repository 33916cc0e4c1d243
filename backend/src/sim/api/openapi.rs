//! OpenAPI documents (`/openapi/v2`, `/openapi/v3`), which kubectl reads for validation and
//! strategic-merge metadata.

use axum::http::Uri;
use serde_json::Value;

use super::status::ApiError;

/// The document at `/openapi/{rest}`.
pub fn document(_rest: &[&str], _uri: &Uri) -> Result<Value, ApiError> {
    Err(ApiError::no_such_path())
}
