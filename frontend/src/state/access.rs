//! Who the caller is (`/api/v1/whoami`) and whether they may patch each VirtualService and
//! HTTPRoute, and steer each release plan (`/api/v1/access`, the cluster's
//! SelfSubjectAccessReview with their credentials). The controls read [`Permission`] from here:
//! read-only with the reason when the cluster says no.
//!
//! The rules are pure functions over the wire types, unit-tested natively; the store only holds
//! the answers in signals.

use super::routes::VsKey;
use crate::api::Error;
use leptos::prelude::*;
use std::collections::BTreeMap;
use switchyard_protocol::{AccessResponse, RouteKind, WhoAmI};

/// Whether a person may change a VirtualService from this page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// The cluster said yes, or has not been asked yet: the write itself decides (and a refusal
    /// is shown as such).
    Editable,
    /// The cluster (or the console) said no; the reason is shown beside the disabled controls.
    ReadOnly(String),
}

impl Permission {
    pub fn is_editable(&self) -> bool {
        matches!(self, Permission::Editable)
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Permission::Editable => None,
            Permission::ReadOnly(reason) => Some(reason),
        }
    }
}

/// Where the session stands, from the answer to `/api/v1/whoami`.
#[derive(Clone, Debug, PartialEq)]
pub enum Session {
    /// Not asked yet.
    Unknown,
    /// Token mode without a valid session cookie: the page shows the sign-in form only.
    SignedOut { reason: Option<String> },
    /// Anonymous, header or a signed-in token session.
    Ready(WhoAmI),
    /// The question could not be answered; the page carries on (reads decide) and says why.
    Failed(String),
}

impl Session {
    pub fn from_answer(answer: Result<WhoAmI, Error>) -> Session {
        match answer {
            Ok(who) if who.auth_mode == "token" && who.user.is_none() => {
                Session::SignedOut { reason: who.reason }
            }
            Ok(who) => Session::Ready(who),
            // Reads answer 401 without a session in token mode; whoami itself does not, but a
            // proxy in front might.
            Err(Error::Api(e)) if e.code == "unauthorized" => Session::SignedOut {
                reason: Some(e.message),
            },
            Err(error) => Session::Failed(error.to_string()),
        }
    }

    /// Whether the console (routes, actions, history) can be shown.
    pub fn shows_console(&self) -> bool {
        matches!(self, Session::Ready(_) | Session::Failed(_))
    }

    pub fn who(&self) -> Option<&WhoAmI> {
        match self {
            Session::Ready(who) => Some(who),
            _ => None,
        }
    }
}

/// The permission for one VirtualService: the console's own "no writes from you" first, then
/// the cluster's answer for that object. Unknown objects are editable (the write decides).
pub fn permission(
    who: Option<&WhoAmI>,
    access: &BTreeMap<VsKey, (bool, Option<String>)>,
    key: &VsKey,
) -> Permission {
    decide(who, access.get(key), || {
        let resource = match key.kind {
            RouteKind::VirtualService => "virtualservices",
            RouteKind::HTTPRoute => "httproutes",
        };
        format!("you may not patch {resource} in {}", key.namespace.as_str())
    })
}

/// The permission to steer one release plan (namespace, id): pause, resume, promote and abort
/// are patches on the plan, so the server's answer for the plan decides (it holds the console's
/// own refusal too), not the one for its targets, nor whoami's "may write", which is about
/// routes. A plan not asked about yet falls back to whoami.
pub fn plan_permission(
    who: Option<&WhoAmI>,
    plans: &PlanAnswers,
    namespace: &str,
    id: &str,
) -> Permission {
    let refused = || format!("you may not patch releaseplans in {namespace}");
    match plans.get(&(namespace.to_owned(), id.to_owned())) {
        Some((true, _)) => Permission::Editable,
        Some((false, reason)) => Permission::ReadOnly(reason.clone().unwrap_or_else(refused)),
        None => decide(who, None, refused),
    }
}

