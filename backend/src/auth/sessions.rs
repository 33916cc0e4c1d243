//! Browser sessions in token mode, kept in the cluster: the cookie carries only a random session
//! id; the bearer token it stands for is in a Secret (one per session) in the console's namespace.
//! Every request reads the Secret, so signing out (deleting it) ends the session at once on every
//! replica of the console, and a copied cookie is worth nothing afterwards. Sessions end after an
//! idle limit and an absolute limit; whoever sees an expired one deletes it.
//!
//! The Secret's name is a hash of the id, so listing Secrets does not reveal live cookies; reading
//! them reveals tokens, which is the cluster's RBAC to guard (the console needs get, create, patch
//! and delete on Secrets in its namespace only).

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::AuthError;
use crate::cluster;

/// Labels on every session Secret, so they can be found (and cleaned up) as a set.
pub const SESSION_LABELS: [(&str, &str); 2] = [
    ("app.kubernetes.io/managed-by", "switchyard"),
    ("switchyard.io/role", "session"),
];
const USER: &str = "switchyard.io/user";
const CREATED: &str = "switchyard.io/created-unix-ms";
const LAST_SEEN: &str = "switchyard.io/last-seen-unix-ms";
const TOKEN_KEY: &str = "token";

/// How long a session lives: `idle` without a request, `absolute` since sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionLimits {
    /// Half an hour idle, twelve hours in all: a working day's shift, re-signed after lunch.
    fn default() -> Self {
        SessionLimits {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
        }
    }
}

impl SessionLimits {
    /// How stale the recorded last use may get before a request records it again: a minute,
    /// or a quarter of the idle limit when that is shorter, so idle expiry stays accurate
    /// without a write per request.
    fn touch_every(&self) -> Duration {
        (self.idle / 4).min(Duration::from_secs(60))
    }
}

/// The session store. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    secrets: Api<Secret>,
    namespace: String,
    limits: SessionLimits,
    /// Whether cookies are always `Secure` (served over HTTPS by a proxy that does not say so).
    secure: bool,
}

/// A session's facts as its Secret records them.
struct Record {
    token: String,
    created: u64,
    last_seen: u64,
}

/// Milliseconds since the Unix epoch (the replicas' clocks are assumed to agree, as NTP keeps them).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The Secret that holds session `id`: a hash, so the name alone does not open the session.
fn secret_name(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest[..20].iter().map(|b| format!("{b:02x}")).collect();
    format!("switchyard-session-{hex}")
}

