//! What an SRE reads mid-incident, through the real page on both clusters: the rollback question
//! names the services it returns and leaves out the ones unticked in the bulk panel (kubectl shows
//! the unticked one untouched); weights a kubectl edit left off 100 (70/20) show as written with
//! a note of what Istio sends; and with the console process stopped, a failed Apply or rollback
//! reads "cannot reach the console — retrying", never the browser's "TypeError: Failed to fetch".

use fantoccini::Locator;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Result, WAIT};
use switchyard_frontend::rollout::test_ids as ids;
use switchyard_frontend::weight_controls::test_ids as card;

const JSONPATH_WEIGHTS: &str = "jsonpath={.spec.http[1].route[*].weight}";
const OFFLINE: &str = "cannot reach the console — retrying";

/// Runs `scenario` on every cluster kind of the run with a fresh console and browser; on failure
/// the panic carries a screenshot path and the console's log tail.
macro_rules! on_every_kind {
    ($name:literal, $scenario:ident) => {{
        for kind in kinds() {
            eprintln!("-- on the {kind} cluster");
            let dir = tempfile::tempdir().expect("a temp dir");
            let mut demo = match Demo::start_on(kind, dir.path(), &[]).await {
                Ok(demo) => demo,
                Err(error) => panic!("{error}"),
            };
            let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
            let outcome = $scenario(&browser, &mut demo).await;
            let context = format!("on the {kind} cluster");
            conclude(&context, outcome, &demo, vec![(browser, $name.to_owned())]).await;
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_names_what_it_returns_and_skips_the_unticked() {
    on_every_kind!("incident-rollback-names", rollback_names);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_off_100_show_as_written_with_a_note() {
    on_every_kind!("incident-sum-note", sum_note);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_console_reads_as_a_plain_sentence() {
    on_every_kind!("incident-offline", offline);
}

async fn open_console(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    if browser.client.source().await?.contains("UI not built") {
        return fail(
            "the switchyard binary embeds the placeholder page: run `cargo build -p switchyard`",
        );
    }
    browser.wait_for(ids::BULK_SHIFT).await?;
    Ok(())
}

async fn kubectl_weights(demo: &Demo, service: &str) -> Result<String> {
    Ok(demo
        .kubectl(&["get", "virtualservice", service, "-o", JSONPATH_WEIGHTS])
        .await?
        .trim()
        .to_owned())
}

async fn wait_kubectl(demo: &Demo, service: &str, weights: &str) -> Result<()> {
    poll(
        &format!("kubectl to show {service} at {weights}"),
        WAIT,
        || async { Ok((kubectl_weights(demo, service).await? == weights).then_some(())) },
    )
    .await
}

async fn dialog_question(browser: &Browser) -> Result<String> {
    let question = browser
        .wait_for_css(".confirm-dialog-question")
        .await?
        .text()
        .await?;
    Ok(question)
}

async fn rollback_names(browser: &Browser, demo: &mut Demo) -> Result<()> {
    open_console(browser, demo).await?;
    let ns = demo.namespace.clone();
    // Everything to the new version first, so a rollback has something to return.
    browser.click(&ids::bulk_preset(0, 100)).await?;
    browser
        .wait_for_text(&ids::bulk_preview("review"), "a preview row", |t| {
            t.contains("→ old 0 / new 100")
        })
        .await?;
    browser.click(ids::BULK_APPLY).await?;
    for service in ["product", "recommendation", "review"] {
        wait_kubectl(demo, service, "0 100").await?;
    }

    // Nothing unticked: the question names all three.
    browser.click(ids::ROLLBACK).await?;
    let all = format!(
        "Roll back 3 services to old 100 %: {ns}/product, {ns}/recommendation, {ns}/review"
    );
    let asked = dialog_question(browser).await?;
    if asked != all {
        return fail(format!(
            "with everything ticked the question is {asked:?}, not {all:?}"
        ));
    }
    browser.click(ids::ROLLBACK_CANCEL).await?;

    // Untick product in the bulk panel: the rollback leaves it out and says so.
    browser.click(&ids::bulk_target("product")).await?;
    browser
        .wait_for_text(ids::ROLLBACK, "the rollback button", |t| {
            t == "Roll back 2 services to old"
        })
        .await?;
    browser.click(ids::ROLLBACK).await?;
    let two = format!("Roll back 2 services to old 100 %: {ns}/recommendation, {ns}/review");
    let asked = dialog_question(browser).await?;
    if asked != two {
        return fail(format!(
            "with product unticked the question is {asked:?}, not {two:?}"
        ));
    }
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    browser
        .wait_for_text(ids::ROLLBACK_RESULT, "2 changed", |t| {
            t.contains("2 changed")
        })
        .await?;
    wait_kubectl(demo, "recommendation", "100 0").await?;
    wait_kubectl(demo, "review", "100 0").await?;
    let product = kubectl_weights(demo, "product").await?;
    if product != "0 100" {
        return fail(format!(
            "the unticked product was changed: kubectl shows {product:?}"
        ));
    }
    // The history calls it a rollback of two, not a bulk shift.
    let headings = format!(
        "[data-testid^=\"{}\"] .history-group-title",
        ids::HISTORY_GROUP_PREFIX
    );
    poll("the partial rollback in the history", WAIT, || async {
        let seen = texts(browser, &headings).await?;
        Ok(
            (seen.first().map(String::as_str) == Some("rollback by anonymous · 2 routes"))
                .then_some(()),
        )
    })
    .await
    .map_err(|e| format!("{e} (group headings by {headings})"))?;
    Ok(())
}

async fn sum_note(browser: &Browser, demo: &mut Demo) -> Result<()> {
    open_console(browser, demo).await?;
    let note = card::sum_note("review", 1);
    browser
        .wait_for(&card::weight_range("review", 1, "old"))
        .await?;
    if browser.exists(&note).await? {
        return fail("a note shows while the weights add up to 100");
    }
    // Someone edits the weights with kubectl to 70/20: a sum of 90.
    demo.kubectl(&[
        "patch",
        "virtualservice",
        "review",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":70},{"op":"replace","path":"/spec/http/1/route/1/weight","value":20}]"#,
    ])
    .await?;
    let expected = "weights sum to 90; Istio sends 77.8 % / 22.2 %";
    browser
        .wait_for_text(&note, expected, |t| t == expected)
        .await?;
    // The weights themselves show as written, not normalised.
    browser
        .wait_for_values(&[
            (&card::weight_number("review", 1, "old"), "70"),
            (&card::weight_number("review", 1, "new"), "20"),
        ])
        .await?;
    // Applying a split that adds up to 100 clears the note.
    browser.click(&card::preset("review", 1, 80, 20)).await?;
    browser.click(&card::apply("review", 1)).await?;
    wait_kubectl(demo, "review", "80 20").await?;
    poll("the note to go", WAIT, || async {
        Ok((!browser.exists(&note).await?).then_some(()))
    })
    .await?;
    Ok(())
}

async fn offline(browser: &Browser, demo: &mut Demo) -> Result<()> {
    open_console(browser, demo).await?;
    browser
        .wait_for(&card::weight_range("review", 1, "old"))
        .await?;
    demo.stop().await?;
    browser
        .wait_for_text(card::CONNECTION_BANNER, "connection lost", |t| {
            t.starts_with("connection lost")
        })
        .await?;
    // An Apply with the console gone.
    browser.click(&card::preset("review", 1, 80, 20)).await?;
    browser.click(&card::apply("review", 1)).await?;
    browser
        .wait_for_text(&card::status("review", 1), OFFLINE, |t| t == OFFLINE)
        .await?;
    // A rollback with the console gone.
    browser.click(ids::ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    browser
        .wait_for_text(ids::ROLLBACK_RESULT, OFFLINE, |t| t == OFFLINE)
        .await?;
    let body = browser
        .client
        .find(Locator::Css("body"))
        .await?
        .text()
        .await?;
    for raw in ["TypeError", "Failed to fetch"] {
        if body.contains(raw) {
            return fail(format!("the page shows {raw:?}: {body}"));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_groups_filters_and_exports() {
    on_every_kind!("incident-history", history);
}

/// The real cluster only: the simulator keeps no `managedFields` (docs/sim-divergences.md, row 23).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_owned_route_warns_and_asks() {
    if !kinds().contains(&switchyard_e2e::Kind::Real) {
        eprintln!("skipped: needs the real cluster (SWITCHYARD_CLUSTERS names no `real`)");
        return;
    }
    let kind = switchyard_e2e::Kind::Real;
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut demo = match Demo::start_on(kind, dir.path(), &[]).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = ownership(&browser, &mut demo, dir.path()).await;
    let browsers = vec![(browser, "incident-ownership".to_owned())];
    conclude("on the real cluster", outcome, &demo, browsers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_screens_put_the_controls_beside_the_graph() {
    on_every_kind!("incident-layout", layout);
}

/// The elements matching a CSS selector, with their texts.
async fn texts(browser: &Browser, selector: &str) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for element in browser.client.find_all(Locator::Css(selector)).await? {
        texts.push(element.text().await?);
    }
    Ok(texts)
}

/// Percent-decoding of a `data:` URL's payload.
fn decode_data_url(href: &str) -> Result<String> {
    let Some((_, payload)) = href.split_once(',') else {
        return fail(format!("not a data URL: {href:.60}"));
    };
    let bytes = payload.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])?;
            out.push(u8::from_str_radix(hex, 16)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8(out)?)
}

async fn export(browser: &Browser, id: &str) -> Result<String> {
    let link = browser.wait_for(id).await?;
    if link.attr("download").await?.is_none() {
        return fail(format!("{id} is not a download link"));
    }
    let href = link.attr("href").await?.unwrap_or_default();
    decode_data_url(&href)
}

async fn history(browser: &Browser, demo: &mut Demo) -> Result<()> {
    open_console(browser, demo).await?;
    let ns = demo.namespace.clone();
    // One bulk shift of three, then one rollback of three.
    browser.click(&ids::bulk_preset(0, 100)).await?;
    browser
        .wait_for_text(&ids::bulk_preview("review"), "a preview row", |t| {
            t.contains("→ old 0 / new 100")
        })
        .await?;
    browser.click(ids::BULK_APPLY).await?;
    for service in ["product", "recommendation", "review"] {
        wait_kubectl(demo, service, "0 100").await?;
    }
    browser.click(ids::TOOLBAR_ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    for service in ["product", "recommendation", "review"] {
        wait_kubectl(demo, service, "100 0").await?;
    }
    let groups = format!("[data-testid^=\"{}\"]", ids::HISTORY_GROUP_PREFIX);
    let headings = format!("{groups} .history-group-title");
    poll("two groups of three", WAIT, || async {
        let seen = texts(browser, &headings).await?;
        Ok((seen.len() == 2
            && seen[0] == "rollback by anonymous · 3 routes"
            && seen[1] == "bulk shift by anonymous · 3 routes")
            .then_some(()))
    })
    .await
    .map_err(|e| format!("{e} (group headings by {headings})"))?;
    let entries = texts(browser, &format!("{groups} .history-entry")).await?;
    if entries.len() != 6 {
        return fail(format!("6 entries expected under the groups: {entries:#?}"));
    }

    // The toolbar jumps to the history and leaves focus on its heading.
    browser.click(ids::TOOLBAR_HISTORY).await?;
    let focused = browser.client.active_element().await?.attr("id").await?;
    if focused.as_deref() != Some("history-title") {
        return fail(format!("after the History button focus is on {focused:?}"));
    }

    // Filter by service: only review's two changes, still in their groups.
    browser
        .wait_for(ids::HISTORY_FILTER_SERVICE)
        .await?
        .select_by_value(&format!("{ns}/review"))
        .await?;
    poll("review's changes alone", WAIT, || async {
        let seen = texts(browser, &format!("{groups} .history-entry")).await?;
        Ok((seen.len() == 2
            && seen
                .iter()
                .all(|t| t.contains(&format!("{ns}/review route 1"))))
        .then_some(()))
    })
    .await?;
    let json = export(browser, ids::HISTORY_EXPORT_JSON).await?;
    let json: serde_json::Value = serde_json::from_str(&json)?;
    let changes = json["changes"].as_array().cloned().unwrap_or_default();
    if changes.len() != 2
        || changes
            .iter()
            .any(|c| c["virtual_service"] != "review" || !c["operation"].is_string())
    {
        return fail(format!("the JSON export holds {json:#}"));
    }
    let csv = export(browser, ids::HISTORY_EXPORT_CSV).await?;
    let lines: Vec<&str> = csv.lines().collect();
    if lines.len() != 3
        || !lines[0].starts_with("time,user,source,operation,")
        || !lines[1].contains(",anonymous,bulk,")
        || !lines[2].contains(",anonymous,rollback,")
    {
        return fail(format!("the CSV export reads {csv:?}"));
    }
    // Filter by user: nobody else changed anything, so a user filter keeps the same.
    browser
        .wait_for(ids::HISTORY_FILTER_USER)
        .await?
        .select_by_value("anonymous")
        .await?;
    let seen = texts(browser, &format!("{groups} .history-entry")).await?;
    if seen.len() != 2 {
        return fail(format!("with the user filter too: {seen:#?}"));
    }
    Ok(())
}

async fn ownership(browser: &Browser, demo: &mut Demo, dir: &std::path::Path) -> Result<()> {
    // review applied server-side by argo-rollouts, as the controller would own it.
    let current: serde_json::Value = serde_json::from_str(
        &demo
            .kubectl(&["get", "virtualservice", "review", "-o", "json"])
            .await?,
    )?;
    let applied = serde_json::json!({
        "apiVersion": current["apiVersion"],
        "kind": "VirtualService",
        "metadata": {"name": "review", "namespace": demo.namespace},
        "spec": current["spec"],
    });
    let file = dir.join("review-argo.json");
    std::fs::write(&file, serde_json::to_string(&applied)?)?;
    let path = file.to_string_lossy().into_owned();
    demo.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=argo-rollouts",
        "-f",
        &path,
    ])
    .await?;
    open_console(browser, demo).await?;
    let warning = "weights managed by argo-rollouts: a change made here may be undone when it next reconciles";
    browser
        .wait_for_text(&card::ownership_warning("review"), warning, |t| {
            t == warning
        })
        .await?;
    if browser.exists(&card::ownership_warning("product")).await? {
        return fail("product, which no controller manages, has a warning");
    }
    // Apply asks first; Cancel writes nothing.
    browser.click(&card::preset("review", 1, 80, 20)).await?;
    browser.click(&card::apply("review", 1)).await?;
    let question_id = format!("#owned-{}-review-1", demo.namespace);
    let asked = "review is managed by argo-rollouts, which may undo this change. Apply anyway?";
    poll("the ownership question", WAIT, || async {
        let text = browser.wait_for_css(&question_id).await?.text().await?;
        Ok((text == asked).then_some(()))
    })
    .await?;
    browser.click(&card::ownership_cancel("review", 1)).await?;
    let now = kubectl_weights(demo, "review").await?;
    if now != "100 0" {
        return fail(format!("Cancel wrote: kubectl shows {now:?}"));
    }
    // Confirmed, it writes.
    browser.click(&card::apply("review", 1)).await?;
    browser.click(&card::ownership_confirm("review", 1)).await?;
    wait_kubectl(demo, "review", "80 20").await?;
    Ok(())
}

/// The bounding box of the first element matching `selector`: (left, top, right, bottom).
async fn rect(browser: &Browser, selector: &str) -> Result<(f64, f64, f64, f64)> {
    browser.wait_for_css(selector).await?;
    let value = browser
        .client
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             return [r.left, r.top, r.right, r.bottom];",
            vec![serde_json::json!(selector)],
        )
        .await?;
    let n = |i: usize| value[i].as_f64().unwrap_or(f64::NAN);
    Ok((n(0), n(1), n(2), n(3)))
}

async fn layout(browser: &Browser, demo: &mut Demo) -> Result<()> {
    let graph = ".app-workspace > :first-child";
    let cards = format!(
        "[data-testid=\"{}\"]",
        card::virtual_service(&demo.namespace, "review")
    );
    browser.client.set_window_size(1600, 1000).await?;
    open_console(browser, demo).await?;
    let g = rect(browser, graph).await?;
    let c = rect(browser, &cards).await?;
    if c.0 < g.2 {
        return fail(format!(
            "at 1,600 px the card {c:?} is not beside the graph {g:?}"
        ));
    }
    // Below 1,200 px the controls go below the graph (1,280 px laptops keep them beside it).
    browser.client.set_window_size(1100, 900).await?;
    poll("the card below the graph at 1,100 px", WAIT, || async {
        let g = rect(browser, graph).await?;
        let c = rect(browser, &cards).await?;
        Ok((c.1 >= g.3).then_some(()))
    })
    .await?;
    // Scrolled to the very bottom, the toolbar's rollback is still in the window and works.
    browser
        .client
        .execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
        .await?;
    let selector = format!("[data-testid=\"{}\"]", ids::TOOLBAR_ROLLBACK);
    let (_, top, _, bottom) = rect(browser, &selector).await?;
    let height = browser
        .client
        .execute("return window.innerHeight;", vec![])
        .await?
        .as_f64()
        .unwrap_or(0.0);
    if top < 0.0 || bottom > height {
        return fail(format!(
            "scrolled down, the toolbar's rollback is at {top}..{bottom} of {height}"
        ));
    }
    browser.click(ids::TOOLBAR_ROLLBACK).await?;
    let asked = dialog_question(browser).await?;
    if !asked.starts_with("Roll back 3 services to old 100 %") {
        return fail(format!("the toolbar's rollback asks {asked:?}"));
    }
    Ok(())
}