/// The console's "no writes from you" first, then the cluster's answer when there is one;
/// `refused` words a refusal the cluster gave no reason for.
fn decide(
    who: Option<&WhoAmI>,
    answer: Option<&(bool, Option<String>)>,
    refused: impl FnOnce() -> String,
) -> Permission {
    if let Some(who) = who {
        if !who.may_write {
            return Permission::ReadOnly(
                who.reason
                    .clone()
                    .unwrap_or_else(|| "this console accepts no changes from you".into()),
            );
        }
    }
    match answer {
        Some((false, reason)) => Permission::ReadOnly(reason.clone().unwrap_or_else(refused)),
        _ => Permission::Editable,
    }
}

/// The cluster's answers for release plans: (namespace, id) → (may patch, reason).
pub type PlanAnswers = BTreeMap<(String, String), (bool, Option<String>)>;

/// The access answer for release plans, keyed by (namespace, id).
pub fn index_plan_access(response: &AccessResponse) -> PlanAnswers {
    response
        .plans
        .iter()
        .map(|a| {
            (
                (a.namespace.clone(), a.name.clone()),
                (a.can_patch, a.reason.clone()),
            )
        })
        .collect()
}

/// The access answer keyed by route object (VirtualServices and HTTPRoutes).
pub fn index_access(response: AccessResponse) -> BTreeMap<VsKey, (bool, Option<String>)> {
    let of = |kind: RouteKind| {
        move |a: switchyard_protocol::Access| {
            (
                VsKey {
                    namespace: a.namespace,
                    name: a.name,
                    kind,
                },
                (a.can_patch, a.reason),
            )
        }
    };
    response
        .virtual_services
        .into_iter()
        .map(of(RouteKind::VirtualService))
        .chain(
            response
                .http_routes
                .into_iter()
                .map(of(RouteKind::HTTPRoute)),
        )
        .collect()
}

/// The session and the access answers, shared by every control on the page.
#[derive(Clone, Copy)]
pub struct AccessStore {
    pub session: RwSignal<Session>,
    access: RwSignal<BTreeMap<VsKey, (bool, Option<String>)>>,
    plans: RwSignal<PlanAnswers>,
    /// Why the access question could not be answered, when it could not (shown, not hidden).
    pub problem: RwSignal<Option<String>>,
}

pub fn provide_access() -> AccessStore {
    let store = AccessStore {
        session: RwSignal::new(Session::Unknown),
        access: RwSignal::new(BTreeMap::new()),
        plans: RwSignal::new(BTreeMap::new()),
        problem: RwSignal::new(None),
    };
    provide_context(store);
    store
}

/// The store, if the app provided one; components that can live without it (the weight cards)
/// treat its absence as "editable".
pub fn use_access() -> Option<AccessStore> {
    use_context::<AccessStore>()
}

impl AccessStore {
    /// Tracked: re-runs the caller when the session or the access answers change.
    pub fn permission(&self, key: &VsKey) -> Permission {
        let session = self.session.read();
        let access = self.access.read();
        permission(session.who(), &access, key)
    }

    /// Tracked, like [`AccessStore::permission`]: whether this person may steer plan `id`.
    pub fn plan_permission(&self, namespace: &str, id: &str) -> Permission {
        let session = self.session.read();
        let plans = self.plans.read();
        plan_permission(session.who(), &plans, namespace, id)
    }