/// A new session id: 244 bits from the operating system's random source, URL- and cookie-safe.
fn new_id() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Whether `id` could be one of ours; anything else is refused without asking the cluster.
fn well_formed(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn record_of(secret: &Secret) -> Option<Record> {
    let annotations = secret.metadata.annotations.as_ref()?;
    let number = |key: &str| annotations.get(key).and_then(|v| v.parse::<u64>().ok());
    let token = secret.data.as_ref()?.get(TOKEN_KEY)?;
    Some(Record {
        token: String::from_utf8(token.0.clone()).ok()?,
        created: number(CREATED)?,
        last_seen: number(LAST_SEEN)?,
    })
}

impl Sessions {
    /// Sessions kept as Secrets in `namespace`, read and written with the console's own client.
    pub fn new(client: Client, namespace: &str, limits: SessionLimits) -> Self {
        Sessions {
            secrets: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            limits,
            secure: false,
        }
    }

    /// Marks every session cookie `Secure`, whatever the request says about its scheme.
    pub fn always_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    pub fn secure(&self) -> bool {
        self.secure
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Opens a session for `token` (already checked with the cluster) and returns its id.
    pub async fn open(&self, token: &str, user: &str) -> Result<String, AuthError> {
        let id = new_id();
        let at = now().to_string();
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name(&id)),
                labels: Some(
                    SESSION_LABELS
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                annotations: Some(BTreeMap::from([
                    (USER.to_owned(), user.to_owned()),
                    (CREATED.to_owned(), at.clone()),
                    (LAST_SEEN.to_owned(), at),
                ])),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".to_owned()),
            data: Some(BTreeMap::from([(
                TOKEN_KEY.to_owned(),
                ByteString(token.as_bytes().to_vec()),
            )])),
            ..Secret::default()
        };
        self.secrets
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| session_store_error(e, "open a session"))?;
        Ok(id)
    }

    /// The bearer token session `id` stands for, when the session is open and within its limits,
    /// and records the use. An expired session is deleted and refused.
    pub async fn token(&self, id: &str) -> Result<String, AuthError> {
        self.check(id, true).await
    }

    /// Whether session `id` still holds, without counting as a use (an open event stream asks
    /// this: a page left open is not a person using it).
    pub async fn holds(&self, id: &str) -> Result<(), AuthError> {
        self.check(id, false).await.map(|_| ())
    }

    async fn check(&self, id: &str, touch: bool) -> Result<String, AuthError> {
        if !well_formed(id) {
            return Err(signed_out());
        }
        let name = secret_name(id);
        let secret = match self.secrets.get_opt(&name).await {
            Ok(Some(secret)) => secret,
            Ok(None) => return Err(signed_out()),
            Err(e) => return Err(session_store_error(e, "read the session")),
        };
        let record = record_of(&secret).ok_or_else(signed_out)?;
        let now = now();
        let since = |at: u64| Duration::from_millis(now.saturating_sub(at));
        let expired = if since(record.created) >= self.limits.absolute {
            Some(format!(
                "the session ended {} after sign-in; sign in again",
                human(self.limits.absolute)
            ))
        } else if since(record.last_seen) >= self.limits.idle {
            Some(format!(
                "the session ended after {} without use; sign in again",
                human(self.limits.idle)
            ))
        } else {
            None
        };
        if let Some(why) = expired {
            self.delete(&name).await;
            return Err(AuthError::Unauthenticated(why));
        }
        if touch && since(record.last_seen) >= self.limits.touch_every() {
            let patch = serde_json::json!({
                "metadata": {"annotations": {LAST_SEEN: now.to_string()}}
            });
            if let Err(e) = self
                .secrets
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                // The session still holds; its idle clock is just older than it should be.
                tracing::warn!(error = %e, "could not record a session's last use");
            }
        }
        Ok(record.token)
    }

    /// Ends session `id` on every replica: its Secret is deleted (gone already is fine).
    pub async fn close(&self, id: &str) -> Result<(), AuthError> {
        if !well_formed(id) {
            return Ok(());
        }
        match self
            .secrets
            .delete(&secret_name(id), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(session_store_error(e, "end the session")),
        }
    }

    async fn delete(&self, name: &str) {
        match self.secrets.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => tracing::warn!(error = %e, "could not delete an expired session"),
        }
    }
}

fn signed_out() -> AuthError {
    AuthError::Unauthenticated("not signed in, or the session was signed out; sign in again".into())
}

/// A failed call to the session store, which runs with the console's own credentials: a refusal
/// there is the console's misconfiguration (RBAC on Secrets), not the user's.
fn session_store_error(e: kube::Error, doing: &str) -> AuthError {
    match cluster::Error::from_call(e) {
        cluster::Error::Forbidden(m) | cluster::Error::Unauthorized(m) => {
            AuthError::Cluster(cluster::Error::Upstream(format!(
                "the console may not {doing} (its credentials need get, create, patch and delete on Secrets): {m}"
            )))
        }
        other => AuthError::Cluster(other),
    }
}

/// "30m", "12h", "90s": how the limits read in messages (and in the flags).
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_well_formed() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed("abc"));
        assert!(!well_formed(&format!("{}é", &a[..62])));
    }

    #[test]
    fn secret_names_hide_the_id_and_are_valid_names() {
        let id = new_id();
        let name = secret_name(&id);
        assert!(!name.contains(&id[..16]), "{name}");
        assert_eq!(name, secret_name(&id));
        // A DNS subdomain name: lowercase alphanumerics and '-', at most 253 characters.
        assert!(name.len() <= 253);
        assert!(name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }

    #[test]
    fn last_use_is_recorded_often_enough_for_short_limits() {
        let limits = SessionLimits {
            idle: Duration::from_secs(8),
            absolute: Duration::from_secs(60),
        };
        assert_eq!(limits.touch_every(), Duration::from_secs(2));
        assert_eq!(
            SessionLimits::default().touch_every(),
            Duration::from_secs(60)
        );
        assert_eq!(human(Duration::from_secs(1800)), "30m");
        assert_eq!(human(Duration::from_secs(43200)), "12h");
        assert_eq!(human(Duration::from_secs(90)), "90s");
    }
}
