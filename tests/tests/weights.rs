//! Shifting traffic through the real page: a person sets review's default route to 80/20 with
//! the page's own controls, Apply writes it (checked with real `kubectl`), and changes made with
//! `kubectl` appear on the open page without a reload — both for an untouched route and next to
//! an unsaved draft (conflict on Apply, and "discard my draft"). Typed weights are strict:
//! 150, 12.5 and 2e1 are refused with the rule and keep Apply disabled; after a keyboard Apply
//! the focus is on the outcome, not lost to the page.

use fantoccini::key::Key;
use switchyard_e2e::{conclude, fail, Browser, Demo, Result};
use switchyard_frontend::weight_controls::test_ids as card;

const JSONPATH_WEIGHTS: &str = "jsonpath={.spec.http[1].route[*].weight}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_review_to_80_20_and_follow_kubectl_changes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let demo = match Demo::start(dir.path()).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&browser, &demo).await;
    conclude("", outcome, &demo, vec![(browser, "weights".to_owned())]).await;
}

async fn scenario(browser: &Browser, demo: &Demo) -> Result<()> {
    // review's default route (index 1), by the page's own test ids.
    let old: &str = &card::weight_range("review", 1, "old");
    let new: &str = &card::weight_range("review", 1, "new");
    let old_number: &str = &card::weight_number("review", 1, "old");
    let new_number: &str = &card::weight_number("review", 1, "new");
    let apply: &str = &card::apply("review", 1);
    let status: &str = &card::status("review", 1);
    browser.client.goto(&demo.url).await?;
    let source = browser.client.source().await?;
    if source.contains("UI not built") {
        return fail(
            "the switchyard binary embeds the placeholder page (built with SWITCHYARD_SKIP_UI); \
             rebuild it with `cargo build -p switchyard`",
        );
    }
    browser
        .wait_for(&card::virtual_service("hands-on", "review"))
        .await?;
    browser
        .wait_for_values(&[
            (old, "100"),
            (new, "0"),
            (old_number, "100"),
            (new_number, "0"),
        ])
        .await?;
    // A marker that a reload would wipe: proves later updates arrive live.
    browser
        .client
        .execute("window.__switchyardE2e = 'still here';", vec![])
        .await?;
    if browser.wait_for(apply).await?.is_enabled().await? {
        return fail("Apply is enabled before anything changed");
    }

    // Keyboard on the slider (send_keys focuses it, as Tab would; a click would move the thumb
    // to the pointer): three ArrowLefts take `old` to 97 and the linked `new` to 3.
    let old_slider = browser.wait_for(old).await?;
    let left = char::from(Key::Left).to_string();
    old_slider.send_keys(&left.repeat(3)).await?;
    browser
        .wait_for_values(&[
            (old, "97"),
            (old_number, "97"),
            (new, "3"),
            (new_number, "3"),
        ])
        .await?;

    // Typing into the other number field moves the first. Backspace, not WebDriver's clear():
    // clear() also blurs, and leaving an emptied field puts its weight back, as for a person.
    let new_field = browser.wait_for(new_number).await?;
    let backspace = char::from(Key::Backspace).to_string();
    new_field
        .send_keys(&format!("{}35", backspace.repeat(3)))
        .await?;
    browser
        .wait_for_values(&[(old_number, "65"), (old, "65"), (new, "35")])
        .await?;

    // Strict input: what is not a whole number 0 to 100 is refused with the rule beside the
    // field, never clamped or rounded, and Apply stays disabled. The other field keeps what the
    // last valid prefix set ("15" of "150", "12" of "12.5", "2" of "2e1").
    let new_error: &str = &card::weight_error("review", 1, "new");
    for (typed, rule, old_then) in [
        (
            "150",
            "weight 150 for new is out of range: weights are 0 to 100",
            "85",
        ),
        ("12.5", "new: \"12.5\" is not a weight", "88"),
        (
            "2e1",
            "is not a weight: weights are whole numbers 0 to 100",
            "98",
        ),
    ] {
        new_field
            .send_keys(&format!("{}{typed}", backspace.repeat(6)))
            .await?;
        browser
            .wait_for_text(new_error, rule, |t| t.contains(rule))
            .await?;
        browser.wait_for_values(&[(old_number, old_then)]).await?;
        if browser.is_enabled(apply).await? {
            return fail(format!("Apply is enabled with {typed:?} in the new field"));
        }
        if browser.value(new_number).await? != typed {
            return fail(format!(
                "the field no longer shows what was typed ({typed:?})"
            ));
        }
    }
    new_field
        .send_keys(&format!("{}35", backspace.repeat(6)))
        .await?;
    browser
        .wait_for_values(&[(old_number, "65"), (new, "35")])
        .await?;
    browser
        .wait_for_text(new_error, "no error", str::is_empty)
        .await?;
    if !browser.is_enabled(apply).await? {
        return fail("Apply stays disabled once the field holds a weight again");
    }

    // The preset a person would use for a canary step.
    browser
        .wait_for(&card::preset("review", 1, 80, 20))
        .await?
        .click()
        .await?;
    browser
        .wait_for_values(&[
            (old, "80"),
            (new, "20"),
            (old_number, "80"),
            (new_number, "20"),
        ])
        .await?;

    // Apply from the keyboard (send_keys focuses the button, as Tab would).
    browser
        .wait_for(apply)
        .await?
        .send_keys(&char::from(Key::Enter).to_string())
        .await?;
    let outcome = browser
        .wait_for_text(status, "the outcome", |t| {
            t.contains("applied") || is_failure(t)
        })
        .await?;
    if outcome != "review: applied old 80 / new 20" {
        return fail(format!("unexpected status after Apply: {outcome:?}"));
    }
    // The button is disabled while the write is in flight; focus stays in the card, on the
    // outcome, instead of dropping to the page.
    let focused = browser
        .client
        .execute(
            "return document.activeElement && document.activeElement.getAttribute('data-testid');",
            vec![],
        )
        .await?;
    if focused != serde_json::json!(status) {
        return fail(format!(
            "after a keyboard Apply the focus is on {focused}, not the outcome"
        ));
    }
    let weights = demo
        .kubectl(&["get", "vs", "review", "-o", JSONPATH_WEIGHTS])
        .await?;
    if weights.trim() != "80 20" {
        return fail(format!(
            "kubectl shows weights {weights:?}, expected \"80 20\""
        ));
    }
    browser
        .wait_for_text(&card::requested("review", 1, "new"), "requested 20%", |t| {
            t == "requested 20%"
        })
        .await?;

    // Someone else changes the route with kubectl: the open page follows.
    patch_review(demo, 50, 50).await?;
    browser
        .wait_for_values(&[
            (old, "50"),
            (new, "50"),
            (old_number, "50"),
            (new_number, "50"),
        ])
        .await?;
    browser
        .wait_for_text(&card::requested("review", 1, "old"), "requested 50%", |t| {
            t == "requested 50%"
        })
        .await?;
    let marker = browser
        .client
        .execute("return window.__switchyardE2e || null;", vec![])
        .await?;
    if marker.as_str() != Some("still here") {
        return fail("the page reloaded instead of updating in place");
    }

    // An unsaved draft survives a server change, which is announced next to it…
    browser
        .wait_for(&card::preset("review", 1, 100, 0))
        .await?
        .click()
        .await?;
    browser.wait_for_values(&[(old, "100"), (new, "0")]).await?;
    patch_review(demo, 30, 70).await?;
    browser
        .wait_for_text(
            &card::server_change("review", 1),
            "the server's change",
            |t| t.contains("changed on the server (now old 30 / new 70)"),
        )
        .await?;
    browser.wait_for_values(&[(old, "100"), (new, "0")]).await?;
    // …and applying it anyway is refused (it was based on 50/50): the page shows the server's
    // sentence and the route as it is now.
    browser.wait_for(apply).await?.click().await?;
    let refusal = browser
        .wait_for_text(status, "the refusal", |t| {
            !t.is_empty() && !t.contains("applying")
        })
        .await?;
    if refusal.contains("applied") {
        return fail(format!("a stale draft was applied: {refusal:?}"));
    }
    browser
        .wait_for_values(&[
            (old, "30"),
            (new, "70"),
            (old_number, "30"),
            (new_number, "70"),
        ])
        .await?;
    let weights = demo
        .kubectl(&["get", "vs", "review", "-o", JSONPATH_WEIGHTS])
        .await?;
    if weights.trim() != "30 70" {
        return fail(format!("kubectl shows {weights:?} after a refused write"));
    }

    // "discard my draft" drops the draft and shows the server's weights.
    browser
        .wait_for(&card::preset("review", 1, 0, 100))
        .await?
        .click()
        .await?;
    patch_review(demo, 80, 20).await?;
    browser
        .wait_for(&card::discard("review", 1))
        .await?
        .click()
        .await?;
    browser.wait_for_values(&[(old, "80"), (new, "20")]).await?;
    if browser.exists(&card::server_change("review", 1)).await? {
        return fail("the server-change notice stayed after discarding the draft");
    }
    if browser.wait_for(apply).await?.is_enabled().await? {
        return fail("Apply is enabled with no draft");
    }
    Ok(())
}

fn is_failure(status: &str) -> bool {
    !status.is_empty() && !status.contains("applying") && !status.contains("applied")
}

async fn patch_review(demo: &Demo, old: u32, new: u32) -> Result<()> {
    let patch = format!(
        r#"[{{"op":"replace","path":"/spec/http/1/route/0/weight","value":{old}}},{{"op":"replace","path":"/spec/http/1/route/1/weight","value":{new}}}]"#
    );
    demo.kubectl(&[
        "patch",
        "virtualservice",
        "review",
        "--type=json",
        "-p",
        &patch,
    ])
    .await?;
    Ok(())
}
