//! PATCH bodies applied the way kube-apiserver applies them.
//!
//! JSON Patch goes through the `json-patch` crate one operation at a time, after each operation is
//! rewritten for the quirks of evanphx/json-patch v4 (which kube-apiserver vendors) that RFC 6902
//! forbids and the crate therefore rejects: `replace` of a missing object member creates it,
//! negative array indices count from the end (`add` at `-1` appends), and `test` of a missing member
//! against `null` passes. Merge patch is RFC 7386 (`json_patch::merge`). Strategic merge patch for
//! built-in types is approximated (lists of objects with a `name` merge by name; `$patch`,
//! `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` directives are honoured or
//! dropped). Server-side apply sets the applied fields (lists are atomic, as for Istio's CRDs)
//! without tracking field managers.

use json_patch::jsonptr::{Pointer, PointerBuf};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation, TestOperation};
use serde_json::{Map, Value};

/// Why a JSON patch did not apply; the API server reports all of these as one generic 422.
#[derive(Debug, PartialEq)]
pub struct PatchFailed(pub String);

/// The most operations one JSON patch may carry (kube-apiserver's limit).
pub const MAX_JSON_PATCH_OPS: usize = 10_000;

/// Parses a JSON Patch body. Malformed input is a 400 in the caller.
pub fn parse_json_patch(body: &[u8]) -> Result<json_patch::Patch, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("error decoding patch: {e}"))?;
    serde_json::from_value(value).map_err(|e| format!("error decoding patch: {e}"))
}

/// Applies `patch` to `doc` atomically: on failure `doc` is unchanged.
pub fn apply_json_patch(doc: &mut Value, patch: &[PatchOperation]) -> Result<(), PatchFailed> {
    let mut work = doc.clone();
    for (i, op) in patch.iter().enumerate() {
        let op = k8s_quirks(&work, op).map_err(|e| PatchFailed(format!("operation {i}: {e}")))?;
        match op {
            Rewritten::Op(op) => json_patch::patch(&mut work, std::slice::from_ref(&op))
                .map_err(|e| PatchFailed(e.to_string()))?,
            Rewritten::Pass => {}
        }
    }
    *doc = work;
    Ok(())
}

enum Rewritten {
    Op(PatchOperation),
    /// The operation succeeds without changing anything (test of missing member against null).
    Pass,
}

/// Rewrites one operation so the strict RFC library behaves like evanphx/json-patch v4.
fn k8s_quirks(doc: &Value, op: &PatchOperation) -> Result<Rewritten, String> {
    Ok(match op {
        PatchOperation::Add(add) => Rewritten::Op(PatchOperation::Add(AddOperation {
            path: normalize(doc, &add.path, LastIndex::Insert)?,
            value: add.value.clone(),
        })),
        PatchOperation::Remove(rm) => {
            Rewritten::Op(PatchOperation::Remove(json_patch::RemoveOperation {
                path: normalize(doc, &rm.path, LastIndex::Existing)?,
            }))
        }
        PatchOperation::Replace(rep) => {
            let path = normalize(doc, &rep.path, LastIndex::Existing)?;
            let missing_member = doc.pointer(path.as_str()).is_none()
                && parent_of(doc, &path).is_some_and(Value::is_object);
            if missing_member {
                // evanphx v4: partialDoc.get never fails, so replace of an absent key sets it.
                Rewritten::Op(PatchOperation::Add(AddOperation {
                    path,
                    value: rep.value.clone(),
                }))
            } else {
                Rewritten::Op(PatchOperation::Replace(ReplaceOperation {
                    path,
                    value: rep.value.clone(),
                }))
            }
        }
        PatchOperation::Move(mv) => {
            Rewritten::Op(PatchOperation::Move(json_patch::MoveOperation {
                from: normalize(doc, &mv.from, LastIndex::Existing)?,
                path: normalize(doc, &mv.path, LastIndex::Insert)?,
            }))
        }
        PatchOperation::Copy(cp) => {
            Rewritten::Op(PatchOperation::Copy(json_patch::CopyOperation {
                from: normalize(doc, &cp.from, LastIndex::Existing)?,
                path: normalize(doc, &cp.path, LastIndex::Insert)?,
            }))
        }
        PatchOperation::Test(test) => {
            let path = normalize(doc, &test.path, LastIndex::Existing)?;
            let missing_member = doc.pointer(path.as_str()).is_none()
                && parent_of(doc, &path).is_some_and(Value::is_object);
            if missing_member && test.value.is_null() {
                Rewritten::Pass
            } else {
                Rewritten::Op(PatchOperation::Test(TestOperation {
                    path,
                    value: test.value.clone(),
                }))
            }
        }
    })
}

fn parent_of<'a>(doc: &'a Value, path: &Pointer) -> Option<&'a Value> {
    let (parent, _) = path.split_back()?;
    doc.pointer(parent.as_str())
}

