//! The live graph's controls in the real page. Pausing: paused, the snapshot shown stays the
//! same while the server keeps refreshing and the page says newer ones are waiting; "Refresh
//! now" shows the latest at once and stays paused; resume follows the stream again. The rate
//! window: the page offers the server's windows, another choice shows rates over it (and keeps
//! following the stream), the URL keeps it across a reload. On every cluster kind.

use std::time::Duration;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Kind, Result, WAIT};
use switchyard_frontend::components::window_selector::WINDOW_SELECTOR;
use switchyard_frontend::graph_view::test_ids as ids;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_pauses_refreshes_and_resumes() {
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
    let browsers = vec![(browser, format!("pause-{kind}"))];
    conclude(&format!("on the {kind} cluster"), outcome, &demo, browsers).await;
}

/// Waits until the snapshot shown is another than `before`; returns it.
async fn next_snapshot(browser: &Browser, before: &str) -> Result<String> {
    poll("a newer snapshot to be shown", WAIT, || async {
        let now = browser.text(ids::GRAPH_UPDATED).await?;
        Ok((now.starts_with("snapshot") && now != before).then_some(now))
    })
    .await
}

async fn scenario(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    let first = next_snapshot(browser, "").await?;
    // Live: the snapshot moves on by itself.
    let live = next_snapshot(browser, &first).await?;

    browser.click(ids::GRAPH_PAUSE).await?;
    let paused_at = browser.text(ids::GRAPH_UPDATED).await?;
    let note = browser.text(ids::GRAPH_PAUSED_NOTE).await?;
    if !note.starts_with("paused at the") {
        return fail(format!("no paused note after Pause: {note:?}"));
    }
    // Three refresh intervals of the demo (5 s): the server moves on, the page holds still.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let still = browser.text(ids::GRAPH_UPDATED).await?;
    if still != paused_at {
        return fail(format!(
            "the paused graph moved from {paused_at:?} to {still:?}"
        ));
    }
    let note = browser.text(ids::GRAPH_PAUSED_NOTE).await?;
    if !note.contains("newer ones are waiting") {
        return fail(format!(
            "the paused note does not say newer ones wait: {note:?}"
        ));
    }
    eprintln!("live {live:?}, paused at {paused_at:?}, 15 s later still {still:?}");

    // Refresh now: the latest, at once, still paused.
    browser.click(ids::GRAPH_REFRESH).await?;
    let refreshed = next_snapshot(browser, &paused_at).await?;
    let pressed = browser
        .wait_for(ids::GRAPH_PAUSE)
        .await?
        .attr("aria-pressed")
        .await?;
    if pressed.as_deref() != Some("true") {
        return fail("Refresh now ended the pause");
    }

    // Resume: the stream's snapshots are shown again.
    browser.click(ids::GRAPH_PAUSE).await?;
    let note = browser.text(ids::GRAPH_PAUSED_NOTE).await?;
    if !note.is_empty() {
        return fail(format!("still a paused note after Resume: {note:?}"));
    }
    next_snapshot(browser, &refreshed).await?;
    rate_window(browser).await
}

/// The text of the options of the window selector, and the chosen value.
async fn windows_offered(browser: &Browser) -> Result<(Vec<String>, String)> {
    let select = browser.wait_for(WINDOW_SELECTOR).await?;
    let answer = browser
        .js(
            "const s = arguments[0]; return [Array.from(s.options).map(o => o.text), s.value];",
            vec![serde_json::to_value(&select)?],
        )
        .await?;
    let options = answer[0]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((options, answer[1].as_str().unwrap_or_default().to_owned()))
}

async fn rate_window(browser: &Browser) -> Result<()> {
    let (offered, chosen) = windows_offered(browser).await?;
    if offered != ["30 s", "1 min", "5 min", "15 min"] || chosen != "30" {
        return fail(format!(
            "the window selector offers {offered:?} with {chosen:?} chosen, not the demo's 30 s, 1, 5 and 15 min with 30 s"
        ));
    }
    let shown = browser.text(ids::GRAPH_UPDATED).await?;
    if !shown.ends_with("rates over the last 30 s") {
        return fail(format!("the default window is not said: {shown:?}"));
    }
    browser
        .wait_for(WINDOW_SELECTOR)
        .await?
        .select_by_value("300")
        .await?;
    let over = poll("rates over 5 minutes", WAIT, || async {
        let now = browser.text(ids::GRAPH_UPDATED).await?;
        Ok(now.ends_with("rates over the last 300 s").then_some(now))
    })
    .await?;
    let url = browser.client.current_url().await?;
    if !url.as_str().contains("window=300") {
        return fail(format!("the URL does not keep the window: {url}"));
    }
    // The stream now follows the five-minute window: its snapshots keep coming, all over it.
    let next = next_snapshot(browser, &over).await?;
    if !next.ends_with("rates over the last 300 s") {
        return fail(format!("a snapshot of another window was shown: {next:?}"));
    }
    browser.client.refresh().await?;
    let after = poll("the window after a reload", WAIT, || async {
        let now = browser.text(ids::GRAPH_UPDATED).await?;
        Ok(now.starts_with("snapshot").then_some(now))
    })
    .await?;
    let (_, chosen) = windows_offered(browser).await?;
    if chosen != "300" || !after.ends_with("rates over the last 300 s") {
        return fail(format!(
            "after a reload the window is {chosen:?} and the graph says {after:?}"
        ));
    }
    eprintln!("window chosen: {over:?}, then {next:?}; after a reload {after:?}");
    Ok(())
}
