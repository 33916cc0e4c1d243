//! What a DestinationRule defines, read from its JSON: the host it applies to (resolved like
//! every Istio host, see `host`) and its subsets with their label selectors.

use serde_json::Value;
use std::collections::BTreeMap;

use super::host;

#[derive(Clone, Debug, PartialEq)]
pub struct DestinationRule {
    /// The namespace the DestinationRule lives in.
    pub namespace: String,
    /// The host it applies to, resolved relative to `namespace`.
    pub host: String,
    /// Subset name → its label selector.
    pub subsets: BTreeMap<String, BTreeMap<String, String>>,
}

impl DestinationRule {
    /// Reads a DestinationRule object of `namespace`; `None` when it names no host. Subsets
    /// without a name and labels that are not strings are skipped, as Istio's validation would
    /// have refused them.
    pub fn from_object(object: &Value, namespace: &str) -> Option<Self> {
        let host = object.pointer("/spec/host")?.as_str()?;
        let subsets = object
            .pointer("/spec/subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let name = s.get("name")?.as_str()?.to_owned();
                let labels = s
                    .get("labels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default();
                Some((name, labels))
            })
            .collect();
        Some(DestinationRule {
            namespace: namespace.to_owned(),
            host: host::resolve(host, namespace),
            subsets,
        })
    }
}

/// Subset names per resolved host, over several DestinationRules (several may share a host).
pub fn subsets_by_host(rules: &[DestinationRule]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in rules {
        map.entry(rule.host.clone())
            .or_default()
            .extend(rule.subsets.keys().cloned());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_host_and_subsets() {
        let object = json!({
            "metadata": {"name": "review", "namespace": "hands-on"},
            "spec": {
                "host": "review",
                "subsets": [
                    {"name": "old", "labels": {"version": "v1"}},
                    {"name": "new", "labels": {"version": "v2", "weird": 3}},
                    {"labels": {"version": "v3"}}
                ]
            }
        });
        let rule = DestinationRule::from_object(&object, "hands-on").unwrap();
        assert_eq!(rule.host, "review.hands-on.svc.cluster.local");
        assert_eq!(
            rule.subsets,
            BTreeMap::from([
                (
                    "new".into(),
                    BTreeMap::from([("version".into(), "v2".into())])
                ),
                (
                    "old".into(),
                    BTreeMap::from([("version".into(), "v1".into())])
                ),
            ])
        );
        assert_eq!(
            DestinationRule::from_object(&json!({"spec": {}}), "hands-on"),
            None
        );
    }

    #[test]
    fn a_dotted_host_is_not_expanded() {
        let object = json!({"spec": {"host": "review.other", "subsets": [{"name": "old"}]}});
        let rule = DestinationRule::from_object(&object, "hands-on").unwrap();
        assert_eq!(rule.host, "review.other");
    }

    #[test]
    fn subsets_of_rules_sharing_a_host_add_up() {
        let rule = |ns: &str, host: &str, subset: &str| DestinationRule {
            namespace: ns.into(),
            host: host::resolve(host, ns),
            subsets: BTreeMap::from([(subset.to_owned(), BTreeMap::new())]),
        };
        let map = subsets_by_host(&[
            rule("hands-on", "review", "old"),
            rule("hands-on", "review.hands-on.svc.cluster.local", "new"),
            rule("hands-on", "rating", "old"),
        ]);
        assert_eq!(
            map["review.hands-on.svc.cluster.local"],
            vec!["old".to_owned(), "new".to_owned()]
        );
        assert_eq!(map.len(), 2);
    }
}
