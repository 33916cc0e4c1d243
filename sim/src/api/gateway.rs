//! What the real HTTPRoute CRD's schema does to an object on every write, as far as the console's
//! tests meet it (Gateway API v1.6.3, standard channel, `config/crd/standard/
//! gateway.networking.k8s.io_httproutes.yaml`): its defaults (a rule without matches matches
//! every path, a backendRef is a Service of the core group with weight 1, a parentRef without
//! group and kind is a Gateway) and the bounds of the fields the console reads (weights 0 to
//! 1,000,000 as integers, ports 1 to 65535, names required, at most 16 rules and 16 backendRefs,
//! a Service backendRef needs a port), refused with the API server's 422 Status and causes. The
//! rest of the schema (filters, CEL rules on matches, timeouts) is not checked: listed in
//! `docs/sim-divergences.md`.

use serde_json::{json, Map, Value};

use super::resources::ResourceDef;
use super::status::ApiError;

/// Largest backendRef weight (`maximum`).
pub const MAX_WEIGHT: i64 = 1_000_000;
/// Most rules, and most backendRefs of one rule (`maxItems`).
const MAX_ITEMS: usize = 16;

/// The CRD's defaults, filled in where absent (structural defaulting: on every read of the
/// request body, before validation).
pub fn apply_defaults(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(parents) = spec.get_mut("parentRefs").and_then(Value::as_array_mut) {
        for parent in parents.iter_mut().filter_map(Value::as_object_mut) {
            parent
                .entry("group")
                .or_insert_with(|| json!("gateway.networking.k8s.io"));
            parent.entry("kind").or_insert_with(|| json!("Gateway"));
        }
    }
    let rules = spec
        .entry("rules")
        .or_insert_with(|| json!([{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]));
    for rule in rules
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        let matches = rule
            .entry("matches")
            .or_insert_with(|| json!([{"path": {"type": "PathPrefix", "value": "/"}}]));
        for m in matches
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            match_defaults(m);
        }
        for backend in rule
            .get_mut("backendRefs")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            backend.entry("group").or_insert_with(|| json!(""));
            backend.entry("kind").or_insert_with(|| json!("Service"));
            backend.entry("weight").or_insert_with(|| json!(1));
        }
    }
}

fn match_defaults(m: &mut Map<String, Value>) {
    let path = m
        .entry("path")
        .or_insert_with(|| json!({"type": "PathPrefix", "value": "/"}));
    if let Some(path) = path.as_object_mut() {
        path.entry("type").or_insert_with(|| json!("PathPrefix"));
        path.entry("value").or_insert_with(|| json!("/"));
    }
    for field in ["headers", "queryParams"] {
        for entry in m
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            entry.entry("type").or_insert_with(|| json!("Exact"));
        }
    }
}