#[derive(Clone, Copy, PartialEq)]
enum LastIndex {
    /// The last token names an insertion point (`add`): `-1` means "append".
    Insert,
    /// The last token names an existing element: `-1` means "the last one".
    Existing,
}

/// Replaces negative array indices along `path` with their positive equivalents, walking `doc`.
/// Tokens that do not address arrays are left alone for the library to judge.
fn normalize(doc: &Value, path: &Pointer, last: LastIndex) -> Result<PointerBuf, String> {
    let tokens: Vec<String> = path.tokens().map(|t| t.decoded().into_owned()).collect();
    let mut current = Some(doc);
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let count = tokens.len();
    for (i, token) in tokens.into_iter().enumerate() {
        let is_last = i + 1 == count;
        let mut token = token;
        if let (Some(Value::Array(items)), Ok(n)) = (current, token.parse::<i64>()) {
            if n < 0 {
                let len = items.len() as i64 + i64::from(is_last && last == LastIndex::Insert);
                let idx = len + n;
                if idx < 0 {
                    return Err(format!("Unable to access invalid index: {n}"));
                }
                token = idx.to_string();
            }
        }
        current = current.and_then(|v| match v {
            Value::Object(map) => map.get(&token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        });
        out.push(token);
    }
    Ok(PointerBuf::from_tokens(out))
}

/// JSON merge patch (RFC 7386). A non-object patch is a 422 in kube-apiserver (it cannot decode
/// into an object), so the caller checks that.
pub fn apply_merge_patch(doc: &mut Value, patch: &Value) {
    json_patch::merge(doc, patch);
}

/// Strategic merge patch, approximated for the built-in types this simulator serves: maps merge,
/// `null` deletes, lists of objects merge by their `name` key when both sides have names (containers,
/// ports, env), other lists are replaced; `$patch: delete|replace` on list items or maps,
/// `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` are honoured.
pub fn apply_strategic_merge(doc: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *doc = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch.clone();
        strip_directives(&mut replacement);
        *doc = replacement;
        return;
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Some(target) = doc.as_object_mut() else {
        return;
    };
    for (key, value) in patch_map {
        if key == "$patch" || key == "$retainKeys" || key.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(remove)) =
                (target.get_mut(field), value.as_array())
            {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if value.is_null() {
            target.remove(key);
            continue;
        }
        if value.get("$patch").and_then(Value::as_str) == Some("delete") {
            target.remove(key);
            continue;
        }
        match (target.get_mut(key), value) {
            (Some(existing @ Value::Object(_)), Value::Object(_)) => {
                apply_strategic_merge(existing, value)
            }
            (Some(Value::Array(existing)), Value::Array(items))
                if merges_by_name(existing, items) =>
            {
                merge_named_list(existing, items)
            }
            _ => {
                let mut replacement = value.clone();
                strip_directives(&mut replacement);
                target.insert(key.clone(), replacement);
            }
        }
    }
}

fn merges_by_name(existing: &[Value], patch: &[Value]) -> bool {
    let named = |v: &Value| v.get("name").is_some_and(Value::is_string);
    !patch.is_empty() && patch.iter().all(named) && existing.iter().all(named)
}

fn merge_named_list(existing: &mut Vec<Value>, patch: &[Value]) {
    for item in patch {
        let name = item.get("name");
        let position = existing.iter().position(|e| e.get("name") == name);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => apply_strategic_merge(&mut existing[i], item),
            (None, false) => {
                let mut added = item.clone();
                strip_directives(&mut added);
                existing.push(added);
            }
        }
    }
}

