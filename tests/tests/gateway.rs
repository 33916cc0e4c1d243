//! Gateway API HTTPRoutes through the real page, on every cluster kind of the run (the simulated
//! demo with `--gateway-demo`; `switchyard serve` on the real kube-apiserver, where kubectl applied
//! `demo/hands-on-gateway.yaml` with the real Gateway API CRDs, with the simulated data plane and a
//! real Prometheus reading its waypoint's metrics). The gateway demo's review HTTPRoute has a card
//! that says it is one; a person applies the 80/20 preset and `kubectl get httproute review -o
//! yaml` has backendRef weights 80 and 20; the page's observed share of review-v2 converges to
//! 20 ± 4 %; the history lists the change as an HTTPRoute's; weights 1 and 3 written with kubectl
//! then show as 25 % / 75 % with the note that Gateway API weights are relative; one bulk shift
//! through the page changes the VirtualService review and the HTTPRoute review together, and one
//! rollback, whose question names both, returns them.

use fantoccini::Locator;
use std::time::Duration;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Kind, Result};
use switchyard_frontend::rollout::test_ids as rollout;
use switchyard_frontend::weight_controls::test_ids as card;
use switchyard_protocol::RouteKind;

/// As in `graph.rs`: the observed share must reach the requested 20 % within 4 points; the
/// window (30 s) must fill with post-change traffic and a refresh follow, on a loaded machine.
const MARGIN: f64 = 4.0;
const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_route_is_shifted_80_20_through_the_page() {
    for kind in kinds() {
        eprintln!("-- on the {kind} cluster");
        on(kind).await;
    }
}

async fn on(kind: Kind) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let demo = match Demo::start_gateway(kind, dir.path(), &[]).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&browser, &demo).await;
    let browsers = vec![(browser, format!("gateway-{kind}"))];
    conclude(&format!("on the {kind} cluster"), outcome, &demo, browsers).await;
}

/// kubectl in the gateway demo's namespace.
async fn kubectl(demo: &Demo, gw: &str, args: &[&str]) -> Result<String> {
    let mut all = args.to_vec();
    all.extend(["-n", gw]);
    demo.kubectl(&all).await
}

