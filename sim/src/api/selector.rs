//! Label and field selectors as list and watch take them (`?labelSelector=app=x,version in (v1,v2)`).
//!
//! Matching uses kube-core's `Expression`; kube-core has no parser for the string form (clients only
//! ever print it), so the small grammar of apimachinery's `labels.Parse` is written out here.

use kube_core::{Expression, SelectorExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::resources::ResourceDef;

/// One parsed requirement. `Gt`/`Lt` are the numeric operators kube-core does not model.
#[derive(Clone, Debug, PartialEq)]
pub enum Requirement {
    Expr(Expression),
    Gt(String, i64),
    Lt(String, i64),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses the query-string form. Errors carry a sentence for a 400 response.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(input)? {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|req| match req {
            Requirement::Expr(expr) => expr.matches(labels),
            Requirement::Gt(key, n) => numeric_label(labels, key).is_some_and(|v| v > *n),
            Requirement::Lt(key, n) => numeric_label(labels, key).is_some_and(|v| v < *n),
        })
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.is_empty() || self.matches(&labels_of(object))
    }
}

fn numeric_label(labels: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    labels.get(key).and_then(|v| v.parse().ok())
}

/// An object's `metadata.labels` as a map (non-string values are ignored, as they cannot occur in
/// a valid object).
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Splits on commas that are not inside `( … )`.
fn split_top_level(input: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    format!("unable to parse requirement: unexpected ')' in {input:?}")
                })?
            }
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!(
            "unable to parse requirement: unclosed '(' in {input:?}"
        ));
    }
    parts.push(&input[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        validate_key(key)?;
        return Ok(Requirement::Expr(Expression::DoesNotExist(key.to_owned())));
    }
    // Order matters: two-character operators before their one-character prefixes.
    for (op, build) in [
        ("!=", Op::NotEqual),
        ("==", Op::Equal),
        ("=", Op::Equal),
        (">", Op::Gt),
        ("<", Op::Lt),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            let key = key.trim();
            let value = value.trim();
            validate_key(key)?;
            return match build {
                Op::Equal => {
                    validate_value(value)?;
                    Ok(Requirement::Expr(Expression::Equal(
                        key.into(),
                        value.into(),
                    )))
                }
                Op::NotEqual => {
                    validate_value(value)?;
                    Ok(Requirement::Expr(Expression::NotEqual(
                        key.into(),
                        value.into(),
                    )))
                }
                Op::Gt | Op::Lt => {
                    let n: i64 = value.parse().map_err(|_| {
                        format!("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {value:?}")
                    })?;
                    Ok(if build == Op::Gt {
                        Requirement::Gt(key.into(), n)
                    } else {
                        Requirement::Lt(key.into(), n)
                    })
                }
            };
        }
    }
    // `key in (a,b)` / `key notin (a,b)` / bare `key`.
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default().trim();
    let rest = words.next().unwrap_or_default().trim();
    validate_key(key)?;
    if rest.is_empty() {
        return Ok(Requirement::Expr(Expression::Exists(key.to_owned())));
    }
    let (negate, set) = if let Some(set) = rest.strip_prefix("notin") {
        (true, set)
    } else if let Some(set) = rest.strip_prefix("in") {
        (false, set)
    } else {
        return Err(format!(
            "unable to parse requirement: found '{rest}', expected: in, notin, =, ==, !=, gt, lt"
        ));
    };
    let set = set.trim();
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("unable to parse requirement: found '{set}', expected: '('"))?;
    let mut values = BTreeSet::new();
    for value in inner.split(',') {
        let value = value.trim();
        validate_value(value)?;
        values.insert(value.to_owned());
    }
    Ok(Requirement::Expr(if negate {
        Expression::NotIn(key.into(), values)
    } else {
        Expression::In(key.into(), values)
    }))
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Equal,
    NotEqual,
    Gt,
    Lt,
}