/// Removes `$…` directive keys from a value that is stored as is.
fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// Server-side apply without field ownership: the applied configuration's fields are set on the
/// live object; objects merge, lists and scalars are replaced (Istio's lists are atomic anyway).
pub fn apply_configuration(doc: &mut Value, applied: &Value) {
    match (doc, applied) {
        (Value::Object(target), Value::Object(fields)) => {
            for (key, value) in fields {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        apply_configuration(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (doc, applied) => *doc = applied.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vs() -> Value {
        json!({"metadata": {"name": "review", "resourceVersion": "7"},
               "spec": {"http": [{"route": [
                   {"destination": {"host": "review", "subset": "old"}, "weight": 100},
                   {"destination": {"host": "review", "subset": "new"}, "weight": 0}]}]}})
    }

    fn run(doc: &Value, ops: Value) -> Result<Value, PatchFailed> {
        let patch = parse_json_patch(ops.to_string().as_bytes()).map_err(PatchFailed)?;
        let mut out = doc.clone();
        apply_json_patch(&mut out, &patch)?;
        Ok(out)
    }

    #[test]
    fn weight_shift_with_test_guard() {
        let out = run(
            &vs(),
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
                {"op": "replace", "path": "/spec/http/0/route/0/weight", "value": 80},
                {"op": "replace", "path": "/spec/http/0/route/1/weight", "value": 20}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["http"][0]["route"][0]["weight"], 80);
        assert_eq!(out["spec"]["http"][0]["route"][1]["weight"], 20);
    }

    #[test]
    fn failed_test_leaves_document_unchanged() {
        let mut doc = vs();
        let patch = parse_json_patch(
            br#"[{"op":"replace","path":"/spec/http/0/route/0/weight","value":1},
                 {"op":"test","path":"/metadata/resourceVersion","value":"6"}]"#,
        )
        .unwrap();
        assert!(apply_json_patch(&mut doc, &patch).is_err());
        assert_eq!(doc, vs());
    }

    #[test]
    fn replace_on_missing_member_creates_it() {
        let out = run(
            &vs(),
            json!([{"op": "replace", "path": "/spec/gateways", "value": ["mesh"]}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["gateways"], json!(["mesh"]));
        // A missing parent is still an error.
        assert!(run(
            &vs(),
            json!([{"op": "replace", "path": "/spec/tcp/0/x", "value": 1}])
        )
        .is_err());
        // So is an index past the end.
        assert!(run(
            &vs(),
            json!([{"op": "replace", "path": "/spec/http/0/route/2", "value": 1}])
        )
        .is_err());
    }

    #[test]
    fn negative_indices_count_from_the_end() {
        let out = run(
            &vs(),
            json!([{"op": "replace", "path": "/spec/http/0/route/-1/weight", "value": 5}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["http"][0]["route"][1]["weight"], 5);
        let out = run(
            &vs(),
            json!([{"op": "add", "path": "/spec/http/0/route/-1", "value": "x"}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["http"][0]["route"][2], "x");
        let out = run(
            &vs(),
            json!([{"op": "remove", "path": "/spec/http/-1/route/-2"}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["http"][0]["route"][0]["weight"], 0);
        assert!(run(
            &vs(),
            json!([{"op": "remove", "path": "/spec/http/0/route/-3"}])
        )
        .is_err());
    }

    #[test]
    fn test_on_missing_member() {
        assert!(run(
            &vs(),
            json!([{"op": "test", "path": "/spec/gateways", "value": null}])
        )
        .is_ok());
        assert!(run(
            &vs(),
            json!([{"op": "test", "path": "/spec/gateways", "value": ["mesh"]}])
        )
        .is_err());
        assert!(run(
            &vs(),
            json!([{"op": "test", "path": "/nope/deeper", "value": null}])
        )
        .is_err());
    }

    #[test]
    fn add_and_remove_follow_rfc() {
        let out = run(
            &vs(),
            json!([{"op": "add", "path": "/spec/http/0/route/0/weight", "value": 90}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["http"][0]["route"][0]["weight"], 90);
        assert!(run(
            &vs(),
            json!([{"op": "add", "path": "/spec/http/0/route/5", "value": 1}])
        )
        .is_err());
        assert!(run(&vs(), json!([{"op": "remove", "path": "/spec/missing"}])).is_err());
        let out = run(
            &vs(),
            json!([{"op": "move", "from": "/spec/http", "path": "/spec/tcp"}]),
        )
        .unwrap();
        assert!(out["spec"].get("http").is_none());
    }

    #[test]
    fn malformed_patches_do_not_parse() {
        for body in [
            &b"{"[..],
            b"{}",
            b"[{\"op\":\"explode\",\"path\":\"/a\"}]",
            b"[{\"op\":\"add\"}]",
            b"\xff",
        ] {
            assert!(parse_json_patch(body).is_err());
        }
    }

    #[test]
    fn merge_patch_replaces_lists_and_deletes_nulls() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        apply_merge_patch(&mut doc, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(doc, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_merges_named_lists() {
        let mut doc = json!({"spec": {"containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
                                                      {"name": "b", "image": "b:1"}]}});
        apply_strategic_merge(
            &mut doc,
            &json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                             "containers": [{"name": "a", "image": "a:2"}, {"name": "b", "$patch": "delete"}]},
                    "metadata": {"annotations": {"x": "y"}}}),
        );
        assert_eq!(
            doc,
            json!({"spec": {"containers": [{"name": "a", "image": "a:2", "ports": [{"containerPort": 80}]}]},
                   "metadata": {"annotations": {"x": "y"}}})
        );
    }

    #[test]
    fn apply_sets_fields_and_keeps_others() {
        let mut doc = vs();
        apply_configuration(
            &mut doc,
            &json!({"metadata": {"labels": {"a": "b"}}, "spec": {"hosts": ["review"]}}),
        );
        assert_eq!(doc["metadata"]["name"], "review");
        assert_eq!(doc["spec"]["hosts"], json!(["review"]));
        assert!(doc["spec"]["http"].is_array());
    }
}
