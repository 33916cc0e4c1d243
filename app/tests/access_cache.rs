//! `GET /api/v1/access` answers from a per-caller cache: repeating it does not repeat the
//! SelfSubjectAccessReviews. Counted on the wire (the console's own client, through a layer that
//! sees every request it sends) and by the console's review counter (per-user clients).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_console::auth::{Auth, Mode};
use switchyard_console::cluster::Cluster;
use switchyard_console::live::{Live, LiveConfig};
use switchyard_console::{app, AppState};
use switchyard_protocol::AccessResponse;

mod support;

const ACCESS_REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

struct Console {
    sim: support::Sim,
    auth: Auth,
    base: String,
    /// SelfSubjectAccessReviews the console's own client has posted.
    console_reviews: Arc<AtomicU64>,
}

async fn console(mode: Mode) -> Console {
    let sim = support::simulation(0.0).await;
    let config = switchyard_console::cluster::config_from_kubeconfig(&sim.kubeconfig, None)
        .await
        .unwrap();
    let console_reviews = Arc::new(AtomicU64::new(0));
    let counter = console_reviews.clone();
    let count =
        tower::util::MapRequestLayer::new(move |request: http::Request<kube::client::Body>| {
            if request.method() == http::Method::POST && request.uri().path() == ACCESS_REVIEWS {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            request
        });
    let client = kube::client::ClientBuilder::try_from(config.clone())
        .unwrap()
        .with_layer(&count)
        .build();
    let namespaces = vec!["hands-on".to_owned()];
    let cluster = Cluster::start(client.clone(), &namespaces);
    tokio::time::timeout(Duration::from_secs(20), cluster.wait_ready())
        .await
        .expect("the caches fill");
    let live = Live::start(
        cluster.clone(),
        None,
        LiveConfig {
            interval: Duration::from_secs(3600),
            window: Duration::from_secs(30),
            choices: vec![],
            reporters: Default::default(),
        },
    );
    let auth = Auth::new(mode, client, Some(config), true).scoped(namespaces);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(cluster, live, auth.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Console {
        sim,
        auth,
        base,
        console_reviews,
    }
}

async fn access(c: &Console, bearer: Option<&str>) -> AccessResponse {
    let mut request = reqwest::Client::new().get(format!("{}/api/v1/access", c.base));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn repeated_access_calls_do_not_repeat_the_reviews_on_the_wire() {
    let c = console(Mode::Anonymous).await;
    let before = c.console_reviews.load(Ordering::Relaxed);
    let first = access(&c, None).await;
    let virtual_services = first.virtual_services.len() as u64;
    assert!(
        virtual_services >= 3,
        "the demo's VirtualServices: {first:?}"
    );
    assert!(
        first.virtual_services.iter().all(|a| a.can_patch),
        "{first:?}"
    );
    // One review per VirtualService, the first time.
    let after_first = c.console_reviews.load(Ordering::Relaxed);
    assert_eq!(after_first - before, virtual_services);
    for _ in 0..5 {
        assert_eq!(access(&c, None).await, first);
    }
    assert_eq!(
        c.console_reviews.load(Ordering::Relaxed),
        after_first,
        "the answers came from the cache"
    );
}

#[tokio::test]
async fn each_caller_has_their_own_answers_kept() {
    let c = console(Mode::Token).await;
    let operator = c.sim.sim.auth.operator_token().to_owned();
    let viewer = c.sim.sim.auth.viewer_token().to_owned();

    let start = c.auth.reviews_sent();
    let as_operator = access(&c, Some(&operator)).await;
    assert!(as_operator.virtual_services.iter().all(|a| a.can_patch));
    let n = as_operator.virtual_services.len() as u64;
    // Who the token is (one SelfSubjectReview), what it may read (one review per namespace in
    // scope), and one review per VirtualService.
    let after_operator = c.auth.reviews_sent();
    assert_eq!(after_operator - start, 1 + 1 + n);
    assert_eq!(access(&c, Some(&operator)).await, as_operator);
    assert_eq!(c.auth.reviews_sent(), after_operator, "nothing asked again");

    // Another caller is asked about on their own, and gets their own answers.
    let as_viewer = access(&c, Some(&viewer)).await;
    assert!(as_viewer.virtual_services.iter().all(|a| !a.can_patch));
    let after_viewer = c.auth.reviews_sent();
    assert_eq!(after_viewer - after_operator, 1 + 1 + n);
    assert_eq!(access(&c, Some(&viewer)).await, as_viewer);
    assert_eq!(access(&c, Some(&operator)).await, as_operator);
    assert_eq!(c.auth.reviews_sent(), after_viewer);
}
