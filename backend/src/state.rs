//! The state every handler shares: cheap clones only. Also `AllowedHosts`, the names the
//! console answers to (the DNS-rebinding guard in `routes` checks every request against it).

use crate::auth::{Auth, Caller};
use crate::cluster::Cluster;
use crate::error::Error;
use crate::live::Live;
use crate::plans::Plans;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchyard_protocol::{Backends, Subsets};

/// The largest request body the console reads unless started with another `--max-body`: 2 MiB
/// (axum's default, said explicitly). Larger bodies are 413.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
    pub live: Live,
    pub auth: Auth,
    /// Subset names of the old and the new version (`old`/`new` by default): what rollback
    /// means by "old", and what the page's bulk shift and rollback offer (`GET /api/v1/settings`).
    pub subsets: Subsets,
    /// Suffixes of an HTTPRoute rule's old and new backend Services (`v1`/`v2` by default): what
    /// bulk shift and rollback change in HTTPRoutes (`GET /api/v1/settings`).
    pub backends: Backends,
    /// The `Host` names the console answers to (loopback names by default).
    pub allowed_hosts: AllowedHosts,
    /// The largest request body read, in bytes (`BODY_LIMIT` by default).
    pub max_body: usize,
    /// Release plans (`None`: this console does not run them, and their endpoints say so).
    pub plans: Option<Plans>,
}

impl AppState {
    /// State with the default subset names `old` and `new` and backend suffixes `v1` and `v2`.
    pub fn new(cluster: Cluster, live: Live, auth: Auth) -> Self {
        AppState {
            cluster,
            live,
            auth,
            subsets: Subsets::default(),
            backends: Backends::default(),
            allowed_hosts: AllowedHosts::default(),
            max_body: BODY_LIMIT,
            plans: None,
        }
    }

    /// The same state, running release plans.
    pub fn with_plans(mut self, plans: Plans) -> Self {
        self.plans = Some(plans);
        self
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.auth.caller(parts).await.map_err(Error::from)
    }
}

/// The names a request's `Host` may carry: loopback names (`localhost`, `127.0.0.1`, `[::1]`,
/// any port) and the names the console was started with (`--allowed-host`), or anything at all
/// when started with `*`. A page on a foreign name that resolves to this server (DNS rebinding)
/// sends that name, and is refused. The default is loopback names only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    /// `(name, port)`: lowercase, without a trailing dot; no port means any port.
    extra: Vec<(String, Option<u16>)>,
    any: bool,
}

/// Names every console answers to, on any port.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl AllowedHosts {
    /// Loopback names plus these (`NAME`, `NAME:PORT`, `[IPv6]`, `[IPv6]:PORT`); `*` allows
    /// every name (no rebinding protection). Errs with the value that is not a host.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut hosts = AllowedHosts::default();
        for name in names {
            let name = name.as_ref().trim();
            if name == "*" {
                hosts.any = true;
                continue;
            }
            let (host, port) = split_host(name).ok_or_else(|| {
                format!("{name:?} is not a host name (NAME or NAME:PORT, e.g. console.example.com)")
            })?;
            hosts.extra.push((host, port));
        }
        Ok(hosts)
    }

    /// Whether every name is allowed (`*`).
    pub fn allows_any(&self) -> bool {
        self.any
    }

    /// Whether a request naming `host` (a `Host` header value: `name[:port]`) is for this console.
    pub fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        LOOPBACK_HOSTS.contains(&name.as_str())
            || self
                .extra
                .iter()
                .any(|(allowed, p)| *allowed == name && (p.is_none() || *p == port))
    }
}

/// `name[:port]` → (lowercase name without a trailing dot, port); `None` when it is no host.
fn split_host(text: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if let Some(rest) = text.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{address}]"), port)
    } else {
        match text.split_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (text.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let name = name.strip_suffix('.').unwrap_or(&name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
    valid.then_some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_on_any_port_and_nothing_else_by_default() {
        let hosts = AllowedHosts::default();
        for ok in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.:1",
            "127.0.0.1:0",
            "[::1]",
            "[::1]:9",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "rebind.example:8095",
            "localhost.rebind.example",
            "127.0.0.1.nip.io",
            "[::2]:80",
            "localhost:http",
            "",
            "a b",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn named_hosts_with_or_without_a_port_and_the_explicit_wildcard() {
        let hosts = AllowedHosts::new(&["Console.Example.com", "proxy.example:8443"]).unwrap();
        assert!(hosts.allows("console.example.com"));
        assert!(hosts.allows("console.example.com:443"));
        assert!(hosts.allows("proxy.example:8443"));
        assert!(!hosts.allows("proxy.example:80"));
        assert!(!hosts.allows("proxy.example"));
        assert!(!hosts.allows("evil.example"));
        assert!(AllowedHosts::new(&["*"]).unwrap().allows("evil.example:1"));
        assert!(AllowedHosts::new(&["no such host!"]).is_err());
        assert!(AllowedHosts::new(&["x:99999"]).is_err());
    }
}