/// Label keys: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters of
/// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
fn validate_key(key: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            let prefix_ok = !prefix.is_empty()
                && prefix.len() <= 253
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !prefix_ok {
                return Err(format!(
                    "unable to parse requirement: invalid label key {key:?}"
                ));
            }
            name
        }
        None => key,
    };
    if name.is_empty() || !is_label_token(name) {
        return Err(format!(
            "unable to parse requirement: invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_token(value) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn is_label_token(s: &str) -> bool {
    s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A parsed `fieldSelector`: `field=value`, `field==value`, `field!=value`, comma-joined.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses and checks the fields against what `def` supports (`metadata.name`,
    /// `metadata.namespace`, plus the few per-type fields the API server indexes).
    pub fn parse(input: &str, def: &ResourceDef) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in input.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !supported_fields(def).contains(&field) {
                return Err(unsupported(def, field));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(FieldSelector(terms))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            // Events index `source` as the reporting component.
            let pointer = match field.as_str() {
                "source" => "/source/component".to_owned(),
                other => format!("/{}", other.replace('.', "/")),
            };
            let actual = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

/// The refusal of a field the type does not index. Types with their own field label conversion
/// (core types with indexed fields, and custom resources) and types with only the default one
/// (apps, RBAC, ServiceAccounts) word it differently.
fn unsupported(def: &ResourceDef, field: &str) -> String {
    let own_conversion = def.custom
        || (def.group.is_empty()
            && matches!(def.plural, "pods" | "events" | "namespaces" | "services"));
    if own_conversion {
        format!("field label not supported: {field}")
    } else {
        format!("{field:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
    }
}

fn supported_fields(def: &ResourceDef) -> Vec<&'static str> {
    let mut fields = vec!["metadata.name", "metadata.namespace"];
    match (def.group, def.plural) {
        ("", "pods") => fields.extend([
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]),
        ("", "services") => fields.extend(["spec.clusterIP", "spec.type"]),
        ("", "events") => fields.extend([
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ]),
        ("", "namespaces") => fields.push("status.phase"),
        _ => {}
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::{EVENTS, VIRTUAL_SERVICES};
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_table() {
        let l = labels(&[("app", "review"), ("version", "v2"), ("tier", "3")]);
        let cases = [
            ("", true),
            ("app=review", true),
            ("app==review", true),
            ("app=product", false),
            ("app!=product", true),
            ("missing!=x", true),
            ("app=review,version=v2", true),
            ("app=review,version=v1", false),
            ("version in (v1,v2)", true),
            ("version in (v1, v3)", false),
            ("version notin (v1)", true),
            ("missing notin (v1)", true),
            ("app in (review),version notin (v2)", false),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("tier>2", true),
            ("tier<3", false),
            ("example.com/owner!=me", true),
        ];
        for (input, want) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(sel.matches(&l), want, "{input}");
        }
    }

    #[test]
    fn label_selector_rejects_garbage() {
        for input in [
            "app in (a",
            "app)",
            "app in a",
            "a b c",
            "=x",
            "app=a b",
            "-bad=x",
            "tier>x",
            "app between (a)",
        ] {
            assert!(LabelSelector::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn field_selector_names_and_namespaces() {
        let obj = json!({"metadata": {"name": "review", "namespace": "hands-on"}});
        let sel = FieldSelector::parse("metadata.name=review", &VIRTUAL_SERVICES).unwrap();
        assert!(sel.matches(&obj));
        let sel = FieldSelector::parse("metadata.namespace!=hands-on", &VIRTUAL_SERVICES).unwrap();
        assert!(!sel.matches(&obj));
        assert!(FieldSelector::parse("spec.hosts=x", &VIRTUAL_SERVICES).is_err());
        assert!(FieldSelector::parse("garbage", &VIRTUAL_SERVICES).is_err());
        let ev = json!({"involvedObject": {"name": "p", "uid": "u"}});
        let sel =
            FieldSelector::parse("involvedObject.name=p,involvedObject.uid=u", &EVENTS).unwrap();
        assert!(sel.matches(&ev));
    }
}