/// One failed check: (field path, cause reason, cause message).
type Cause = (String, &'static str, String);

/// The schema's checks of the fields above; `Err` is the API server's 422 for object `name`.
pub fn validate(def: &ResourceDef, name: &str, object: &Value) -> Result<(), ApiError> {
    let mut causes: Vec<Cause> = Vec::new();
    let spec = object.get("spec");
    for (i, parent) in array(spec.and_then(|s| s.get("parentRefs")))
        .iter()
        .enumerate()
    {
        let at = format!("spec.parentRefs[{i}]");
        required_string(parent, "name", &at, &mut causes);
        if let Some(port) = parent.get("port") {
            integer_in(port, 1, 65535, &format!("{at}.port"), &mut causes);
        }
    }
    let rules = array(spec.and_then(|s| s.get("rules")));
    if rules.len() > MAX_ITEMS {
        too_many("spec.rules", rules.len(), &mut causes);
    }
    for (i, rule) in rules.iter().enumerate() {
        let backends = array(rule.get("backendRefs"));
        if backends.len() > MAX_ITEMS {
            too_many(
                &format!("spec.rules[{i}].backendRefs"),
                backends.len(),
                &mut causes,
            );
        }
        for (j, backend) in backends.iter().enumerate() {
            let at = format!("spec.rules[{i}].backendRefs[{j}]");
            required_string(backend, "name", &at, &mut causes);
            if let Some(port) = backend.get("port") {
                integer_in(port, 1, 65535, &format!("{at}.port"), &mut causes);
            }
            if let Some(weight) = backend.get("weight") {
                integer_in(weight, 0, MAX_WEIGHT, &format!("{at}.weight"), &mut causes);
            }
        }
    }
    // The CRD's CEL rules run only on an object the schema did not find structurally wrong
    // (a required field missing, a wrong type, too many items); else one cause says so
    // (apiextensions-apiserver's `hasBlockingErr`).
    let blocking = causes.iter().any(|(_, reason, _)| {
        matches!(
            *reason,
            "FieldValueRequired" | "FieldValueTypeInvalid" | "FieldValueTooMany"
        )
    });
    if blocking {
        causes.push((
            "<nil>".into(),
            "FieldValueInvalid",
            "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation".into(),
        ));
    } else {
        for (i, rule) in rules.iter().enumerate() {
            for (j, backend) in array(rule.get("backendRefs")).iter().enumerate() {
                let core_service = backend.get("group").and_then(Value::as_str) == Some("")
                    && backend.get("kind").and_then(Value::as_str) == Some("Service");
                if core_service && backend.get("port").is_none() {
                    causes.push((
                        format!("spec.rules[{i}].backendRefs[{j}]"),
                        "FieldValueInvalid",
                        "Invalid value: Must have port for Service reference".into(),
                    ));
                }
            }
        }
    }
    match causes.as_slice() {
        [] => Ok(()),
        [(field, reason, message)] => Err(ApiError::invalid(
            &def.qualified_kind(),
            def.kind,
            def.group,
            name,
            field,
            message,
            reason,
        )),
        many => {
            let text = many
                .iter()
                .map(|(field, _, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join(", ");
            let first = ApiError::invalid(
                &def.qualified_kind(),
                def.kind,
                def.group,
                name,
                &many[0].0,
                &many[0].2,
                many[0].1,
            );
            let mut details = first.details.clone().unwrap_or_else(|| json!({}));
            details["causes"] = Value::Array(
                many.iter()
                    .map(|(field, reason, message)| {
                        json!({"reason": reason, "message": message, "field": field})
                    })
                    .collect(),
            );
            Err(ApiError {
                details: Some(details),
                ..first.with_message(format!(
                    "{} {} is invalid: [{text}]",
                    def.qualified_kind(),
                    serde_json::to_string(name).unwrap_or_default()
                ))
            })
        }
    }
}

fn array(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

fn required_string(object: &Value, field: &str, at: &str, causes: &mut Vec<Cause>) {
    if object.get(field).and_then(Value::as_str).is_none() {
        causes.push((
            format!("{at}.{field}"),
            "FieldValueRequired",
            "Required value".into(),
        ));
    }
}

fn too_many(at: &str, count: usize, causes: &mut Vec<Cause>) {
    causes.push((
        at.to_owned(),
        "FieldValueTooMany",
        format!("Too many: {count}: must have at most {MAX_ITEMS} items"),
    ));
}

/// An integer field within `[min, max]`, with the schema's sentences.
fn integer_in(value: &Value, min: i64, max: i64, at: &str, causes: &mut Vec<Cause>) {
    let Some(n) = value.as_i64().filter(|_| value.is_i64() || value.is_u64()) else {
        let found = match value {
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Null => "null",
        };
        causes.push((
            at.to_owned(),
            "FieldValueTypeInvalid",
            format!(
                "Invalid value: \"{found}\": {at} in body must be of type integer: \"{found}\""
            ),
        ));
        return;
    };
    if n < min {
        causes.push((
            at.to_owned(),
            "FieldValueInvalid",
            format!("Invalid value: {n}: {at} in body should be greater than or equal to {min}"),
        ));
    } else if n > max {
        causes.push((
            at.to_owned(),
            "FieldValueInvalid",
            format!("Invalid value: {n}: {at} in body should be less than or equal to {max}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::HTTP_ROUTES;

    fn route(backends: Value) -> Value {
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "review"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "review", "port": 80}],
                     "rules": [{"backendRefs": backends}]}
        })
    }

    #[test]
    fn defaults_fill_what_the_crd_defaults() {
        let mut r = route(
            json!([{"name": "review-v1", "port": 80}, {"name": "review-v2", "port": 80, "weight": 3}]),
        );
        r["spec"]["parentRefs"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "gw"}));
        apply_defaults(&mut r);
        let rule = &r["spec"]["rules"][0];
        assert_eq!(
            rule["matches"],
            json!([{"path": {"type": "PathPrefix", "value": "/"}}])
        );
        assert_eq!(
            rule["backendRefs"][0],
            json!({"group": "", "kind": "Service", "name": "review-v1", "port": 80, "weight": 1})
        );
        assert_eq!(rule["backendRefs"][1]["weight"], 3);
        // A parentRef without group and kind is a Gateway; GAMMA's keep theirs.
        assert_eq!(r["spec"]["parentRefs"][1]["kind"], "Gateway");
        assert_eq!(
            r["spec"]["parentRefs"][1]["group"],
            "gateway.networking.k8s.io"
        );
        assert_eq!(r["spec"]["parentRefs"][0]["kind"], "Service");
        let mut bare = json!({"spec": {"rules": [{"matches": [{"headers": [{"name": "x-group", "value": "test"}]}]}]}});
        apply_defaults(&mut bare);
        assert_eq!(
            bare["spec"]["rules"][0]["matches"][0],
            json!({"headers": [{"name": "x-group", "value": "test", "type": "Exact"}],
                   "path": {"type": "PathPrefix", "value": "/"}})
        );
        let mut empty = json!({"spec": {}});
        apply_defaults(&mut empty);
        assert_eq!(
            empty["spec"]["rules"][0]["matches"][0]["path"]["value"],
            "/"
        );
    }

    #[test]
    fn weights_are_integers_from_0_to_a_million() {
        for ok in [0, 1, 80, MAX_WEIGHT] {
            let mut r = route(json!([{"name": "a", "port": 80, "weight": ok}]));
            apply_defaults(&mut r);
            assert!(validate(&HTTP_ROUTES, "review", &r).is_ok(), "{ok}");
        }
        let mut r = route(json!([{"name": "a", "port": 80, "weight": MAX_WEIGHT + 1}]));
        apply_defaults(&mut r);
        let err = validate(&HTTP_ROUTES, "review", &r).unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        assert_eq!(
            err.message,
            "HTTPRoute.gateway.networking.k8s.io \"review\" is invalid: spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000"
        );
        let mut r = route(json!([{"name": "a", "port": 80, "weight": -1}]));
        apply_defaults(&mut r);
        let err = validate(&HTTP_ROUTES, "review", &r).unwrap_err();
        assert!(
            err.message
                .ends_with("should be greater than or equal to 0"),
            "{}",
            err.message
        );
        let mut r = route(json!([{"name": "a", "port": 80, "weight": "50"}]));
        apply_defaults(&mut r);
        let err = validate(&HTTP_ROUTES, "review", &r).unwrap_err();
        assert_eq!(
            err.details.unwrap()["causes"][0]["reason"],
            "FieldValueTypeInvalid"
        );
    }

    #[test]
    fn several_problems_are_listed_together() {
        // As kube-apiserver 1.37 answered the same patch of the real CRD.
        let mut r = route(json!([{"name": "a", "port": 80, "weight": 2_000_000}, {"port": 80}]));
        apply_defaults(&mut r);
        let err = validate(&HTTP_ROUTES, "review", &r).unwrap_err();
        assert_eq!(
            err.message,
            "HTTPRoute.gateway.networking.k8s.io \"review\" is invalid: [spec.rules[0].backendRefs[0].weight: Invalid value: 2000000: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000, spec.rules[0].backendRefs[1].name: Required value, <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]"
        );
        assert_eq!(err.details.unwrap()["causes"].as_array().unwrap().len(), 3);
        // Without a structural problem the CEL rules run: a Service backend needs a port.
        let mut r = route(json!([{"name": "a"}]));
        apply_defaults(&mut r);
        let err = validate(&HTTP_ROUTES, "review", &r).unwrap_err();
        assert_eq!(
            err.message,
            "HTTPRoute.gateway.networking.k8s.io \"review\" is invalid: spec.rules[0].backendRefs[0]: Invalid value: Must have port for Service reference"
        );
    }
}