async fn scenario(browser: &Browser, demo: &Demo) -> Result<()> {
    let Some(gw) = demo.gateway_namespace.as_deref() else {
        return fail("the demo has no gateway namespace");
    };
    browser.client.goto(&demo.url).await?;
    if browser.client.source().await?.contains("UI not built") {
        return fail(
            "the switchyard binary embeds the placeholder page (built with SWITCHYARD_SKIP_UI); \
             rebuild it with `cargo build -p switchyard`",
        );
    }
    // The review HTTPRoute's card, beside the VirtualService of the same name, says what it is.
    let name = card::name_for(RouteKind::HTTPRoute, "review");
    browser.wait_for(&card::http_route(gw, "review")).await?;
    browser
        .wait_for(&card::virtual_service(&demo.namespace, "review"))
        .await?;
    browser
        .wait_for_text(&card::kind_badge(&name), "HTTPRoute", |t| t == "HTTPRoute")
        .await?;
    let requested = |key: &str| card::requested(&name, 1, key);
    browser
        .wait_for_text(&requested("review-v2"), "requested 0%", |t| {
            t == "requested 0%"
        })
        .await?;

    // 80/20 with the page's own preset and Apply.
    browser.click(&card::preset(&name, 1, 80, 20)).await?;
    browser.click(&card::apply(&name, 1)).await?;
    let applied = browser
        .wait_for_text(&card::status(&name, 1), "the Apply outcome", |t| {
            t.contains("applied")
        })
        .await?;
    if !applied.contains("review-v1 80") || !applied.contains("review-v2 20") {
        return fail(format!("unexpected outcome: {applied:?}"));
    }
    let yaml = kubectl(demo, gw, &["get", "httproute", "review", "-o", "yaml"]).await?;
    let weights = kubectl(
        demo,
        gw,
        &[
            "get",
            "httproute",
            "review",
            "-o",
            "jsonpath={.spec.rules[1].backendRefs[*].weight}",
        ],
    )
    .await?;
    if weights.trim() != "80 20" || !yaml.contains("weight: 80") || !yaml.contains("weight: 20") {
        return fail(format!(
            "the HTTPRoute holds {weights:?}, not 80 and 20:\n{yaml}"
        ));
    }

    // The observed share of review-v2 (the waypoint's metrics, per backend Service) converges.
    // From 100/0 it can only grow towards 20 % as the window fills with post-change traffic, so
    // a reading near 20 % is the change seen, not a mix passing by.
    let observed_id = card::observed(&name, 1, "review-v2");
    let last = std::sync::Mutex::new(String::new());
    let last_seen = &last;
    let observed = poll("review-v2's observed share near 20%", SETTLE, || async {
        let text = browser.text(&observed_id).await.unwrap_or_default();
        let done = observed_percent(&text).is_some_and(|p| (p - 20.0).abs() <= MARGIN);
        if let Ok(mut seen) = last_seen.lock() {
            seen.clone_from(&text);
        }
        Ok(done.then_some(text))
    })
    .await
    .map_err(|e| {
        let seen = last.lock().map(|s| s.clone()).unwrap_or_default();
        format!("{e}; last observed {seen:?}")
    })?;
    eprintln!("review-v2 {observed} (requested 20%)");

    // The history lists the change as the HTTPRoute's.
    let label = format!("{gw}/review (HTTPRoute) route 1");
    browser
        .wait_for_text(rollout::HISTORY, "the HTTPRoute's change", |t| {
            t.contains(&label)
        })
        .await?;
    // Weights 1 and 3 written with kubectl: relative, 25 % / 75 %, and the page says so.
    kubectl(
        demo,
        gw,
        &[
            "patch",
            "httproute",
            "review",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/1/backendRefs/0/weight","value":1},{"op":"replace","path":"/spec/rules/1/backendRefs/1/weight","value":3}]"#,
        ],
    )
    .await?;
    browser
        .wait_for_text(&requested("review-v1"), "requested 25%", |t| {
            t == "requested 25%"
        })
        .await?;
    browser
        .wait_for_text(&requested("review-v2"), "requested 75%", |t| {
            t == "requested 75%"
        })
        .await?;
    browser
        .wait_for_text(
            &card::sum_note(&name, 1),
            "the relative-weights note",
            |t| {
                t.contains("Gateway API sends 25.0 % / 75.0 %")
                    && t.contains("Apply writes whole numbers adding up to 100")
            },
        )
        .await?;

    // One bulk shift over every old/new route of both kinds, then one rollback.
    let http_id = card::name_for(RouteKind::HTTPRoute, "review");
    browser.click(&rollout::bulk_preset(50, 50)).await?;
    browser
        .wait_for_text(
            &rollout::bulk_preview(&http_id),
            "the HTTPRoute's preview",
            |t| {
                t.contains("(HTTPRoute)")
                    && t.contains("review-v1 1 / review-v2 3 → review-v1 50 / review-v2 50")
            },
        )
        .await?;
    browser
        .wait_for_text(
            &rollout::bulk_preview("review"),
            "the VirtualService's preview",
            |t| t.contains("old 100 / new 0 → old 50 / new 50"),
        )
        .await?;
    browser.click(rollout::BULK_APPLY).await?;
    browser
        .wait_for_text(
            &rollout::bulk_result(&http_id),
            "the HTTPRoute changed",
            |t| t.contains("changed: review-v1 1 / review-v2 3 → review-v1 50 / review-v2 50"),
        )
        .await?;
    browser
        .wait_for_text(
            &rollout::bulk_result("review"),
            "the VirtualService changed",
            |t| t.contains("changed: old 100 / new 0 → old 50 / new 50"),
        )
        .await?;
    let vs_weights = demo
        .kubectl(&[
            "get",
            "virtualservice",
            "review",
            "-o",
            "jsonpath={.spec.http[1].route[*].weight}",
        ])
        .await?;
    let route_weights = kubectl(
        demo,
        gw,
        &[
            "get",
            "httproute",
            "review",
            "-o",
            "jsonpath={.spec.rules[1].backendRefs[*].weight}",
        ],
    )
    .await?;
    if vs_weights.trim() != "50 50" || route_weights.trim() != "50 50" {
        return fail(format!(
            "after the bulk shift: VirtualService {vs_weights:?}, HTTPRoute {route_weights:?}"
        ));
    }
    browser.click(rollout::ROLLBACK).await?;
    browser
        .wait_for_text(rollout::ROLLBACK_CONFIRM, "the confirm button", |t| {
            t.contains("Roll back")
        })
        .await?;
    let question = browser
        .client
        .find(Locator::Css(".confirm-dialog-question"))
        .await?
        .text()
        .await?;
    let ns = &demo.namespace;
    if !question.starts_with("Roll back 6 services to old 100 %:")
        || !question.contains(&format!("{ns}/review"))
        || !question.contains(&format!("{gw}/review (HTTPRoute)"))
    {
        return fail(format!("the confirmation asks {question:?}"));
    }
    browser.click(rollout::ROLLBACK_CONFIRM).await?;
    browser
        .wait_for_text(rollout::ROLLBACK_RESULT, "6 changed", |t| {
            t.contains("6 changed")
        })
        .await?;
    let route_weights = kubectl(
        demo,
        gw,
        &[
            "get",
            "httproute",
            "review",
            "-o",
            "jsonpath={.spec.rules[1].backendRefs[*].weight}",
        ],
    )
    .await?;
    if route_weights.trim() != "100 0" {
        return fail(format!(
            "after the rollback the HTTPRoute holds {route_weights:?}"
        ));
    }
    // The history has both kinds of the bulk shift and of the rollback.
    let http_label = format!("{gw}/review (HTTPRoute) route 1");
    let vs_label = format!("{ns}/review route 1");
    browser
        .wait_for_text(rollout::HISTORY, "both kinds in the history", |t| {
            t.matches(&http_label).count() >= 3 && t.matches(&vs_label).count() >= 2
        })
        .await?;
    Ok(())
}

/// `observed 19%` → 19.0.
fn observed_percent(text: &str) -> Option<f64> {
    text.strip_prefix("observed ")?
        .trim_end_matches('%')
        .parse()
        .ok()
}