    pub fn set_access(&self, response: AccessResponse) {
        self.plans.set(index_plan_access(&response));
        self.access.set(index_access(response));
        self.problem.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::Access;

    fn who(mode: &str, user: Option<&str>, may_write: bool) -> WhoAmI {
        WhoAmI {
            auth_mode: mode.into(),
            user: user.map(Into::into),
            groups: vec![],
            may_write,
            reason: (!may_write).then(|| "anonymous mode writes only on loopback".into()),
        }
    }

    fn key(name: &str) -> VsKey {
        VsKey {
            kind: RouteKind::VirtualService,
            namespace: "hands-on".into(),
            name: name.into(),
        }
    }

    #[test]
    fn token_mode_without_a_user_signs_in() {
        assert_eq!(
            Session::from_answer(Ok(who("token", None, false))),
            Session::SignedOut {
                reason: Some("anonymous mode writes only on loopback".into())
            }
        );
        assert!(Session::from_answer(Ok(who("token", Some("operator"), true))).shows_console());
        assert!(
            Session::from_answer(Ok(who("anonymous", Some("anonymous"), true))).shows_console()
        );
        let unauthorized = Error::Api(Box::new(switchyard_protocol::ApiError {
            code: "unauthorized".into(),
            message: "sign in".into(),
            current: None,
            current_http_route: None,
        }));
        assert!(!Session::from_answer(Err(unauthorized)).shows_console());
        let down = Session::from_answer(Err(Error::Network("refused".into())));
        assert!(matches!(down, Session::Failed(_)));
        assert!(down.shows_console());
    }

    #[test]
    fn the_cluster_decides_per_virtual_service() {
        let access = index_access(AccessResponse {
            virtual_services: vec![
                Access {
                    namespace: "hands-on".into(),
                    name: "review".into(),
                    can_patch: false,
                    reason: Some("RBAC: viewer may not patch".into()),
                },
                Access {
                    namespace: "hands-on".into(),
                    name: "product".into(),
                    can_patch: false,
                    reason: None,
                },
                Access {
                    namespace: "hands-on".into(),
                    name: "recommendation".into(),
                    can_patch: true,
                    reason: None,
                },
            ],
            http_routes: vec![Access {
                namespace: "hands-on".into(),
                name: "review".into(),
                can_patch: true,
                reason: None,
            }],
            plans: vec![],
        });
        let operator = who("token", Some("operator"), true);
        assert_eq!(
            permission(Some(&operator), &access, &key("review")),
            Permission::ReadOnly("RBAC: viewer may not patch".into())
        );
        assert_eq!(
            permission(Some(&operator), &access, &key("product")).reason(),
            Some("you may not patch virtualservices in hands-on")
        );
        // An HTTPRoute of the same name is another object with its own answer.
        let http_review = VsKey {
            kind: RouteKind::HTTPRoute,
            ..key("review")
        };
        assert_eq!(
            permission(Some(&operator), &access, &http_review),
            Permission::Editable
        );
        assert!(permission(Some(&operator), &access, &key("recommendation")).is_editable());
        // Not asked about yet: the write decides.
        assert!(permission(Some(&operator), &access, &key("new-one")).is_editable());
        assert!(permission(None, &BTreeMap::new(), &key("review")).is_editable());
    }

    #[test]
    fn a_plan_is_steered_by_the_answer_for_the_plan_not_for_its_routes() {
        let response = AccessResponse {
            // May patch the route review, but not the plan over it.
            virtual_services: vec![Access {
                namespace: "hands-on".into(),
                name: "review".into(),
                can_patch: true,
                reason: None,
            }],
            http_routes: vec![],
            plans: vec![
                Access {
                    namespace: "hands-on".into(),
                    name: "plan-a".into(),
                    can_patch: false,
                    reason: None,
                },
                Access {
                    namespace: "hands-on".into(),
                    name: "plan-b".into(),
                    can_patch: true,
                    reason: None,
                },
            ],
        };
        let plans = index_plan_access(&response);
        let operator = who("token", Some("operator"), true);
        assert_eq!(
            plan_permission(Some(&operator), &plans, "hands-on", "plan-a").reason(),
            Some("you may not patch releaseplans in hands-on")
        );
        assert!(plan_permission(Some(&operator), &plans, "hands-on", "plan-b").is_editable());
        // The same id in another namespace is another plan, not asked about yet.
        assert!(plan_permission(Some(&operator), &plans, "other", "plan-a").is_editable());
        // whoami's "may write" is about routes: someone who may patch none of them may still
        // steer a plan the cluster lets them patch.
        let no_routes = WhoAmI {
            reason: Some("viewer may patch none of the VirtualServices".into()),
            ..who("token", Some("viewer"), false)
        };
        assert!(plan_permission(Some(&no_routes), &plans, "hands-on", "plan-b").is_editable());
        // Not asked about yet: whoami's answer stands.
        let remote = who("anonymous", Some("anonymous"), false);
        assert_eq!(
            plan_permission(Some(&remote), &plans, "hands-on", "plan-c").reason(),
            Some("anonymous mode writes only on loopback")
        );
        assert!(index_access(response).contains_key(&key("review")));
    }

    #[test]
    fn a_console_that_takes_no_writes_makes_everything_read_only() {
        let remote = who("anonymous", Some("anonymous"), false);
        assert_eq!(
            permission(Some(&remote), &BTreeMap::new(), &key("review")).reason(),
            Some("anonymous mode writes only on loopback")
        );
    }
}
