//! Who is calling, and with which Kubernetes credentials their reads and writes go out, so that
//! the cluster's RBAC decides what each person may do:
//! - `anonymous`: the console's own credentials; writes only when it listens on loopback.
//! - `token`: the person's own bearer token, from a session (`sessions`: the HttpOnly cookie set by
//!   `POST /api/v1/session` holds a session id; the token stays in the cluster), or an
//!   `Authorization: Bearer` header for scripts.
//! - `header`: behind a trusted proxy (e.g. oauth2-proxy) that names the user and groups in
//!   headers; the console impersonates them (`Impersonate-User`/`Impersonate-Group`).
//!
//! Besides the cluster caches in `cluster/`, this is the only module that calls the Kubernetes
//! API: SelfSubjectReviews (who a token belongs to) and SelfSubjectAccessReviews (which
//! namespaces a caller may read, whether they may patch a VirtualService). Every answer is kept
//! per caller for a minute, so requests do not repeat the reviews.
//!
//! Tokens are kept in memory only, as cache keys for per-user clients; they are never logged.

mod sessions;

pub use sessions::{human as human_duration, SessionLimits, Sessions, SESSION_LABELS};

use axum::http::request::Parts;
use axum::http::HeaderName;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_protocol::RouteKind;

/// Name of the session cookie in token mode; it carries a session id, never a token.
pub const SESSION_COOKIE: &str = "switchyard_session";

/// How long a token's identity and per-user client are reused before the cluster is asked again.
const IDENTITY_TTL: Duration = Duration::from_secs(60);
/// How long an answer to "may this caller patch that VirtualService" is reused.
const ACCESS_TTL: Duration = Duration::from_secs(60);
/// Most per-user clients (and per-user access answers) kept at once.
const MAX_CLIENTS: usize = 256;

#[derive(Clone, Debug)]
pub enum Mode {
    Anonymous,
    Token,
    Header {
        user_header: HeaderName,
        groups_header: HeaderName,
    },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Anonymous => "anonymous",
            Mode::Token => "token",
            Mode::Header { .. } => "header",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("the Kubernetes API could not check the credentials: {0}")]
    Upstream(String),
    /// A call made to check the credentials failed, as the cluster answered (or did not).
    #[error(transparent)]
    Cluster(crate::cluster::Error),
}

impl AuthError {
    fn from_call(e: kube::Error) -> Self {
        AuthError::Cluster(crate::cluster::Error::from_call(e))
    }
}

/// How a request says who it is in token mode.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>` (scripts).
    Bearer(String),
    /// The session cookie's id (browsers).
    Session(String),
}

/// A person the console acts for.
#[derive(Clone)]
pub struct Caller {
    pub user: String,
    pub groups: Vec<String>,
    /// Client that carries the caller's credentials (or the console's in anonymous mode).
    pub client: Client,
    /// Whether the console accepts writes from this caller at all (the cluster may still refuse).
    pub may_write: bool,
    /// Why not, when not.
    pub reason: Option<String>,
    /// Namespaces whose VirtualServices the caller may list, as the cluster says; `None` for
    /// every namespace in scope (anonymous mode, where the console's own view is shown).
    pub readable: Option<Vec<String>>,
    /// Which identity this is, for the per-caller caches (holds the token; never logged).
    key: String,
}

impl Caller {
    /// Whether the caller may see objects of this namespace.
    pub fn sees(&self, namespace: &str) -> bool {
        self.readable
            .as_ref()
            .is_none_or(|namespaces| namespaces.iter().any(|n| n == namespace))
    }
}

/// Values kept for a while per caller key, at most `MAX_CLIENTS` of them.
struct Expiring<V> {
    ttl: Duration,
    entries: HashMap<String, (Instant, V)>,
}

impl<V: Clone> Expiring<V> {
    fn new(ttl: Duration) -> Self {
        Expiring {
            ttl,
            entries: HashMap::new(),
        }
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v)
    }

    /// The live entry for `key`, a fresh default one when there is none or it expired.
    fn entry(&mut self, key: &str) -> &mut V
    where
        V: Default,
    {
        if self.get(key).is_none() {
            self.insert(key.to_owned(), V::default());
        }
        &mut self
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| (Instant::now(), V::default()))
            .1
    }

    fn insert(&mut self, key: String, value: V) {
        if self.entries.len() >= MAX_CLIENTS {
            let ttl = self.ttl;
            self.entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if self.entries.len() >= MAX_CLIENTS {
                if let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(key, (Instant::now(), value));
    }
}

/// A SelfSubjectAccessReview's answer: allowed, and the authorizer's reason when it gave one.
pub type Decision = (bool, Option<String>);

/// What an access review asks about: a route object of either kind, or a release plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Route(RouteKind),
    /// `releaseplans` in `switchyard.dev`: pausing, resuming, promoting or aborting a plan is a
    /// patch on it.
    ReleasePlan,
}

