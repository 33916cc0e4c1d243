//! Who is calling the simulated API server and what they may do: bearer tokens, impersonation
//! headers, and a small RBAC table evaluated like Kubernetes RBAC (allow-only rules, any matching
//! binding grants).
//!
//! Tokens (`Authenticator::demo()` makes fresh random ones per process):
//!
//! | token            | user       | groups                                        |
//! |------------------|------------|-----------------------------------------------|
//! | `admin_token`    | `admin`    | `system:masters`, `system:authenticated`      |
//! | `operator_token` | `operator` | `switchyard:operators`, `system:authenticated` |
//! | `viewer_token`   | `viewer`   | `switchyard:viewers`, `system:authenticated`   |
//!
//! Roles and bindings (see [`ROLES`] and [`BINDINGS`]):
//!
//! * `cluster-admin` — every verb on every resource, including `impersonate` on users and groups;
//!   bound to group `system:masters` and user `admin`.
//! * `switchyard-viewer` — `get`, `list`, `watch` on every resource in every namespace; bound to
//!   group `switchyard:viewers` and user `viewer`.
//! * `switchyard-operator` — what the viewer has, plus `create` on `events` everywhere, plus
//!   `patch` and `update` on `virtualservices.networking.istio.io` and
//!   `httproutes.gateway.networking.k8s.io`, and `create`, `patch` and `update` on
//!   `releaseplans.switchyard.dev`, in the namespaces `hands-on` and `hands-on-gateway` only
//!   (ClusterRole `switchyard-virtualservice-editor`, bound there); bound to group
//!   `switchyard:operators` and user `operator`.
//! * `system:basic-user` — `create` on `selfsubjectaccessreviews`; bound to `system:authenticated`
//!   (every authenticated or impersonated user), as in a real cluster.
//!
//! Impersonation (`Impersonate-User`, repeatable `Impersonate-Group`) needs `impersonate` on `users`
//! and `groups`, which only `cluster-admin` has. An impersonated user gets exactly the named groups
//! plus `system:authenticated`.

use axum::http::HeaderMap;
use std::collections::HashMap;
use std::sync::Arc;

use super::status::ApiError;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    /// The user's uid; empty when it has none (anonymous, or impersonated without
    /// `Impersonate-Uid`).
    pub uid: String,
    pub groups: Vec<String>,
}

