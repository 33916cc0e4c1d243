//! A resource request's path: group, version, namespace, resource, name and subresource, checked
//! against the served resource types, and the verb a method means on it.

use axum::http::Method;

use super::QueryParams;
use crate::api::objects;
use crate::api::resources::{self, ResourceDef};
use crate::api::status::ApiError;

/// A resource request's parsed path.
pub(super) struct Target<'a> {
    pub(super) def: &'static ResourceDef,
    pub(super) version: &'a str,
    /// The namespace in the path; `None` for cluster-scoped types and all-namespace lists.
    pub(super) namespace: Option<&'a str>,
    pub(super) name: Option<&'a str>,
    pub(super) subresource: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub(super) fn parse(segments: &[&'a str]) -> Result<Self, ApiError> {
        let (group, version, rest) = match segments {
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return Err(ApiError::no_such_path()),
        };
        if resources::in_group_version(group, version).is_empty() {
            return Err(ApiError::no_such_path());
        }
        let lookup = |plural: &str| {
            resources::by_plural(group, plural)
                .filter(|d| d.versions.contains(&version))
                .ok_or_else(ApiError::no_such_path)
        };
        // `/namespaces/{ns}/{resource}…` is namespaced unless it is the namespace itself.
        let (namespace, item) = match rest {
            ["namespaces", ns, plural, tail @ ..] => (Some(*ns), (*plural, tail)),
            [plural, tail @ ..] => (None, (*plural, tail)),
            [] => return Err(ApiError::no_such_path()),
        };
        let (plural, tail) = item;
        // More segments than name and subresource: the custom resource handler reads the first
        // two as name and subresource, which it then does not serve.
        let too_long = tail.len() > 2;
        let (name, subresource) = match tail {
            [] => (None, None),
            [name] => (Some(*name), None),
            [name, sub, ..] => (Some(*name), Some(*sub)),
        };
        if too_long {
            return match lookup(plural) {
                Ok(def) if def.custom => Err(ApiError::not_found(def, name.unwrap_or(""))),
                _ => Err(ApiError::no_such_path()),
            };
        }
        // `/api/v1/namespaces/{ns}/status` style paths: a namespace's own subresource.
        let (def, namespace, name, subresource) = match (namespace, lookup(plural)) {
            (Some(ns), Err(_)) if group.is_empty() && name.is_none() => {
                (lookup("namespaces")?, None, Some(ns), Some(plural))
            }
            (_, def) => (def?, namespace, name, subresource),
        };
        if def.namespaced {
            // A namespaced item needs its namespace.
            if namespace.is_none() && name.is_some() {
                return Err(ApiError::no_such_path());
            }
        } else if namespace.is_some() {
            return Err(ApiError::no_such_path());
        }
        match subresource {
            None => {}
            Some("status") if def.custom || def.plural == "namespaces" => {}
            // The custom resource handler answers a subresource it does not serve as if the
            // object were missing.
            Some(_) if def.custom => return Err(ApiError::not_found(def, name.unwrap_or(""))),
            Some(_) => return Err(ApiError::no_such_path()),
        }
        Ok(Target {
            def,
            version,
            namespace,
            name,
            subresource,
        })
    }

    pub(super) fn verb(
        &self,
        method: &Method,
        params: &QueryParams,
    ) -> Result<&'static str, ApiError> {
        let item = self.name.is_some();
        let verb = match (method.as_str(), item) {
            ("GET" | "HEAD", true) => "get",
            ("GET" | "HEAD", false) if params.flag("watch") => "watch",
            ("GET" | "HEAD", false) => "list",
            ("POST", false) => "create",
            ("PUT", true) => "update",
            ("PATCH", true) => "patch",
            ("DELETE", true) => "delete",
            ("DELETE", false) => "deletecollection",
            _ => return Err(ApiError::method_not_allowed()),
        };
        let allowed_here = match self.subresource {
            Some(_) => matches!(verb, "get" | "update" | "patch"),
            None => self.def.has_verb(verb),
        };
        // Namespaced types can be listed and watched across namespaces, nothing else.
        let needs_namespace =
            self.def.namespaced && self.namespace.is_none() && !matches!(verb, "list" | "watch");
        if !allowed_here || needs_namespace {
            return Err(ApiError::method_not_allowed());
        }
        Ok(verb)
    }

    pub(super) fn namespace(&self) -> &'a str {
        self.namespace.unwrap_or("")
    }

    pub(super) fn name(&self) -> &'a str {
        self.name.unwrap_or("")
    }

    pub(super) fn key(&self) -> crate::store::Key {
        objects::key(self.def, self.namespace(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let t = Target::parse(&[
            "apis",
            "networking.istio.io",
            "v1beta1",
            "namespaces",
            "ns",
            "virtualservices",
            "r",
        ])
        .unwrap();
        assert_eq!(
            (t.def.plural, t.version, t.namespace, t.name),
            ("virtualservices", "v1beta1", Some("ns"), Some("r"))
        );
        let t = Target::parse(&["api", "v1", "namespaces", "ns"]).unwrap();
        assert_eq!(
            (t.def.plural, t.namespace, t.name),
            ("namespaces", None, Some("ns"))
        );
        let t = Target::parse(&["api", "v1", "namespaces", "ns", "status"]).unwrap();
        assert_eq!(
            (t.def.plural, t.name, t.subresource),
            ("namespaces", Some("ns"), Some("status"))
        );
        // The Istio CRDs serve v1alpha3 too (v1 is stored and preferred).
        let t = Target::parse(&[
            "apis",
            "networking.istio.io",
            "v1alpha3",
            "destinationrules",
        ])
        .unwrap();
        assert_eq!((t.def.plural, t.version), ("destinationrules", "v1alpha3"));
        let t = Target::parse(&["api", "v1", "pods"]).unwrap();
        assert_eq!((t.def.plural, t.namespace), ("pods", None));
        let missing = |segments: &[&str]| Target::parse(segments).err().map(|e| e.message);
        assert_eq!(
            missing(&[
                "apis",
                "networking.istio.io",
                "v1",
                "namespaces",
                "ns",
                "virtualservices",
                "r",
                "scale"
            ]),
            Some(r#"virtualservices.networking.istio.io "r" not found"#.to_owned())
        );
        assert_eq!(
            missing(&[
                "apis",
                "networking.istio.io",
                "v1",
                "namespaces",
                "ns",
                "virtualservices",
                "r",
                "s",
                "t"
            ]),
            Some(r#"virtualservices.networking.istio.io "r" not found"#.to_owned())
        );
        for bad in [
            &["api", "v2", "pods"][..],
            &["apis", "networking.istio.io", "v1alpha2", "virtualservices"],
            &["api", "v1", "nodes"],
            &["api", "v1", "pods", "p"],
            &["api", "v1", "namespaces", "ns", "pods", "p", "log"],
            &["api", "v1", "namespaces", "ns", "namespaces", "x"],
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?}");
        }
    }
}