impl Resource {
    /// The API group and the resource (plural) the cluster's RBAC names.
    pub fn group_resource(self) -> (&'static str, &'static str) {
        match self {
            Resource::Route(RouteKind::VirtualService) => {
                ("networking.istio.io", "virtualservices")
            }
            Resource::Route(RouteKind::HTTPRoute) => ("gateway.networking.k8s.io", "httproutes"),
            Resource::ReleasePlan => (
                crate::cluster::plan_object::GROUP,
                crate::cluster::plan_object::PLURAL,
            ),
        }
    }
}

/// One caller's answers, per object (resource, namespace, name).
type Answers = HashMap<(Resource, String, String), Decision>;

/// Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    mode: Mode,
    /// Anonymous mode only: whether writes are allowed (loopback listeners).
    anonymous_writes: bool,
    /// Connection settings (URL, CA) the per-user clients share, without credentials.
    base: Option<kube::Config>,
    console: Client,
    callers: Arc<Mutex<Expiring<Caller>>>,
    /// Per caller: whether they may patch each route object and release plan.
    access: Arc<Mutex<Expiring<Answers>>>,
    /// Namespaces in scope, checked for read access per user.
    namespaces: Arc<Vec<String>>,
    /// SelfSubjectReviews and SelfSubjectAccessReviews posted so far.
    reviews: Arc<AtomicU64>,
    /// Token mode's browser sessions (`None` in the other modes).
    sessions: Option<Sessions>,
}

impl Auth {
    /// `base` is the console's own config; per-user clients copy its connection settings.
    pub fn new(
        mode: Mode,
        console: Client,
        base: Option<kube::Config>,
        anonymous_writes: bool,
    ) -> Self {
        Auth {
            mode,
            anonymous_writes,
            base,
            console,
            callers: Arc::new(Mutex::new(Expiring::new(IDENTITY_TTL))),
            access: Arc::new(Mutex::new(Expiring::new(ACCESS_TTL))),
            namespaces: Arc::default(),
            reviews: Arc::default(),
            sessions: None,
        }
    }

    /// Keeps token mode's browser sessions in this store.
    pub fn with_sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    pub fn sessions(&self) -> Option<&Sessions> {
        self.sessions.as_ref()
    }

    /// Checks each user's read access to these namespaces (token and header modes), so people see
    /// only the VirtualServices the cluster lets them list.
    pub fn scoped(mut self, namespaces: Vec<String>) -> Self {
        self.namespaces = Arc::new(namespaces);
        self
    }

    /// The namespaces in scope this client may list VirtualServices in; `None` when the console
    /// was not scoped (every namespace it watches is shown).
    async fn readable(&self, client: &Client) -> Result<Option<Vec<String>>, AuthError> {
        if self.namespaces.is_empty() {
            return Ok(None);
        }
        let mut readable = Vec::new();
        for namespace in self.namespaces.iter() {
            // Readable: the caller may list VirtualServices there, or else HTTPRoutes (asked
            // only when VirtualServices are refused).
            let mut allowed = false;
            for kind in RouteKind::ALL {
                let (yes, _) = self
                    .review(client, Resource::Route(kind), "list", namespace, None)
                    .await
                    .map_err(AuthError::from_call)?;
                if yes {
                    allowed = true;
                    break;
                }
            }
            if allowed {
                readable.push(namespace.clone());
            }
        }
        Ok(Some(readable))
    }

    /// How many SelfSubjectReviews and SelfSubjectAccessReviews the console has posted.
    pub fn reviews_sent(&self) -> u64 {
        self.reviews.load(Ordering::Relaxed)
    }