impl Identity {
    pub fn new(user: &str, groups: &[&str]) -> Self {
        Identity {
            user: user.to_owned(),
            uid: String::new(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    /// The same identity with a uid (a token file's third column).
    pub fn with_uid(mut self, uid: &str) -> Self {
        self.uid = uid.to_owned();
        self
    }
}

/// Maps bearer tokens to identities.
#[derive(Clone, Debug)]
pub struct Authenticator {
    admin: String,
    operator: String,
    viewer: String,
    tokens: Arc<HashMap<String, Identity>>,
}

pub const AUTHENTICATED: &str = "system:authenticated";

impl Authenticator {
    /// Three fresh random tokens (admin, operator, viewer); see the module docs for what each may do.
    pub fn demo() -> Self {
        let fresh = || uuid::Uuid::new_v4().simple().to_string();
        Self::with_tokens(&fresh(), &fresh(), &fresh())
    }

    /// Fixed tokens, for tests and for reproducible demos.
    pub fn with_tokens(admin: &str, operator: &str, viewer: &str) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            admin.to_owned(),
            Identity::new("admin", &["system:masters", AUTHENTICATED]).with_uid("admin"),
        );
        tokens.insert(
            operator.to_owned(),
            Identity::new("operator", &["switchyard:operators", AUTHENTICATED])
                .with_uid("operator"),
        );
        tokens.insert(
            viewer.to_owned(),
            Identity::new("viewer", &["switchyard:viewers", AUTHENTICATED]).with_uid("viewer"),
        );
        Authenticator {
            admin: admin.to_owned(),
            operator: operator.to_owned(),
            viewer: viewer.to_owned(),
            tokens: Arc::new(tokens),
        }
    }

    pub fn admin_token(&self) -> &str {
        &self.admin
    }

    pub fn operator_token(&self) -> &str {
        &self.operator
    }

    pub fn viewer_token(&self) -> &str {
        &self.viewer
    }

    /// `Ok(None)` when the request carries no credentials (anonymous); `Err(401)` for an unknown
    /// token or a malformed `Authorization` header. `path_token` is the credential carried in the
    /// URL prefix `/token/{token}` (see [`split_token_prefix`]); an `Authorization` header wins.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        path_token: Option<&str>,
    ) -> Result<Option<Identity>, ApiError> {
        let token = match headers.get(http::header::AUTHORIZATION) {
            Some(value) => {
                let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .map(str::trim)
                    .ok_or_else(ApiError::unauthorized)?
            }
            None => match path_token {
                Some(token) => token,
                None => return Ok(None),
            },
        };
        self.tokens
            .get(token)
            .cloned()
            .map(Some)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The URL prefix that carries a token: `/token/{token}/api/v1/...` → (`{token}`, `/api/v1/...`).
///
/// Why: client-go (kubectl) only sends kubeconfig credentials (token, client certificates,
/// impersonation) when the server URL is https (`isConfigTransportTLS` in clientcmd), and this
/// simulator serves plain HTTP on loopback. A server URL with a path prefix is something kubectl
/// supports (clusters behind proxies use it), so [`super::write_kubeconfig`] puts the token there as
/// well as in the user entry (which kube-rs does send over HTTP).
pub fn split_token_prefix(path: &str) -> (Option<&str>, &str) {
    let Some(rest) = path.strip_prefix("/token/") else {
        return (None, path);
    };
    match rest.find('/') {
        Some(i) => (Some(&rest[..i]), &rest[i..]),
        None => (Some(rest), "/"),
    }
}

/// Applies `Impersonate-*` headers: returns the identity the request acts as.
pub fn impersonate(caller: Identity, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let header_values = |name: &str| -> Result<Vec<String>, ApiError> {
        headers
            .get_all(name)
            .iter()
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| ApiError::bad_request(format!("invalid {name} header")))
            })
            .collect()
    };
    let users = header_values("impersonate-user")?;
    let groups = header_values("impersonate-group")?;
    let uids = header_values("impersonate-uid")?;
    let has_extra = headers
        .keys()
        .any(|k| k.as_str().starts_with("impersonate-extra-"));
    if users.is_empty() {
        if groups.is_empty() && uids.is_empty() && !has_extra {
            return Ok(caller);
        }
        // kube-apiserver 1.37 prints the requested user info with Go's %#v.
        return Err(ApiError::bad_request(format!(
            "requested {} without impersonating a user name",
            go_user_info(&groups, &uids, headers)
        )));
    }
    let user = users[0].clone();
    // The RBAC table has no resourceNames rules, so the impersonated name does not matter.
    let allowed = |resource: &str| {
        authorize(
            &caller,
            &Attributes {
                verb: "impersonate",
                group: "",
                resource,
                namespace: "",
            },
        )
        .allowed
    };
    if !allowed("users") {
        return Err(ApiError::forbidden(
            &caller.user,
            "impersonate",
            "",
            "users",
            "",
            &user,
        ));
    }
    for group in &groups {
        if !allowed("groups") {
            return Err(ApiError::forbidden(
                &caller.user,
                "impersonate",
                "",
                "groups",
                "",
                group,
            ));
        }
    }
    let mut all_groups = groups;
    if user != "system:anonymous" && !all_groups.iter().any(|g| g == AUTHENTICATED) {
        all_groups.push(AUTHENTICATED.to_owned());
    }
    // `Impersonate-Uid` needs `impersonate` on `uids.authentication.k8s.io`.
    let uid = uids.first().cloned().unwrap_or_default();
    if !uid.is_empty()
        && !authorize(
            &caller,
            &Attributes {
                verb: "impersonate",
                group: "authentication.k8s.io",
                resource: "uids",
                namespace: "",
            },
        )
        .allowed
    {
        return Err(ApiError::forbidden(
            &caller.user,
            "impersonate",
            "authentication.k8s.io",
            "uids",
            "",
            &uid,
        ));
    }
    Ok(Identity {
        user,
        uid,
        groups: all_groups,
    })
}

