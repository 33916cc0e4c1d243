//! The resource types the simulated API server serves: names, scope, verbs and versions as a real
//! cluster with Istio and the Gateway API CRDs installed advertises them, and the store key each
//! one is kept under.

/// One served resource type.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// Served versions, preferred (and storage) version first. All versions share storage and
    /// differ only in `apiVersion`.
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// A custom resource (CRD-backed): no strategic merge patch, PUT needs a resourceVersion,
    /// DELETE answers with a Status, `status` is a subresource.
    pub custom: bool,
    /// DELETE answers with the deleted object rather than a Status (pods, services, namespaces).
    pub delete_returns_object: bool,
    /// A virtual, create-only review type that is never stored.
    pub review: bool,
}

const RW_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const ISTIO_CATEGORIES: &[&str] = &["istio-io", "networking-istio-io"];

pub static NAMESPACES: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    categories: &[],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    custom: false,
    delete_returns_object: true,
    review: false,
};

pub static SERVICES: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    short_names: &["svc"],
    categories: &["all"],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: true,
    review: false,
};

pub static PODS: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    categories: &["all"],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: true,
    review: false,
};

pub static EVENTS: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    categories: &[],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: false,
    review: false,
};

pub static DEPLOYMENTS: ResourceDef = ResourceDef {
    group: "apps",
    versions: &["v1"],
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    short_names: &["deploy"],
    categories: &["all"],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: false,
    review: false,
};

pub static VIRTUAL_SERVICES: ResourceDef = ResourceDef {
    group: "networking.istio.io",
    versions: &["v1", "v1beta1", "v1alpha3"],
    plural: "virtualservices",
    singular: "virtualservice",
    kind: "VirtualService",
    namespaced: true,
    short_names: &["vs"],
    categories: ISTIO_CATEGORIES,
    verbs: RW_VERBS,
    custom: true,
    delete_returns_object: false,
    review: false,
};

pub static DESTINATION_RULES: ResourceDef = ResourceDef {
    group: "networking.istio.io",
    versions: &["v1", "v1beta1", "v1alpha3"],
    plural: "destinationrules",
    singular: "destinationrule",
    kind: "DestinationRule",
    namespaced: true,
    short_names: &["dr"],
    categories: ISTIO_CATEGORIES,
    verbs: RW_VERBS,
    custom: true,
    delete_returns_object: false,
    review: false,
};

/// Gateway API's HTTPRoute (the standard channel's CRD, v1.6: served as v1, stored, and v1beta1).
/// Its schema's defaults and the bounds the console's tests meet are applied by `api::gateway`.
pub static HTTP_ROUTES: ResourceDef = ResourceDef {
    group: "gateway.networking.k8s.io",
    versions: &["v1", "v1beta1"],
    plural: "httproutes",
    singular: "httproute",
    kind: "HTTPRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
    verbs: RW_VERBS,
    custom: true,
    delete_returns_object: false,
    review: false,
};

pub static SELF_SUBJECT_ACCESS_REVIEWS: ResourceDef = ResourceDef {
    group: "authorization.k8s.io",
    versions: &["v1"],
    plural: "selfsubjectaccessreviews",
    singular: "selfsubjectaccessreview",
    kind: "SelfSubjectAccessReview",
    namespaced: false,
    short_names: &[],
    categories: &[],
    verbs: &["create"],
    custom: false,
    delete_returns_object: false,
    review: true,
};

pub static SELF_SUBJECT_REVIEWS: ResourceDef = ResourceDef {
    group: "authentication.k8s.io",
    versions: &["v1"],
    plural: "selfsubjectreviews",
    singular: "selfsubjectreview",
    kind: "SelfSubjectReview",
    namespaced: false,
    short_names: &[],
    categories: &[],
    verbs: &["create"],
    custom: false,
    delete_returns_object: false,
    review: true,
};

pub static SERVICE_ACCOUNTS: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    short_names: &["sa"],
    categories: &[],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: true,
    review: false,
};

/// The console's session store. `data` is base64 as on the wire; `stringData` is merged into it
/// (`objects::apply_defaults`).
pub static SECRETS: ResourceDef = ResourceDef {
    group: "",
    versions: &["v1"],
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: false,
    review: false,
};

/// Leases (`coordination.k8s.io/v1`): the console's replicas elect their release-plan driver
/// with one, written with resourceVersion preconditions (a stale one is 409 Conflict).
pub static LEASES: ResourceDef = ResourceDef {
    group: "coordination.k8s.io",
    versions: &["v1"],
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: RW_VERBS,
    custom: false,
    delete_returns_object: false,
    review: false,
};

/// The console's release plans: the `ReleasePlan` custom resource `deploy/crd-releaseplan.yaml`
/// defines (status subresource, no short names or categories), served as a real cluster with
/// that CRD applied serves it.
pub static RELEASE_PLANS: ResourceDef = ResourceDef {
    group: "switchyard.dev",
    versions: &["v1alpha1"],
    plural: "releaseplans",
    singular: "releaseplan",
    kind: "ReleasePlan",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: RW_VERBS,
    custom: true,
    delete_returns_object: false,
    review: false,
};