    /// Whether `caller` may patch VirtualService `namespace/name`, as a SelfSubjectAccessReview
    /// with their credentials answers. Answers are kept per caller for a minute; a review that
    /// failed is not kept, so the next request asks again.
    pub async fn may_patch(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<Decision, kube::Error> {
        self.may_patch_route(caller, RouteKind::VirtualService, namespace, name)
            .await
    }

    /// [`Auth::may_patch`] for a route object of either kind (HTTPRoutes: `patch httproutes` in
    /// `gateway.networking.k8s.io`).
    pub async fn may_patch_route(
        &self,
        caller: &Caller,
        kind: RouteKind,
        namespace: &str,
        name: &str,
    ) -> Result<Decision, kube::Error> {
        self.may_patch_object(caller, Resource::Route(kind), namespace, name)
            .await
    }

    /// Whether `caller` may steer release plan `namespace/name` (pause, resume, promote, abort:
    /// each a patch on the plan), kept like the routes' answers.
    pub async fn may_patch_plan(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<Decision, kube::Error> {
        self.may_patch_object(caller, Resource::ReleasePlan, namespace, name)
            .await
    }

    async fn may_patch_object(
        &self,
        caller: &Caller,
        resource: Resource,
        namespace: &str,
        name: &str,
    ) -> Result<Decision, kube::Error> {
        let target = (resource, namespace.to_owned(), name.to_owned());
        if let Some(decision) = self
            .access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&caller.key)
            .and_then(|answers| answers.get(&target))
        {
            return Ok(decision.clone());
        }
        let decision = self
            .review(&caller.client, resource, "patch", namespace, Some(name))
            .await?;
        self.access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(&caller.key)
            .insert(target, decision.clone());
        Ok(decision)
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The console's own client (caches, history records).
    pub fn console_client(&self) -> &Client {
        &self.console
    }

    /// Completes when the session a request came with ends (signed out anywhere, or expired), so
    /// a long-lived response such as the event stream stops with it; never for other credentials.
    /// Checked every `every`; a check the cluster could not answer does not end it.
    pub async fn session_ended(&self, headers: &http::HeaderMap, every: Duration) {
        let (Some(sessions), Some(id)) = (self.sessions.as_ref(), session_id(headers)) else {
            return std::future::pending().await;
        };
        if !matches!(self.mode, Mode::Token) || headers.contains_key(http::header::AUTHORIZATION) {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(every).await;
            if let Err(AuthError::Unauthenticated(_)) = sessions.holds(&id).await {
                return;
            }
        }
    }

    /// Identifies the caller of a request.
    pub async fn caller(&self, parts: &Parts) -> Result<Caller, AuthError> {
        match &self.mode {
            Mode::Anonymous => Ok(Caller {
                user: "anonymous".into(),
                groups: vec![],
                client: self.console.clone(),
                may_write: self.anonymous_writes,
                readable: None,
                key: "anonymous".into(),
                reason: (!self.anonymous_writes).then(|| {
                    "this console runs without authentication and is not on loopback, so it is read-only".to_owned()
                }),
            }),
            Mode::Token => match credential(parts) {
                Some(Credential::Bearer(token)) => self.token_caller(&token).await,
                Some(Credential::Session(id)) => {
                    let sessions = self.sessions.as_ref().ok_or_else(|| {
                        AuthError::Upstream("this console keeps no sessions".into())
                    })?;
                    let token = sessions.token(&id).await?;
                    self.token_caller(&token).await
                }
                None => Err(AuthError::Unauthenticated(
                    "sign in with a Kubernetes bearer token".into(),
                )),
            },
            Mode::Header {
                user_header,
                groups_header,
            } => {
                let user = parts
                    .headers
                    .get(user_header)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        AuthError::Unauthenticated(format!("the proxy did not send the {user_header} header"))
                    })?
                    .to_owned();
                let groups: Vec<String> = parts
                    .headers
                    .get_all(groups_header)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(|g| g.trim().to_owned())
                    .filter(|g| !g.is_empty())
                    .collect();
                self.impersonating_caller(user, groups).await
            }
        }
    }

    fn cached(&self, key: &str) -> Option<Caller> {
        let callers = self.callers.lock().unwrap_or_else(|e| e.into_inner());
        callers.get(key).cloned()
    }

    fn remember(&self, key: String, caller: Caller) {
        let mut callers = self.callers.lock().unwrap_or_else(|e| e.into_inner());
        callers.insert(key, caller);
    }

    fn base_config(&self) -> Result<kube::Config, AuthError> {
        let mut config = self.base.clone().ok_or_else(|| {
            AuthError::Upstream("no cluster configuration to build user clients from".into())
        })?;
        config.auth_info = kube::config::AuthInfo::default();
        Ok(config)
    }