/// `&user.DefaultInfo{Name:"", UID:"", Groups:[]string{"a"}, Extra:map[string][]string(nil)}`:
/// the impersonation a request asked for without a user, as Go's `%#v` prints it.
fn go_user_info(groups: &[String], uids: &[String], headers: &HeaderMap) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    let strings = |items: &[String]| {
        if items.is_empty() {
            "[]string(nil)".to_owned()
        } else {
            let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
            format!("[]string{{{}}}", quoted.join(", "))
        }
    };
    let mut extra: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix("impersonate-extra-") {
            extra
                .entry(key.to_owned())
                .or_default()
                .push(value.to_str().unwrap_or_default().to_owned());
        }
    }
    let extra = if extra.is_empty() {
        "map[string][]string(nil)".to_owned()
    } else {
        let entries: Vec<String> = extra
            .iter()
            .map(|(k, v)| format!("{}:{}", quote(k), strings(v)))
            .collect();
        format!("map[string][]string{{{}}}", entries.join(", "))
    };
    format!(
        "&user.DefaultInfo{{Name:\"\", UID:{}, Groups:{}, Extra:{extra}}}",
        quote(uids.first().map(String::as_str).unwrap_or("")),
        strings(groups)
    )
}

/// What a request wants to do, as RBAC sees it.
#[derive(Clone, Copy, Debug)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    /// API group, `""` for core.
    pub group: &'a str,
    /// Plural resource name (`virtualservices`).
    pub resource: &'a str,
    /// `""` for cluster-scoped requests or lists across all namespaces.
    pub namespace: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// RBAC's explanation when allowed, empty when denied (as the real authorizer).
    pub reason: String,
}

/// One allow rule. `"*"` matches anything.
pub struct Rule {
    pub verbs: &'static [&'static str],
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
}

pub struct Role {
    pub name: &'static str,
    pub rules: &'static [Rule],
}

