//! Who is calling, and with which Kubernetes credentials their reads and writes go out, so that
//! the cluster's RBAC decides what each person may do:
//! - `anonymous`: the console's own credentials; writes only when it listens on loopback.
//! - `token`: the person's own bearer token (from an HttpOnly session cookie set by
//!   `POST /api/v1/session`, or an `Authorization: Bearer` header for scripts).
//! - `header`: behind a trusted proxy (e.g. oauth2-proxy) that names the user and groups in
//!   headers; the console impersonates them (`Impersonate-User`/`Impersonate-Group`).
//!
//! Tokens are kept in memory only, as cache keys for per-user clients; they are never logged.

use axum::http::request::Parts;
use axum::http::HeaderName;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Name of the session cookie that carries the bearer token in token mode.
pub const TOKEN_COOKIE: &str = "switchyard_token";

/// How long a token's identity and per-user client are reused before the cluster is asked again.
const IDENTITY_TTL: Duration = Duration::from_secs(60);
/// Most per-user clients kept at once.
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
}

impl Caller {
    /// Whether the caller may see objects of this namespace.
    pub fn sees(&self, namespace: &str) -> bool {
        self.readable
            .as_ref()
            .is_none_or(|namespaces| namespaces.iter().any(|n| n == namespace))
    }
}

struct Cached {
    caller: Caller,
    at: Instant,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    mode: Mode,
    /// Anonymous mode only: whether writes are allowed (loopback listeners).
    anonymous_writes: bool,
    /// Connection settings (URL, CA) the per-user clients share, without credentials.
    base: Option<kube::Config>,
    console: Client,
    callers: Arc<Mutex<HashMap<String, Cached>>>,
    /// Namespaces in scope, checked for read access per user.
    namespaces: Arc<Vec<String>>,
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
            callers: Arc::default(),
            namespaces: Arc::default(),
        }
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
            let (allowed, _) = may(client, "list", namespace, None)
                .await
                .map_err(|e| AuthError::Upstream(e.to_string()))?;
            if allowed {
                readable.push(namespace.clone());
            }
        }
        Ok(Some(readable))
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The console's own client (caches, history records).
    pub fn console_client(&self) -> &Client {
        &self.console
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
                reason: (!self.anonymous_writes).then(|| {
                    "this console runs without authentication and is not on loopback, so it is read-only".to_owned()
                }),
            }),
            Mode::Token => {
                let token = bearer_token(parts).ok_or_else(|| {
                    AuthError::Unauthenticated("sign in with a Kubernetes bearer token".into())
                })?;
                self.token_caller(&token).await
            }
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
        callers
            .get(key)
            .filter(|c| c.at.elapsed() < IDENTITY_TTL)
            .map(|c| c.caller.clone())
    }

    fn remember(&self, key: String, caller: Caller) {
        let mut callers = self.callers.lock().unwrap_or_else(|e| e.into_inner());
        if callers.len() >= MAX_CLIENTS {
            callers.retain(|_, c| c.at.elapsed() < IDENTITY_TTL);
            if callers.len() >= MAX_CLIENTS {
                if let Some(oldest) = callers
                    .iter()
                    .min_by_key(|(_, c)| c.at)
                    .map(|(k, _)| k.clone())
                {
                    callers.remove(&oldest);
                }
            }
        }
        callers.insert(
            key,
            Cached {
                caller,
                at: Instant::now(),
            },
        );
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
        let client = Client::try_from(config).map_err(|e| AuthError::Upstream(e.to_string()))?;
        let review = Api::<SelfSubjectReview>::all(client.clone())
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| match e {
                kube::Error::Api(s) if s.code == 401 => {
                    AuthError::Unauthenticated("the cluster does not accept this token".into())
                }
                other => AuthError::Upstream(other.to_string()),
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
        let client = Client::try_from(config).map_err(|e| AuthError::Upstream(e.to_string()))?;
        let readable = self.readable(&client).await?;
        let caller = Caller {
            user,
            groups,
            client,
            may_write: true,
            reason: None,
            readable,
        };
        self.remember(key, caller.clone());
        Ok(caller)
    }
}

/// Asks the cluster whether the caller may `verb` VirtualServices (named, or all) in a namespace.
pub async fn may(
    client: &Client,
    verb: &str,
    namespace: &str,
    name: Option<&str>,
) -> Result<(bool, Option<String>), kube::Error> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some(verb.to_owned()),
                group: Some("networking.istio.io".to_owned()),
                resource: Some("virtualservices".to_owned()),
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

/// The bearer token of a request: the session cookie, or an `Authorization: Bearer` header.
pub fn bearer_token(parts: &Parts) -> Option<String> {
    if let Some(auth) = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = auth
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            return Some(token.to_owned());
        }
    }
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
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
    fn finds_the_token_in_header_or_cookie() {
        assert_eq!(
            bearer_token(&parts(&[("authorization", "Bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&parts(&[(
                "cookie",
                "theme=dark; switchyard_token=xyz; other=1"
            )]))
            .as_deref(),
            Some("xyz")
        );
        assert_eq!(
            bearer_token(&parts(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(
            bearer_token(&parts(&[("cookie", "switchyard_token=")])),
            None
        );
        assert_eq!(bearer_token(&parts(&[])), None);
    }
}