// RBAC objects are stored and served so manifests (deploy/) apply as on a real cluster; the
// simulator's authorization decisions come from its built-in table (see `auth`), not from them.
const fn rbac(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceDef {
    ResourceDef {
        group: "rbac.authorization.k8s.io",
        versions: &["v1"],
        plural,
        singular,
        kind,
        namespaced,
        short_names: &[],
        categories: &[],
        verbs: RW_VERBS,
        custom: false,
        delete_returns_object: false,
        review: false,
    }
}

pub static ROLES: ResourceDef = rbac("roles", "role", "Role", true);
pub static ROLE_BINDINGS: ResourceDef = rbac("rolebindings", "rolebinding", "RoleBinding", true);
pub static CLUSTER_ROLES: ResourceDef = rbac("clusterroles", "clusterrole", "ClusterRole", false);
pub static CLUSTER_ROLE_BINDINGS: ResourceDef = rbac(
    "clusterrolebindings",
    "clusterrolebinding",
    "ClusterRoleBinding",
    false,
);

/// Everything served, in discovery order.
pub static ALL: &[&ResourceDef] = &[
    &NAMESPACES,
    &SERVICES,
    &PODS,
    &EVENTS,
    &SERVICE_ACCOUNTS,
    &SECRETS,
    &DEPLOYMENTS,
    &VIRTUAL_SERVICES,
    &DESTINATION_RULES,
    &HTTP_ROUTES,
    &LEASES,
    &RELEASE_PLANS,
    &SELF_SUBJECT_ACCESS_REVIEWS,
    &SELF_SUBJECT_REVIEWS,
    &ROLES,
    &ROLE_BINDINGS,
    &CLUSTER_ROLES,
    &CLUSTER_ROLE_BINDINGS,
];

/// API groups in discovery order (core group first, as `""`), each with its served versions.
pub fn groups() -> Vec<(&'static str, &'static [&'static str])> {
    let mut groups: Vec<(&'static str, &'static [&'static str])> = Vec::new();
    for def in ALL {
        if !groups.iter().any(|(g, _)| *g == def.group) {
            groups.push((def.group, def.versions));
        }
    }
    groups
}

/// The resources of one group version.
pub fn in_group_version(group: &str, version: &str) -> Vec<&'static ResourceDef> {
    ALL.iter()
        .copied()
        .filter(|d| d.group == group && d.versions.contains(&version))
        .collect()
}

pub fn by_plural(group: &str, plural: &str) -> Option<&'static ResourceDef> {
    ALL.iter()
        .copied()
        .find(|d| d.group == group && d.plural == plural)
}

/// Resolves a manifest's `apiVersion` + `kind`; returns the definition and the version.
pub fn by_api_version_kind(
    api_version: &str,
    kind: &str,
) -> Option<(&'static ResourceDef, String)> {
    let (group, version) = split_api_version(api_version);
    ALL.iter()
        .copied()
        .find(|d| d.group == group && d.kind == kind && d.versions.contains(&version))
        .map(|d| (d, version.to_owned()))
}

/// `networking.istio.io/v1` → (`networking.istio.io`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

impl ResourceDef {
    /// The store key's resource part, also the name RBAC and error messages use:
    /// `virtualservices.networking.istio.io`, `deployments.apps`, `pods`.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `VirtualService.networking.istio.io`, `Pod` (GroupKind as Go prints it).
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_owned()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    pub fn storage_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or("v1")
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Whether the type's objects carry `metadata.generation` (their strategy counts spec
    /// changes): custom resources, Deployments and Pods; not Services, Namespaces, Events,
    /// ServiceAccounts or RBAC objects.
    pub fn has_generation(&self) -> bool {
        self.custom
            || matches!(
                (self.group, self.plural),
                ("apps", "deployments") | ("", "pods")
            )
    }
}

/// Store keys (the `resource` part of [`crate::store::Key`]) for other parts of the
/// simulator that read the store directly.
pub mod keys {
    pub const NAMESPACES: &str = "namespaces";
    pub const SERVICES: &str = "services";
    pub const PODS: &str = "pods";
    pub const EVENTS: &str = "events";
    pub const DEPLOYMENTS: &str = "deployments.apps";
    pub const VIRTUAL_SERVICES: &str = "virtualservices.networking.istio.io";
    pub const DESTINATION_RULES: &str = "destinationrules.networking.istio.io";
    pub const HTTP_ROUTES: &str = "httproutes.gateway.networking.k8s.io";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_keys_match_definitions() {
        assert_eq!(
            VIRTUAL_SERVICES.qualified_resource(),
            keys::VIRTUAL_SERVICES
        );
        assert_eq!(
            DESTINATION_RULES.qualified_resource(),
            keys::DESTINATION_RULES
        );
        assert_eq!(DEPLOYMENTS.qualified_resource(), keys::DEPLOYMENTS);
        assert_eq!(HTTP_ROUTES.qualified_resource(), keys::HTTP_ROUTES);
        assert_eq!(PODS.qualified_resource(), keys::PODS);
    }

    #[test]
    fn lookups() {
        let (def, version) =
            by_api_version_kind("networking.istio.io/v1beta1", "VirtualService").unwrap();
        assert_eq!(def.plural, "virtualservices");
        assert_eq!(version, "v1beta1");
        assert!(by_api_version_kind("networking.istio.io/v1alpha9", "VirtualService").is_none());
        assert_eq!(
            by_api_version_kind("v1", "Service").unwrap().0.plural,
            "services"
        );
        assert_eq!(groups()[0].0, "");
        assert_eq!(in_group_version("networking.istio.io", "v1beta1").len(), 2);
    }
}
