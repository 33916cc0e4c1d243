//! A failing new version in plain sight: review v2 starts failing (a kubectl annotation on its
//! Deployment, which the simulated mesh follows) while it takes half of review's traffic; a
//! banner above the graph says "review v2: N% errors vs M% on v1 — roll back?", and its button
//! opens the rollback confirmation, which returns review to old 100 (checked with kubectl).
//! On every cluster kind of the run (on the real kube-apiserver `switchyard mesh` watches the
//! Deployment and a real Prometheus scrapes it).

use std::time::Duration;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Kind, Result};
use switchyard_frontend::rollout::test_ids as ids;

const JSONPATH_WEIGHTS: &str = "jsonpath={.spec.http[1].route[*].weight}";
/// The window must hold enough failed requests after the change, then a refresh must follow.
const NOTICE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_new_version_is_announced_with_the_rollback_at_hand() {
    for kind in kinds() {
        eprintln!("-- on the {kind} cluster");
        on(kind).await;
    }
}

async fn on(kind: Kind) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let demo = match Demo::start_on(kind, dir.path(), &[]).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&browser, &demo).await;
    let browsers = vec![(browser, format!("health-{kind}"))];
    conclude(&format!("on the {kind} cluster"), outcome, &demo, browsers).await;
}

async fn scenario(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    browser.wait_for(ids::ROLLBACK).await?;
    if browser.exists(ids::HEALTH_BANNER).await? {
        return fail("the health banner shows before anything fails");
    }
    demo.kubectl(&[
        "annotate",
        "deployment",
        "review-v2",
        "--overwrite",
        "sim.switchyard.dev/error-rate=0.3",
    ])
    .await?;
    demo.kubectl(&[
        "patch",
        "virtualservice",
        "review",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":50},{"op":"replace","path":"/spec/http/1/route/1/weight","value":50}]"#,
    ])
    .await?;

    let alarm = ids::health_alarm("review");
    let sentence = poll("the health banner for review", NOTICE, || async {
        if !browser.exists(&alarm).await? {
            return Ok(None);
        }
        let text = browser.text(&alarm).await?;
        Ok(
            (text.starts_with("review v2: ") && text.ends_with("on v1 — roll back?"))
                .then_some(text),
        )
    })
    .await?;
    // 30% injected: the share over the window is well above the old version's.
    let errors: f64 = sentence
        .trim_start_matches("review v2: ")
        .split('%')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no error share in {sentence:?}"))?;
    if !(10.0..=60.0).contains(&errors) {
        return fail(format!("v2's error share is implausible: {sentence:?}"));
    }

    browser.click(ids::HEALTH_ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    poll(
        "kubectl to show review at 100/0",
        switchyard_e2e::WAIT,
        || async {
            let weights = demo
                .kubectl(&["get", "vs", "review", "-o", JSONPATH_WEIGHTS])
                .await?;
            Ok((weights.trim() == "100 0").then_some(()))
        },
    )
    .await
}
