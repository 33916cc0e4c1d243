//! What the real Istio CRD schema does with a VirtualService it does not describe: a weight
//! given as a string is rejected (422, FieldValueTypeInvalid), an unknown field is pruned (with a
//! warning by default, silently with `fieldValidation=Ignore`) or refused (`Strict`, 400). The
//! simulator validates nothing against a schema: it keeps what it is given. Divergence "CRD schema
//! validation and pruning" (stays, docs/sim-divergences.md).

use super::support::{Clusters, Req};
use serde_json::json;

const VS: &str = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices";

fn weight_as_string() -> serde_json::Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": "bad-weight"},
           "spec": {"hosts": ["x"], "http": [{"route": [{"destination": {"host": "x"}, "weight": "50"}]}]}})
}

fn unknown_fields(name: &str) -> serde_json::Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": name},
           "spec": {"hosts": ["x"], "bogus": 1,
                    "http": [{"route": [{"destination": {"host": "x", "nope": 2}, "weight": 100}]}]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_weight_given_as_a_string() {
    let c = Clusters::start().await;
    for query in ["", "?fieldValidation=Ignore"] {
        let both = c
            .send(&Req::post(&format!("{VS}{query}"), &weight_as_string()))
            .await;
        let real = &both.real;
        assert_eq!(
            (real.status, real.reason()),
            (422, "Invalid"),
            "{}",
            real.text
        );
        assert_eq!(
            real.json.pointer("/details/causes/0"),
            Some(&json!({
                "reason": "FieldValueTypeInvalid",
                "message": "Invalid value: \"string\": spec.http[0].route[0].weight in body must be of type integer: \"string\"",
                "field": "spec.http[0].route[0].weight"
            })),
            "{}",
            real.text
        );
        assert_eq!(real.json["details"]["kind"], "VirtualService");
        // The simulator stores it as given.
        assert_eq!(both.sim.status, 201, "{}", both.sim.text);
        assert_eq!(both.sim.json["spec"]["http"][0]["route"][0]["weight"], "50");
        let cleanup = Req::new(reqwest::Method::DELETE, &format!("{VS}/bad-weight"));
        c.send(&cleanup).await;
    }
    // The same through a JSON patch of an existing route.
    let both = c
        .send(&Req::patch(
            &format!("{VS}/review"),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":"80"}]"#,
        ))
        .await;
    assert_eq!(both.real.status, 422, "{}", both.real.text);
    assert_eq!(
        both.real.json.pointer("/details/causes/0/field"),
        Some(&json!("spec.http[1].route[0].weight"))
    );
    assert_eq!(both.sim.status, 200, "{}", both.sim.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_fields_are_pruned_or_refused() {
    let c = Clusters::start().await;
    // Default (Warn): stored without the unknown fields, one warning each.
    let both = c.send(&Req::post(VS, &unknown_fields("warned"))).await;
    assert_eq!(both.real.status, 201, "{}", both.real.text);
    assert!(both.real.json["spec"].get("bogus").is_none());
    assert!(both.real.json["spec"]["http"][0]["route"][0]["destination"]
        .get("nope")
        .is_none());
    let warnings = both.real.warnings().join("\n");
    assert!(
        warnings.contains("unknown field \\\"spec.bogus\\\""),
        "{warnings}"
    );
    assert_eq!(both.sim.status, 201);
    assert_eq!(both.sim.json["spec"]["bogus"], 1);

    // Ignore: pruned without a warning.
    let both = c
        .send(&Req::post(
            &format!("{VS}?fieldValidation=Ignore"),
            &unknown_fields("ignored"),
        ))
        .await;
    assert_eq!(both.real.status, 201);
    assert!(both.real.json["spec"].get("bogus").is_none());
    assert!(both.real.warnings().is_empty());
    assert_eq!(both.sim.json["spec"]["bogus"], 1);

    // Strict (what kubectl apply sends): refused, naming every unknown field.
    let both = c
        .send(&Req::post(
            &format!("{VS}?fieldValidation=Strict"),
            &unknown_fields("strict"),
        ))
        .await;
    assert_eq!(
        (both.real.status, both.real.reason()),
        (400, "BadRequest"),
        "{}",
        both.real.text
    );
    assert_eq!(
        both.real.message(),
        "VirtualService in version \"v1\" cannot be handled as a VirtualService: strict decoding error: unknown field \"spec.bogus\", unknown field \"spec.http[0].route[0].destination.nope\""
    );
    assert_eq!(both.sim.status, 201);
}
