//! The read verbs: get, list (selectors, pagination with continue tokens, tables, metadata) and
//! watch.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use std::time::Duration;

use super::Ctx;
use crate::api::status::ApiError;
use crate::api::{objects, table, watch, Format};
use crate::store::StoreError;

impl Ctx<'_> {
    pub(super) fn get(&self) -> Result<Response, ApiError> {
        let object = self
            .store()
            .get(&self.target.key())
            .ok_or_else(|| ApiError::not_found(self.def(), self.target.name()))?;
        self.respond_object(StatusCode::OK, &object)
    }

    pub(super) fn list(&self) -> Result<Response, ApiError> {
        let (labels, fields) = self.selectors()?;
        let limit = parse_limit(self.params.get("limit"))?;
        self.check_list_options(false)?;
        let resource = self.def().qualified_resource();
        let (items, rv) = match self.params.get("resourceVersionMatch") {
            // The list as it was at that version, from the store's history.
            Some("Exact") => {
                let text = self.params.get("resourceVersion").unwrap_or("");
                let rv = text.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid resource version: resourceVersion: Invalid value: {text:?}: strconv.ParseUint: parsing {text:?}: invalid syntax"
                    ))
                })?;
                let items = self
                    .store()
                    .list_at(&resource, self.target.namespace, rv)
                    .map_err(|e| match e {
                        StoreError::Expired { .. } => ApiError::expired(
                            "The resourceVersion for the provided list is too old.",
                        ),
                        e => objects::store_error(self.def(), "", e),
                    })?;
                (items, rv)
            }
            _ => self.store().list(&resource, self.target.namespace),
        };
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

    pub(super) fn watch(&self) -> Result<Response, ApiError> {
        let (labels, fields) = self.selectors()?;
        let timeout = match self.params.get("timeoutSeconds") {
            None | Some("") => None,
            Some(t) => Some(Duration::from_secs(t.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("invalid timeoutSeconds: {t}"))
            })?)),
        };
        self.check_list_options(true)?;
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
                send_initial_events: self.params.optional_flag("sendInitialEvents"),
                format: self.format,
            },
        )
    }
}

/// `limit` as the API server reads it (Go's `strconv.ParseInt`): absent, zero or negative means
/// no limit; anything that is not a 64-bit integer (an empty value too) is a 400 in strconv's
/// words.
fn parse_limit(limit: Option<&str>) -> Result<Option<usize>, ApiError> {
    let Some(text) = limit else {
        return Ok(None);
    };
    let value = text.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        ApiError::bad_request(format!("strconv.ParseInt: parsing {text:?}: {why}"))
    })?;
    Ok(usize::try_from(value).ok().filter(|l| *l > 0))
}

impl Ctx<'_> {
    /// The API server's `ValidateListOptions`: which of `resourceVersion`, `resourceVersionMatch`,
    /// `continue` and `sendInitialEvents` go together, for a list and for a watch. Every rule
    /// broken is one cause of the 422.
    fn check_list_options(&self, watch: bool) -> Result<(), ApiError> {
        const MATCH: &str = "resourceVersionMatch";
        let forbidden =
            |field, text: &str| (field, format!("Forbidden: {text}"), "FieldValueForbidden");
        let unsupported = |value: &str, supported: &str| {
            (
                MATCH,
                format!("Unsupported value: {value:?}: supported values: {supported}"),
                "FieldValueNotSupported",
            )
        };
        let params = self.params;
        let rv_match = params.get(MATCH).unwrap_or("");
        let rv = params.get("resourceVersion").unwrap_or("");
        let has_continue = params.get("continue").is_some_and(|c| !c.is_empty());
        let initial_events = params.optional_flag("sendInitialEvents");
        let mut causes = Vec::new();
        if watch {
            if initial_events.is_some() && rv_match != "NotOlderThan" {
                causes.push(forbidden(
                    MATCH,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !rv_match.is_empty() {
                if initial_events.is_none() {
                    causes.push(forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if rv_match != "NotOlderThan" {
                    causes.push(unsupported(rv_match, "\"NotOlderThan\""));
                }
                if has_continue {
                    causes.push(forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
        } else {
            if !rv_match.is_empty() {
                if rv.is_empty() {
                    causes.push(forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    ));
                }
                if has_continue {
                    causes.push(forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
                if !matches!(rv_match, "Exact" | "NotOlderThan") {
                    causes.push(unsupported(rv_match, "\"Exact\", \"NotOlderThan\", \"\""));
                }
                if rv_match == "Exact" && rv == "0" {
                    causes.push(forbidden(
                        MATCH,
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                    ));
                }
            }
            if initial_events.is_some() {
                causes.push(forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for list",
                ));
            }
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_list_options(&causes))
        }
    }
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
    fn limits_parse_as_go_does() {
        assert_eq!(parse_limit(None).unwrap(), None);
        assert!(parse_limit(Some("")).is_err());
        assert_eq!(parse_limit(Some("0")).unwrap(), None);
        assert_eq!(parse_limit(Some("-1")).unwrap(), None);
        assert_eq!(parse_limit(Some("+2")).unwrap(), Some(2));
        assert_eq!(parse_limit(Some("500")).unwrap(), Some(500));
        let err = parse_limit(Some("abc")).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (400, r#"strconv.ParseInt: parsing "abc": invalid syntax"#)
        );
        let err = parse_limit(Some("99999999999999999999")).unwrap_err();
        assert!(
            err.message.ends_with("value out of range"),
            "{}",
            err.message
        );
    }
}
