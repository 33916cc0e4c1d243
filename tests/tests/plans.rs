//! Release plans in the real page, on every cluster kind (the demo with the gateway namespace
//! too): a plan over a VirtualService and an HTTPRoute (the editor lists each with its kind),
//! started from the editor in one window, advances by itself and a second window shows it live
//! (its step and both targets, without a reload); aborting it from the page sends both routes back
//! to old, and both windows say so.

use std::time::Duration;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Kind, Result};
use switchyard_frontend::plans::test_ids as ids;
use switchyard_frontend::rollout::test_ids as rollout_ids;
use switchyard_protocol::RouteKind;

/// A plan takes a few holds of 5 s; on the real cluster the metrics come through Prometheus with
/// the demo's 5 s refresh.
const PLAN_WAIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_started_in_one_window_advances_live_in_another_and_is_aborted_from_the_page() {
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
    let first = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let second = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&first, &second, &demo).await;
    let browsers = vec![
        (first, format!("plans-{kind}")),
        (second, format!("plans-second-window-{kind}")),
    ];
    conclude(&format!("on the {kind} cluster"), outcome, &demo, browsers).await;
}

/// Types `value` into the field with this test id (replacing what is there).
async fn set_field(browser: &Browser, id: &str, value: &str) -> Result<()> {
    let field = browser.wait_for(id).await?;
    field.clear().await?;
    field.send_keys(value).await?;
    Ok(())
}

/// The id of the one plan on the page (its card's test id without the prefix).
async fn plan_id(browser: &Browser) -> Result<String> {
    let card = browser
        .wait_for_css(&format!("[data-testid^=\"{}\"]", ids::PLAN_CARD_PREFIX))
        .await?;
    let test_id = card.attr("data-testid").await?.unwrap_or_default();
    Ok(test_id
        .strip_prefix(ids::PLAN_CARD_PREFIX)
        .unwrap_or_default()
        .to_owned())
}

async fn wait_text(
    browser: &Browser,
    id: &str,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<String> {
    poll(what, PLAN_WAIT, || async {
        let text = browser.text(id).await?;
        Ok(wanted(&text).then_some(text))
    })
    .await
}

async fn scenario(first: &Browser, second: &Browser, demo: &Demo) -> Result<()> {
    first.client.goto(&demo.url).await?;
    second.client.goto(&demo.url).await?;
    // The toolbar finds the panel at the end of the controls column, focus on its heading.
    first.click(rollout_ids::TOOLBAR_PLANS).await?;
    let focused = first.client.active_element().await?.attr("id").await?;
    if focused.as_deref() != Some("plans-heading") {
        return fail(format!(
            "after the Release plans button focus is on {focused:?}"
        ));
    }
    // The editor shows the gates' defaults.
    for (id, default) in [
        (ids::PLAN_MIN_SUCCESS, "99"),
        (ids::PLAN_MAX_P99, "500"),
        (ids::PLAN_MIN_REQUESTS, "50"),
    ] {
        let shown = first.value(id).await?;
        if shown != default {
            return fail(format!("{id} shows {shown:?}, not the default {default}"));
        }
    }
    // The VirtualService product and the HTTPRoute product (of the gateway namespace), each
    // listed with its kind.
    let Some(gw) = demo.gateway_namespace.clone() else {
        return fail("the demo has no gateway namespace");
    };
    let listed = first
        .text(&ids::plan_target_kind(RouteKind::HTTPRoute, "product"))
        .await?;
    if listed != format!("HTTPRoute · {gw}") {
        return fail(format!("the HTTPRoute target is listed as {listed:?}"));
    }
    let listed = first
        .text(&ids::plan_target_kind(RouteKind::VirtualService, "product"))
        .await?;
    if !listed.starts_with("VirtualService · ") {
        return fail(format!("the VirtualService target is listed as {listed:?}"));
    }
    first.click(&ids::plan_target("product")).await?;
    first
        .click(&ids::plan_target_of(RouteKind::HTTPRoute, "product"))
        .await?;
    set_field(first, ids::PLAN_STEPS, "5, 25, 100").await?;
    set_field(first, ids::PLAN_HOLD, "5").await?;
    set_field(first, ids::PLAN_MIN_REQUESTS, "3").await?;
    first.click(ids::PLAN_START).await?;
    let error = first.text(ids::PLAN_START_ERROR).await?;
    if !error.is_empty() {
        return fail(format!("the plan was refused: {error}"));
    }
    // The second window learns of the plan from the event stream alone.
    let id = plan_id(second).await?;
    wait_text(
        second,
        &ids::plan_step(&id),
        "the first step in the second window",
        |t| t.starts_with("step 1 of 3 (5 %)"),
    )
    .await?;
    let advanced = wait_text(
        second,
        &ids::plan_step(&id),
        "the plan to advance in the second window",
        |t| t.starts_with("step 2 of 3 (25 %)"),
    )
    .await?;
    eprintln!("second window: {advanced}");
    // Both targets on the card with the plan's weight, the HTTPRoute with its kind.
    let words = |text: String| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let row = words(
        second
            .text(&ids::plan_target_row(&id, RouteKind::HTTPRoute, "product"))
            .await?,
    );
    if !row.starts_with("product HTTPRoute ") || !row.contains(" %") {
        return fail(format!("the HTTPRoute's row on the card reads {row:?}"));
    }
    let row = words(
        second
            .text(&ids::plan_target_row(
                &id,
                RouteKind::VirtualService,
                "product",
            ))
            .await?,
    );
    if !row.starts_with("product ") || row.contains("HTTPRoute") || !row.contains(" %") {
        return fail(format!(
            "the VirtualService's row on the card reads {row:?}"
        ));
    }
    let timeline = second.text(&ids::plan_timeline(&id)).await?;
    if !timeline.contains("step 1 (5 %) passed") {
        return fail(format!(
            "the timeline lacks the first evaluation: {timeline}"
        ));
    }
    // Abort from the page; both windows show it, and the route is back on old.
    first.click(&ids::plan_action("abort", &id)).await?;
    for browser in [first, second] {
        wait_text(
            browser,
            &ids::plan_phase(&id),
            "the plan to show aborted",
            |t| t == "aborted",
        )
        .await?;
    }
    let reason = second.text(&ids::plan_reason(&id)).await?;
    if !reason.starts_with("aborted by ") {
        return fail(format!("the abort's reason reads {reason:?}"));
    }
    poll("product back on old", PLAN_WAIT, || async {
        let weights = demo
            .kubectl(&[
                "get",
                "vs",
                "product",
                "-o",
                "jsonpath={.spec.http[1].route[*].weight}",
            ])
            .await?;
        Ok((weights.split_whitespace().collect::<Vec<_>>() == ["100", "0"]).then_some(()))
    })
    .await?;
    poll("the HTTPRoute product back on old", PLAN_WAIT, || async {
        let weights = demo
            .kubectl(&[
                "get",
                "httproute",
                "product",
                "-n",
                &gw,
                "-o",
                "jsonpath={.spec.rules[1].backendRefs[*].weight}",
            ])
            .await?;
        Ok((weights.split_whitespace().collect::<Vec<_>>() == ["100", "0"]).then_some(()))
    })
    .await?;
    // Nothing is offered that the aborted plan cannot do.
    if first.is_enabled(&ids::plan_action("promote", &id)).await? {
        return fail("promote is offered on an aborted plan");
    }
    Ok(())
}