pub enum Subject {
    User(&'static str),
    Group(&'static str),
}

/// A binding of a role to a subject, cluster-wide (`namespace: None`, a ClusterRoleBinding) or in
/// one namespace (a RoleBinding).
pub struct Binding {
    pub name: &'static str,
    pub role: &'static str,
    pub subject: Subject,
    pub namespace: Option<&'static str>,
}

const READ: &[&str] = &["get", "list", "watch"];

pub static ROLES: &[Role] = &[
    Role {
        name: "cluster-admin",
        rules: &[Rule {
            verbs: &["*"],
            groups: &["*"],
            resources: &["*"],
        }],
    },
    Role {
        name: "switchyard-viewer",
        rules: &[Rule {
            verbs: READ,
            groups: &["*"],
            resources: &["*"],
        }],
    },
    Role {
        name: "switchyard-operator",
        rules: &[
            Rule {
                verbs: READ,
                groups: &["*"],
                resources: &["*"],
            },
            Rule {
                verbs: &["create"],
                groups: &[""],
                resources: &["events"],
            },
        ],
    },
    Role {
        name: "switchyard-virtualservice-editor",
        rules: &[
            Rule {
                verbs: &["get", "list", "watch", "patch", "update"],
                groups: &["networking.istio.io"],
                resources: &["virtualservices"],
            },
            Rule {
                verbs: &["get", "list", "watch", "patch", "update"],
                groups: &["gateway.networking.k8s.io"],
                resources: &["httproutes"],
            },
            // Release plans: create them, and record control actions on them (patch).
            Rule {
                verbs: &["get", "list", "watch", "create", "patch", "update"],
                groups: &["switchyard.dev"],
                resources: &["releaseplans"],
            },
        ],
    },
    Role {
        name: "system:basic-user",
        rules: &[
            Rule {
                verbs: &["create"],
                groups: &["authorization.k8s.io"],
                resources: &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            },
            Rule {
                verbs: &["create"],
                groups: &["authentication.k8s.io"],
                resources: &["selfsubjectreviews"],
            },
        ],
    },
];

pub static BINDINGS: &[Binding] = &[
    Binding {
        name: "cluster-admin",
        role: "cluster-admin",
        subject: Subject::Group("system:masters"),
        namespace: None,
    },
    Binding {
        name: "switchyard-admin",
        role: "cluster-admin",
        subject: Subject::User("admin"),
        namespace: None,
    },
    Binding {
        name: "switchyard-viewers",
        role: "switchyard-viewer",
        subject: Subject::Group("switchyard:viewers"),
        namespace: None,
    },
    Binding {
        name: "switchyard-viewer",
        role: "switchyard-viewer",
        subject: Subject::User("viewer"),
        namespace: None,
    },
    Binding {
        name: "switchyard-operators",
        role: "switchyard-operator",
        subject: Subject::Group("switchyard:operators"),
        namespace: None,
    },
    Binding {
        name: "switchyard-operator",
        role: "switchyard-operator",
        subject: Subject::User("operator"),
        namespace: None,
    },
    Binding {
        name: "switchyard-operators",
        role: "switchyard-virtualservice-editor",
        subject: Subject::Group("switchyard:operators"),
        namespace: Some("hands-on"),
    },
    Binding {
        name: "switchyard-operator",
        role: "switchyard-virtualservice-editor",
        subject: Subject::User("operator"),
        namespace: Some("hands-on"),
    },
    Binding {
        name: "switchyard-operators",
        role: "switchyard-virtualservice-editor",
        subject: Subject::Group("switchyard:operators"),
        namespace: Some("hands-on-gateway"),
    },
    Binding {
        name: "switchyard-operator",
        role: "switchyard-virtualservice-editor",
        subject: Subject::User("operator"),
        namespace: Some("hands-on-gateway"),
    },
    Binding {
        name: "system:basic-user",
        role: "system:basic-user",
        subject: Subject::Group(AUTHENTICATED),
        namespace: None,
    },
];

fn matches(list: &[&str], value: &str) -> bool {
    list.iter().any(|item| *item == "*" || *item == value)
}

/// Evaluates the RBAC table for `who` doing `what`.
pub fn authorize(who: &Identity, what: &Attributes<'_>) -> Decision {
    for binding in BINDINGS {
        let (subject_kind, subject_name, applies) = match binding.subject {
            Subject::User(user) => ("User", user, who.user == user),
            Subject::Group(group) => ("Group", group, who.groups.iter().any(|g| g == group)),
        };
        if !applies {
            continue;
        }
        // A RoleBinding only grants inside its namespace, never cluster-wide or all-namespace
        // requests.
        if let Some(ns) = binding.namespace {
            if what.namespace != ns {
                continue;
            }
        }
        let Some(role) = ROLES.iter().find(|r| r.name == binding.role) else {
            continue;
        };
        let granted = role.rules.iter().any(|rule| {
            matches(rule.verbs, what.verb)
                && matches(rule.groups, what.group)
                && matches(rule.resources, what.resource)
        });
        if granted {
            // RBAC names a RoleBinding "name/namespace" in its reasons.
            let (binding_kind, binding_label) = match binding.namespace {
                Some(ns) => ("RoleBinding", format!("{}/{ns}", binding.name)),
                None => ("ClusterRoleBinding", binding.name.to_owned()),
            };
            return Decision {
                allowed: true,
                reason: format!(
                    "RBAC: allowed by {binding_kind} \"{binding_label}\" of ClusterRole \"{}\" to {subject_kind} \"{subject_name}\"",
                    binding.role
                ),
            };
        }
    }
    Decision {
        allowed: false,
        reason: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(verb: &'a str, group: &'a str, resource: &'a str, ns: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            group,
            resource,
            namespace: ns,
        }
    }

    #[test]
    fn rbac_table() {
        let auth = Authenticator::with_tokens("a", "o", "v");
        let id = |t: &str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", format!("Bearer {t}").parse().unwrap());
            auth.authenticate(&h, None).unwrap().unwrap()
        };
        let (admin, operator, viewer) = (id("a"), id("o"), id("v"));
        let vs = "networking.istio.io";
        let cases: &[(&Identity, Attributes, bool)] = &[
            (&admin, attrs("delete", "", "namespaces", ""), true),
            (&admin, attrs("impersonate", "", "users", ""), true),
            (
                &operator,
                attrs("patch", vs, "virtualservices", "hands-on"),
                true,
            ),
            (
                &operator,
                attrs("update", vs, "virtualservices", "hands-on"),
                true,
            ),
            (
                &operator,
                attrs("patch", vs, "virtualservices", "other"),
                false,
            ),
            (&operator, attrs("patch", vs, "virtualservices", ""), false),
            (
                &operator,
                attrs("delete", vs, "virtualservices", "hands-on"),
                false,
            ),
            (
                &operator,
                attrs("patch", vs, "destinationrules", "hands-on"),
                false,
            ),
            (&operator, attrs("list", "", "pods", ""), true),
            (&operator, attrs("create", "", "events", "hands-on"), true),
            (&operator, attrs("impersonate", "", "users", ""), false),
            (
                &viewer,
                attrs("watch", vs, "virtualservices", "hands-on"),
                true,
            ),
            (
                &viewer,
                attrs("patch", vs, "virtualservices", "hands-on"),
                false,
            ),
            (
                &viewer,
                attrs("patch", "switchyard.dev", "releaseplans", "hands-on"),
                false,
            ),
            (
                &operator,
                attrs("patch", "switchyard.dev", "releaseplans", "hands-on"),
                true,
            ),
            (
                &operator,
                attrs("patch", "switchyard.dev", "releaseplans/status", "hands-on"),
                false,
            ),
            (&viewer, attrs("create", "", "events", "hands-on"), false),
            (
                &viewer,
                attrs(
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                ),
                true,
            ),
        ];
        for (who, what, want) in cases {
            assert_eq!(
                authorize(who, what).allowed,
                *want,
                "{} {:?}",
                who.user,
                what
            );
        }
    }

    #[test]
    fn allow_reason_names_the_binding() {
        let op = Identity::new("operator", &["switchyard:operators", AUTHENTICATED]);
        let d = authorize(
            &op,
            &attrs(
                "patch",
                "networking.istio.io",
                "virtualservices",
                "hands-on",
            ),
        );
        assert_eq!(
            d.reason,
            "RBAC: allowed by RoleBinding \"switchyard-operators/hands-on\" of ClusterRole \"switchyard-virtualservice-editor\" to Group \"switchyard:operators\""
        );
        let d = authorize(&op, &attrs("list", "", "pods", ""));
        assert_eq!(
            d.reason,
            "RBAC: allowed by ClusterRoleBinding \"switchyard-operators\" of ClusterRole \"switchyard-operator\" to Group \"switchyard:operators\""
        );
    }

    #[test]
    fn bad_tokens_are_unauthorized() {
        let auth = Authenticator::with_tokens("a", "o", "v");
        let mut h = HeaderMap::new();
        assert_eq!(auth.authenticate(&h, None), Ok(None));
        assert_eq!(
            auth.authenticate(&h, Some("v")).unwrap().unwrap().user,
            "viewer"
        );
        assert_eq!(auth.authenticate(&h, Some("x")).unwrap_err().code, 401);
        h.insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(auth.authenticate(&h, Some("v")).unwrap_err().code, 401);
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(auth.authenticate(&h, None).unwrap_err().code, 401);
    }

    #[test]
    fn token_prefix() {
        assert_eq!(
            split_token_prefix("/token/abc/api/v1"),
            (Some("abc"), "/api/v1")
        );
        assert_eq!(split_token_prefix("/token/abc"), (Some("abc"), "/"));
        assert_eq!(split_token_prefix("/api/v1"), (None, "/api/v1"));
    }

    #[test]
    fn impersonation_rules() {
        let admin = Identity::new("admin", &["system:masters", AUTHENTICATED]);
        let operator = Identity::new("operator", &["switchyard:operators", AUTHENTICATED]);
        let mut h = HeaderMap::new();
        assert_eq!(impersonate(admin.clone(), &h).unwrap(), admin);
        h.append("impersonate-group", "switchyard:viewers".parse().unwrap());
        let err = impersonate(admin.clone(), &h).unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "requested &user.DefaultInfo{Name:\"\", UID:\"\", Groups:[]string{\"switchyard:viewers\"}, Extra:map[string][]string(nil)} without impersonating a user name"
        );
        h.append("impersonate-user", "jane".parse().unwrap());
        h.append("impersonate-group", "team-a".parse().unwrap());
        let jane = impersonate(admin, &h).unwrap();
        assert_eq!(jane.user, "jane");
        assert_eq!(
            jane.groups,
            vec!["switchyard:viewers", "team-a", AUTHENTICATED]
        );
        let err = impersonate(operator, &h).unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "users \"jane\" is forbidden: User \"operator\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
        );
    }
}
