//! The read verbs: get, list (selectors, pagination with continue tokens, tables, metadata) and
//! watch.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use std::time::Duration;

use super::Ctx;
use crate::api::status::ApiError;
use crate::api::{objects, table, watch, Format};

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

    pub(super) fn watch(&self) -> Result<Response, ApiError> {
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
}