    /// Checks a token with a SelfSubjectReview (which also names its user) and builds its client.
    pub async fn token_caller(&self, token: &str) -> Result<Caller, AuthError> {
        let key = format!("token:{token}");
        if let Some(caller) = self.cached(&key) {
            return Ok(caller);
        }
        let mut config = self.base_config()?;
        config.auth_info.token = Some(secrecy::SecretString::from(token.to_owned()));
        let client = Client::try_from(config).map_err(AuthError::from_call)?;
        self.reviews.fetch_add(1, Ordering::Relaxed);
        let review = Api::<SelfSubjectReview>::all(client.clone())
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| match e {
                kube::Error::Api(s) if s.code == 401 => {
                    AuthError::Unauthenticated("the cluster does not accept this token".into())
                }
                other => AuthError::from_call(other),
            })?;
        let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
        let readable = self.readable(&client).await?;
        let caller = Caller {
            user: info.username.unwrap_or_else(|| "unknown".into()),
            groups: info.groups.unwrap_or_default(),
            client,
            may_write: true,
            reason: None,
            readable,
            key: key.clone(),
        };
        self.remember(key, caller.clone());
        Ok(caller)
    }

    async fn impersonating_caller(
        &self,
        user: String,
        groups: Vec<String>,
    ) -> Result<Caller, AuthError> {
        let key = format!("header:{user}:{}", groups.join(","));
        if let Some(caller) = self.cached(&key) {
            return Ok(caller);
        }
        let mut config = self.base.clone().ok_or_else(|| {
            AuthError::Upstream("no cluster configuration to impersonate with".into())
        })?;
        config.auth_info.impersonate = Some(user.clone());
        config.auth_info.impersonate_groups = (!groups.is_empty()).then(|| groups.clone());
        let client = Client::try_from(config).map_err(AuthError::from_call)?;
        let readable = self.readable(&client).await?;
        let caller = Caller {
            user,
            groups,
            client,
            may_write: true,
            reason: None,
            readable,
            key: key.clone(),
        };
        self.remember(key, caller.clone());
        Ok(caller)
    }
}

impl Auth {
    /// Asks the cluster whether the client's user may `verb` a resource (one object, or all) in a
    /// namespace. Uncached: callers go through `readable` or `may_patch`, which keep the answers.
    async fn review(
        &self,
        client: &Client,
        resource: Resource,
        verb: &str,
        namespace: &str,
        name: Option<&str>,
    ) -> Result<Decision, kube::Error> {
        self.reviews.fetch_add(1, Ordering::Relaxed);
        access_review(client, resource, verb, namespace, name).await
    }
}

async fn access_review(
    client: &Client,
    resource: Resource,
    verb: &str,
    namespace: &str,
    name: Option<&str>,
) -> Result<Decision, kube::Error> {
    let (group, resource) = resource.group_resource();
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some(verb.to_owned()),
                group: Some(group.to_owned()),
                resource: Some(resource.to_owned()),
                name: name.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await?;
    let status = answer.status.unwrap_or_default();
    let reason = status.reason.filter(|r| !r.is_empty());
    Ok((status.allowed, reason))
}

/// How a request identifies itself in token mode: an `Authorization: Bearer` header (scripts)
/// wins over the session cookie (browsers).
pub fn credential(parts: &Parts) -> Option<Credential> {
    if let Some(token) = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(Credential::Bearer(token.to_owned()));
    }
    session_id(&parts.headers).map(Credential::Session)
}

/// The session cookie's value, when the request carries one.
pub fn session_id(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::builder().uri("/api/v1/routes");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn kept_answers_expire_and_stay_bounded() {
        let mut kept: Expiring<u32> = Expiring::new(Duration::from_secs(60));
        kept.insert("a".into(), 1);
        assert_eq!(kept.get("a"), Some(&1));
        *kept.entry("a") += 1;
        assert_eq!(kept.get("a"), Some(&2));
        // A new key starts from the default.
        assert_eq!(*kept.entry("b"), 0);
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            kept.insert(format!("k{i}"), i);
        }
        assert!(kept.entries.len() <= MAX_CLIENTS);
        // The newest is always kept.
        let newest = MAX_CLIENTS as u32 + 9;
        assert_eq!(kept.get(&format!("k{newest}")), Some(&newest));

        let mut expired: Expiring<u32> = Expiring::new(Duration::ZERO);
        expired.insert("a".into(), 1);
        assert_eq!(expired.get("a"), None);
        // An expired entry is replaced, not reused.
        assert_eq!(*expired.entry("a"), 0);
    }

    #[test]
    fn finds_the_token_header_or_the_session_cookie() {
        assert_eq!(
            credential(&parts(&[("authorization", "Bearer abc")])),
            Some(Credential::Bearer("abc".into()))
        );
        assert_eq!(
            credential(&parts(&[(
                "cookie",
                "theme=dark; switchyard_session=xyz; other=1"
            )])),
            Some(Credential::Session("xyz".into()))
        );
        // The header wins: a script's token is not overridden by a stray cookie.
        assert_eq!(
            credential(&parts(&[
                ("authorization", "Bearer abc"),
                ("cookie", "switchyard_session=xyz")
            ])),
            Some(Credential::Bearer("abc".into()))
        );
        // The old cookie that held a raw token is not a credential any more.
        assert_eq!(
            credential(&parts(&[("cookie", "switchyard_token=t")])),
            None
        );
        assert_eq!(credential(&parts(&[("authorization", "Basic abc")])), None);
        assert_eq!(
            credential(&parts(&[("cookie", "switchyard_session=")])),
            None
        );
        assert_eq!(credential(&parts(&[])), None);
    }
}
