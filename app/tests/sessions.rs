//! Token mode's sessions, through the HTTP API of two console replicas on one cluster (both
//! kinds): the cookie holds no token and opens nothing at the cluster, signing out on one replica
//! ends the session on the other at once (a copied cookie is worthless afterwards), and sessions
//! end after their idle and absolute limits.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, PostParams};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_console::auth::{Mode, SessionLimits, SESSION_LABELS};
use switchyard_protocol::{ApiError, WhoAmI};

mod support;

use support::{Kind, TestCluster, TestConsole, User};
use switchyard_testkit::on_every_cluster;

fn token_mode(sessions: SessionLimits) -> support::Options {
    support::Options {
        mode: Mode::Token,
        sessions,
        ..support::Options::default()
    }
}

/// Signs in with `token` and returns the `Set-Cookie` header and the cookie (`name=value`).
async fn sign_in(c: &TestConsole, token: &str, https: bool) -> (String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/session", c.base))
        .header("x-requested-by", "switchyard")
        .json(&json!({ "token": token }));
    if https {
        request = request.header("x-forwarded-proto", "https");
    }
    let res = request.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().trim().to_owned();
    (set_cookie, cookie)
}

/// `GET {path}` with exactly this cookie header (as a copied cookie would be sent).
async fn get_with(c: &TestConsole, cookie: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", c.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

fn session_secrets(c: &TestConsole) -> kube::Api<Secret> {
    kube::Api::namespaced(c.client.clone(), &c.ns)
}

async fn sessions_in_cluster(c: &TestConsole) -> Vec<Secret> {
    let labels: Vec<String> = SESSION_LABELS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    session_secrets(c)
        .list(&ListParams::default().labels(&labels.join(",")))
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn a_session_cookie_holds_no_token_and_sign_out_ends_it_on_every_replica() {
    on_every_cluster!(|kind| cookie_and_sign_out_on(kind));
}

async fn cookie_and_sign_out_on(kind: Kind) {
    let kube = Arc::new(TestCluster::start(kind, 0.0).await);
    let a = support::attach(kube.clone(), token_mode(SessionLimits::default())).await;
    let b = support::attach(kube.clone(), token_mode(SessionLimits::default())).await;
    let token = kube.token(User::Operator).to_owned();

    let (set_cookie, cookie) = sign_in(&a, &token, false).await;
    let value = cookie.strip_prefix("switchyard_session=").unwrap();
    assert!(!set_cookie.contains(&token), "{set_cookie}");
    assert!(
        !value.contains(&token[..token.len().min(12)]),
        "{set_cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api", "Max-Age=43200"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    // Behind a proxy that says it terminated TLS, the cookie is Secure.
    let (secure_cookie, _) = sign_in(&a, &token, true).await;
    assert!(secure_cookie.contains("; Secure"), "{secure_cookie}");

    // The session is a Secret in the cluster whose name does not give the id away.
    let secrets = sessions_in_cluster(&a).await;
    assert_eq!(secrets.len(), 2, "one per sign-in");
    assert!(secrets
        .iter()
        .all(|s| !s.metadata.name.as_deref().unwrap().contains(&value[..16])));

    // The cookie opens nothing at the cluster: as a bearer token it is refused.
    let mut config = kube.config(User::Admin).await;
    config.auth_info = kube::config::AuthInfo {
        token: Some(value.to_owned().into()),
        ..Default::default()
    };
    let as_token = kube::Client::try_from(config).unwrap();
    let refused = kube::Api::<SelfSubjectReview>::all(as_token)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 401),
        "{refused:?}"
    );

    // A copy of the cookie works on the other replica, as the same person...
    let who: WhoAmI = get_with(&b, &cookie, "/api/v1/whoami")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who.user.as_deref(), Some("operator"));
    assert_eq!(get_with(&b, &cookie, "/api/v1/routes").await.status(), 200);

    // An event stream opened with it on the other replica...
    let mut stream = get_with(&b, &cookie, "/api/v1/events").await;
    assert_eq!(stream.status(), 200);
    assert!(stream.chunk().await.unwrap().is_some(), "the stream starts");

    // ...until the person signs out on the first one: then at once on the second.
    let signed_out = Instant::now();
    let res = reqwest::Client::new()
        .delete(format!("{}/api/v1/session", a.base))
        .header("x-requested-by", "switchyard")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let forget = res.headers()["set-cookie"].to_str().unwrap();
    assert!(forget.contains("Max-Age=0"), "{forget}");
    let res = get_with(&b, &cookie, "/api/v1/routes").await;
    assert_eq!(res.status(), 401);
    let body: ApiError = res.json().await.unwrap();
    assert!(body.message.contains("signed out"), "{}", body.message);
    let rollback = reqwest::Client::new()
        .post(format!("{}/api/v1/rollback", b.base))
        .header("x-requested-by", "switchyard")
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(rollback.status(), 401);
    let who: WhoAmI = get_with(&a, &cookie, "/api/v1/whoami")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who.user, None);
    // The open stream ends too (its session is checked every few seconds).
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream ends with its session");
    eprintln!(
        "event stream ended {:?} after sign-out",
        signed_out.elapsed()
    );
    // Its Secret is gone; the other sign-in's stays.
    assert_eq!(sessions_in_cluster(&a).await.len(), 1);
    // A made-up cookie is refused without being an error of the server's.
    let res = get_with(&a, "switchyard_session=0123", "/api/v1/routes").await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn sessions_end_after_their_idle_and_absolute_limits() {
    on_every_cluster!(|kind| limits_on(kind));
}

async fn limits_on(kind: Kind) {
    let limits = SessionLimits {
        idle: Duration::from_secs(2),
        absolute: Duration::from_secs(6),
    };
    let kube = Arc::new(TestCluster::start(kind, 0.0).await);
    let c = support::attach(kube.clone(), token_mode(limits)).await;
    let token = kube.token(User::Operator).to_owned();

    // Used every half second, a session outlives its idle limit...
    let (_, cookie) = sign_in(&c, &token, false).await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        assert_eq!(get_with(&c, &cookie, "/api/v1/routes").await.status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // ...but not its absolute one.
    tokio::time::sleep(
        limits.absolute.saturating_sub(start.elapsed()) + Duration::from_millis(300),
    )
    .await;
    let res = get_with(&c, &cookie, "/api/v1/routes").await;
    assert_eq!(res.status(), 401);
    let body: ApiError = res.json().await.unwrap();
    assert!(body.message.contains("after sign-in"), "{}", body.message);

    // Left alone longer than the idle limit, a session ends.
    let (_, cookie) = sign_in(&c, &token, false).await;
    assert_eq!(get_with(&c, &cookie, "/api/v1/routes").await.status(), 200);
    tokio::time::sleep(limits.idle + Duration::from_millis(300)).await;
    let res = get_with(&c, &cookie, "/api/v1/routes").await;
    assert_eq!(res.status(), 401);
    let body: ApiError = res.json().await.unwrap();
    assert!(body.message.contains("without use"), "{}", body.message);
    // Ended sessions leave no Secret behind.
    assert!(sessions_in_cluster(&c).await.is_empty());
}
