//! How the console's answers travel: JSON API answers gzipped for clients that accept it (and
//! plain for those that do not), the event stream never compressed (it must not be held back),
//! and a file the app does not have (`/favicon.ico`) a 404 rather than the index page. Wire
//! behaviour only, so on the simulated cluster.

use std::io::Read;
use std::time::Duration;

mod support;

#[tokio::test]
async fn json_answers_are_gzipped_when_accepted_and_the_event_stream_is_not() {
    let c = support::console(support::Options::default()).await;
    let plain = c
        .http
        .get(format!("{}/api/v1/routes", c.base))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();

    let zipped = c
        .http
        .get(format!("{}/api/v1/routes", c.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["cache-control"], "no-store");
    let zipped = zipped.bytes().await.unwrap();
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    eprintln!(
        "GET /api/v1/routes: {} B plain, {} B gzipped",
        plain.len(),
        zipped.len()
    );
    assert!(zipped.len() < plain.len());

    let mut events = c
        .http
        .get(format!("{}/api/v1/events", c.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(events.headers().get("content-encoding").is_none());
    let first = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("the first event arrives at once")
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"event: "), "{first:?}");
}

#[tokio::test]
async fn a_file_the_app_does_not_have_is_404_not_the_page() {
    let c = support::console(support::Options::default()).await;
    for path in ["/favicon.ico", "/robots.txt", "/assets/nothing.js"] {
        let res = c
            .http
            .get(format!("{}{path}", c.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    // A bookmarked view of the app still opens it.
    let res = c
        .http
        .get(format!("{}/some/view", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
