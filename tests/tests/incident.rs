//! What an SRE reads mid-incident, through the real page on both clusters: the rollback question
//! names the services it returns and leaves out the ones unticked in the bulk panel (kubectl shows
//! the unticked one untouched); weights a kubectl edit left off 100 (70/20) show as written with
//! a note of what Istio sends; and with the console process stopped, a failed Apply or rollback
//! reads "cannot reach the console — retrying", never the browser's "TypeError: Failed to fetch".

use fantoccini::Locator;
use switchyard_e2e::{fail, kinds, poll, Browser, Demo, Result, WAIT};
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
            let browser = match Browser::start().await {
                Ok(browser) => browser,
                Err(error) => panic!("{error}"),
            };
            if let Err(error) = $scenario(&browser, &mut demo).await {
                let shot = match browser.screenshot($name).await {
                    Ok(path) => format!("screenshot: {}", path.display()),
                    Err(e) => format!("no screenshot: {e}"),
                };
                panic!(
                    "on the {kind} cluster: {error}\n{shot}\nswitchyard log (tail):\n{}",
                    demo.log_tail()
                );
            }
            if let Err(error) = browser.close().await {
                panic!("closing the browser session: {error}");
            }
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
