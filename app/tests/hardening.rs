//! The console refuses what it should not serve or write, through its HTTP API on both clusters:
//! requests naming a host it does not answer to (the DNS-rebinding shape), bulk shifts that name
//! no target, write bodies with duplicate keys, unknown fields or too many bytes, and rollback
//! bodies that ask for something; API answers are never cached; a viewer's `whoami` agrees with
//! `access`.

use serde_json::{json, Value};
use switchyard_console::auth::Mode;
use switchyard_console::state::AllowedHosts;
use switchyard_protocol::{AccessResponse, ApiError, ShiftOutcome, ShiftResponse, WhoAmI};

mod support;

use support::{Kind, User};
use switchyard_testkit::on_every_cluster;

type Console = support::TestConsole;

fn expected(old: u32, new: u32, host: &str) -> Value {
    json!([{"host": host, "subset": "old", "weight": old}, {"host": host, "subset": "new", "weight": new}])
}

fn weights_url(c: &Console, name: &str) -> String {
    format!(
        "{}/api/v1/namespaces/{}/virtualservices/{name}/routes/1/weights",
        c.base, c.ns
    )
}

/// `method url` with the CSRF header and a raw JSON body (so it can hold what `json!` cannot,
/// like a repeated key).
async fn send(c: &Console, method: reqwest::Method, url: String, body: &str) -> reqwest::Response {
    c.http
        .request(method, url)
        .header("x-requested-by", "switchyard")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The port of the console's `base` URL.
fn port(c: &Console) -> &str {
    c.base.rsplit(':').next().unwrap()
}

async fn anonymous(kind: Kind) -> Console {
    support::console_on(kind, support::Options::default()).await
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_every_request_and_loopback_names_are_served() {
    on_every_cluster!(|kind| a_foreign_host_is_refused_on(kind));
}

async fn a_foreign_host_is_refused_on(kind: Kind) {
    let c = anonymous(kind).await;
    let foreign = "rebind.example:8095";
    // What a page at http://rebind.example:8095, resolving to 127.0.0.1, sends: its own name as
    // Host and Origin, and the CSRF header (same-origin, so the browser lets it).
    let res = c
        .http
        .put(weights_url(&c, "review"))
        .header("host", foreign)
        .header("origin", format!("http://{foreign}"))
        .header("x-requested-by", "switchyard")
        .json(&json!({"weights": {"old": 0, "new": 100}, "expected": expected(100, 0, "review")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 421);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, "misdirected");
    assert!(
        err.message.contains(foreign) && err.message.contains("--allowed-host rebind.example"),
        "says which host and which flag: {}",
        err.message
    );
    assert_eq!(c.weights("review").await, [100, 0], "nothing was written");
    // Reads too, and the page itself.
    for path in [
        "/api/v1/routes",
        "/api/v1/whoami",
        "/",
        "/assets/x.js",
        "/api/v1/nothing",
    ] {
        let res = c
            .http
            .get(format!("{}{path}", c.base))
            .header("host", foreign)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 421, "{path}");
    }
    // Loopback names on any port are served; a probe of /healthz may name the pod's address.
    for host in [
        format!("127.0.0.1:{}", port(&c)),
        format!("localhost:{}", port(&c)),
        format!("LocalHost:{}", port(&c)),
        format!("[::1]:{}", port(&c)),
        "localhost".to_owned(),
    ] {
        let res = c
            .http
            .get(format!("{}/api/v1/routes", c.base))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{host}");
    }
    for host in [
        "localhost.rebind.example",
        "127.0.0.1.nip.io:80",
        "[::2]:80",
    ] {
        let res = c
            .http
            .get(format!("{}/api/v1/routes", c.base))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 421, "{host}");
    }
    let res = c
        .http
        .get(format!("{}/healthz", c.base))
        .header("host", "10.1.2.3:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn names_given_with_allowed_host_are_served_and_star_turns_the_check_off() {
    on_every_cluster!(|kind| names_given_with_allowed_host_on(kind));
}

async fn names_given_with_allowed_host_on(kind: Kind) {
    let c = support::console_on(
        kind,
        support::Options {
            allowed_hosts: AllowedHosts::new(&["Console.Example.com"]).unwrap(),
            ..support::Options::default()
        },
    )
    .await;
    // Behind a proxy that keeps the name: reads and same-origin writes work.
    let res = c
        .http
        .put(weights_url(&c, "review"))
        .header("host", "console.example.com")
        .header("origin", "https://console.example.com")
        .header("x-requested-by", "switchyard")
        .json(&json!({"weights": {"old": 90, "new": 10}, "expected": expected(100, 0, "review")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(c.weights("review").await, [90, 10]);
    for (host, status) in [
        ("console.example.com:8443", 200),
        ("localhost:1", 200),
        ("other.example.com", 421),
    ] {
        let res = c
            .http
            .get(format!("{}/api/v1/routes", c.base))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{host}");
    }
    // `*`: no host check (documented as unsafe).
    let open = support::attach(
        c.kube.clone(),
        support::Options {
            allowed_hosts: AllowedHosts::new(&["*"]).unwrap(),
            ..support::Options::default()
        },
    )
    .await;
    let res = open
        .http
        .get(format!("{}/api/v1/routes", open.base))
        .header("host", "rebind.example:8095")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_bulk_shift_without_targets_is_refused() {
    on_every_cluster!(|kind| a_bulk_shift_without_targets_is_refused_on(kind));
}

async fn a_bulk_shift_without_targets_is_refused_on(kind: Kind) {
    let c = anonymous(kind).await;
    let res = send(
        &c,
        reqwest::Method::POST,
        format!("{}/api/v1/shift", c.base),
        r#"{"targets": [], "weights": {"old": 0, "new": 100}}"#,
    )
    .await;
    assert_eq!(res.status(), 422);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, "invalid");
    assert!(
        err.message.contains("rollback") && err.message.contains("everything"),
        "{}",
        err.message
    );
    for name in ["product", "recommendation", "review"] {
        assert_eq!(
            c.weights(name).await,
            [100, 0],
            "{name}: nothing was written"
        );
    }
    // Named targets still shift.
    let body = json!({"targets": [{"namespace": c.ns, "name": "review"}], "weights": {"old": 0, "new": 100}});
    let res = send(
        &c,
        reqwest::Method::POST,
        format!("{}/api/v1/shift", c.base),
        &body.to_string(),
    )
    .await;
    let shifted: ShiftResponse = res.json().await.unwrap();
    assert_eq!(shifted.results.len(), 1);
    assert_eq!(shifted.results[0].outcome, ShiftOutcome::Changed);
    assert_eq!(c.weights("review").await, [0, 100]);
}

#[tokio::test]
async fn write_bodies_are_strict() {
    on_every_cluster!(|kind| write_bodies_are_strict_on(kind));
}

async fn write_bodies_are_strict_on(kind: Kind) {
    let c = anonymous(kind).await;
    let seen = expected(100, 0, "review").to_string();
    // A body that does not say it is JSON is 415, with what to send instead.
    let res = c
        .http
        .put(weights_url(&c, "review"))
        .header("x-requested-by", "switchyard")
        .header("content-type", "text/plain")
        .body(format!(
            r#"{{"weights":{{"old":0,"new":100}},"expected":{seen}}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let body: ApiError = res.json().await.unwrap();
    assert!(
        body.message.contains("application/json"),
        "{}",
        body.message
    );
    assert_eq!(c.weights("review").await, [100, 0]);
    let ns = &c.ns;
    let shift = format!("{}/api/v1/shift", c.base);
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    let cases: Vec<(reqwest::Method, String, String, &str)> = vec![
        // Last-wins would write old 100 / new 0 while the first half says new 100.
        (
            put.clone(),
            weights_url(&c, "review"),
            format!(r#"{{"weights":{{"new":100,"old":0,"new":0,"old":100}},"expected":{seen}}}"#),
            "weights",
        ),
        (
            put.clone(),
            weights_url(&c, "review"),
            format!(
                r#"{{"weights":{{"old":50,"new":50}},"expected":{seen},"weights":{{"old":0,"new":100}}}}"#
            ),
            "duplicate field `weights`",
        ),
        (
            put.clone(),
            weights_url(&c, "review"),
            format!(r#"{{"weights":{{"old":50,"new":50}},"expected":{seen},"force":true}}"#),
            "unknown field `force`",
        ),
        (
            put.clone(),
            weights_url(&c, "review"),
            r#"{"weights":{"old":50,"new":50},"expected":[{"host":"review","subset":"old","weight":100,"port":80},{"host":"review","subset":"new","weight":0}]}"#.to_owned(),
            "unknown field `port`",
        ),
        (
            post.clone(),
            shift.clone(),
            format!(
                r#"{{"targets":[{{"namespace":"{ns}","name":"review"}}],"weights":{{"old":0,"new":100,"old":100}}}}"#
            ),
            "weights",
        ),
        // A misspelt `expected` must not silently drop the guard.
        (
            post.clone(),
            shift.clone(),
            format!(
                r#"{{"targets":[{{"namespace":"{ns}","name":"review","expect":{seen}}}],"weights":{{"old":0,"new":100}}}}"#
            ),
            "unknown field `expect`",
        ),
        (
            post.clone(),
            shift.clone(),
            format!(
                r#"{{"targets":[{{"namespace":"{ns}","name":"review"}}],"weights":{{"old":0,"new":100}},"dry_run":true}}"#
            ),
            "unknown field `dry_run`",
        ),
        (
            post.clone(),
            format!("{}/api/v1/session", c.base),
            r#"{"token":"abc","remember":true}"#.to_owned(),
            "unknown field `remember`",
        ),
        (
            post.clone(),
            format!("{}/api/v1/rollback", c.base),
            r#"{"namespace":"hands-on"}"#.to_owned(),
            "namespace",
        ),
        (
            post.clone(),
            format!("{}/api/v1/rollback", c.base),
            "[]".to_owned(),
            "rollback",
        ),
        (
            post.clone(),
            format!("{}/api/v1/rollback", c.base),
            "everything please".to_owned(),
            "rollback",
        ),
    ];
    // Start from a state a wrong write would change: review at 50/50.
    let res = send(
        &c,
        put.clone(),
        weights_url(&c, "review"),
        &json!({"weights": {"old": 50, "new": 50}, "expected": expected(100, 0, "review")})
            .to_string(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen_now = expected(50, 50, "review").to_string();
    for (method, url, body, named) in cases {
        let body = body.replace(&seen, &seen_now);
        let res = send(&c, method.clone(), url.clone(), &body).await;
        assert_eq!(res.status(), 422, "{method} {url} {body}");
        let err: ApiError = res.json().await.unwrap();
        assert_eq!(err.code, "invalid", "{body}");
        assert!(
            err.message.contains(named),
            "{body}: {:?} does not name {named:?}",
            err.message
        );
        assert_eq!(c.weights("review").await, [50, 50], "{body} wrote");
    }
    // Oversized bodies are 413, whatever they hold.
    let huge = format!(
        r#"{{"weights":{{"old":0,"new":100}},"expected":{seen_now},"pad":"{}"}}"#,
        "x".repeat(3 << 20)
    );
    for (method, url) in [
        (put.clone(), weights_url(&c, "review")),
        (post.clone(), shift.clone()),
        (post.clone(), format!("{}/api/v1/rollback", c.base)),
    ] {
        let res = send(&c, method, url.clone(), &huge).await;
        assert_eq!(res.status(), 413, "{url}");
        let err: ApiError = res.json().await.unwrap();
        assert_eq!(err.code, "too_large", "{url}");
    }
    assert_eq!(c.weights("review").await, [50, 50]);
    // A rollback with no body, or `{}`, rolls back.
    let res = c
        .http
        .post(format!("{}/api/v1/rollback", c.base))
        .header("x-requested-by", "switchyard")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(c.weights("review").await, [100, 0]);
    let res = send(&c, post, format!("{}/api/v1/rollback", c.base), " {} ").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn api_answers_are_not_stored_by_caches() {
    let c = anonymous(Kind::Simulated).await;
    for (path, host, status) in [
        ("/api/v1/routes", None, 200),
        ("/api/v1/whoami", None, 200),
        ("/api/v1/settings", None, 200),
        ("/api/v1/history", None, 200),
        ("/api/v1/nothing", None, 404),
        ("/api/v1/events", None, 200),
        ("/api/v1/routes", Some("rebind.example"), 421),
    ] {
        let mut request = c.http.get(format!("{}{path}", c.base));
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
    // The page's hashed assets keep their own caching.
    let res = c.http.get(format!("{}/", c.base)).send().await.unwrap();
    assert_ne!(res.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn whoami_and_access_agree_on_whether_the_caller_may_write() {
    on_every_cluster!(|kind| whoami_and_access_agree_on(kind));
}

async fn whoami_and_access_agree_on(kind: Kind) {
    let c = support::console_on(
        kind,
        support::Options {
            mode: Mode::Token,
            anonymous_writes: false,
            ..support::Options::default()
        },
    )
    .await;
    for (user, may) in [(User::Viewer, false), (User::Operator, true)] {
        let bearer = format!("Bearer {}", c.kube.token(user));
        let access: AccessResponse = c
            .http
            .get(format!("{}/api/v1/access", c.base))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!access.virtual_services.is_empty());
        assert!(
            access.virtual_services.iter().all(|a| a.can_patch == may),
            "{user:?}: {access:?}"
        );
        let who: WhoAmI = c
            .http
            .get(format!("{}/api/v1/whoami", c.base))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(who.may_write, may, "{user:?}: {who:?}");
        assert_eq!(who.reason.is_some(), !may, "{user:?} says why not: {who:?}");
    }
}

/// What the cluster answers is reported as what it is: a refused credential is 401 and says the
/// cluster refused it, a request the cluster finds too large keeps the cluster's 431, and only a
/// server that cannot be reached is 503 "could not be reached". Real answers of both servers,
/// read through kube-rs and mapped by the console's one error table.
#[tokio::test]
async fn cluster_answers_are_mapped_truthfully() {
    on_every_cluster!(|kind| cluster_answers_are_mapped_truthfully_on(kind));
}

async fn cluster_answers_are_mapped_truthfully_on(kind: Kind) {
    use switchyard_console::cluster::Error as ClusterError;
    use switchyard_console::error::Failure;
    let kube = switchyard_testkit::TestCluster::start(kind, 0.0).await;
    let with_token = |config: &kube::Config, token: String| {
        let mut config = config.clone();
        config.auth_info = kube::config::AuthInfo {
            token: Some(token.into()),
            ..Default::default()
        };
        kube::Client::try_from(config).unwrap()
    };
    let admin = kube.config(User::Admin).await;
    let list = |client: kube::Client| async move {
        let err = kube::Api::<k8s_openapi::api::core::v1::Service>::namespaced(client, "default")
            .list(&Default::default())
            .await
            .expect_err("the cluster refuses");
        Failure::from(ClusterError::from_call(err))
    };

    let refused = list(with_token(&admin, "not-a-token".into())).await;
    assert_eq!(refused.status.as_u16(), 401, "{refused:?}");
    assert!(
        refused.message.contains("refused the credentials"),
        "{}",
        refused.message
    );

    // Go's net/http refuses headers over 1 MiB with 431 (kube-apiserver keeps the default).
    let huge = list(with_token(&admin, "x".repeat(1100 * 1024))).await;
    assert_eq!(huge.status.as_u16(), 431, "{huge:?}");
    assert_eq!(huge.code, "rejected_by_cluster");

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut gone = admin.clone();
    gone.cluster_url = format!("https://127.0.0.1:{port}").parse().unwrap();
    let unreachable = list(kube::Client::try_from(gone).unwrap()).await;
    assert_eq!(unreachable.status.as_u16(), 503, "{unreachable:?}");
    assert!(unreachable.message.contains("could not be reached"));
}
