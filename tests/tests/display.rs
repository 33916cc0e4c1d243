//! What the graph shows and how it reads, in the real page (issue 14, the graph side):
//!
//! - routes at weight 0 are drawn as the dashed "no traffic" line of the legend;
//! - tooltips name things as people do: no `svc:…`/`wl:…` ids, the entry is "traffic from outside
//!   the mesh", not "entry () — outside the mesh";
//! - sparklines carry an axis, the current value and their time span;
//! - every version's share comes with its errors and p95, and nodes, badges and rows take the
//!   health colour (Kiali's thresholds): review v2 made to fail 30% at 50/50 turns its node, its
//!   badge and its row red;
//! - graph nodes tab in on-screen order (left to right, then down), not alphabetically, and the
//!   focus ring on nodes, sliders, number fields, presets and buttons is a solid outline of at
//!   least 3:1 contrast against what is behind it, in light and in dark mode;
//! - copy link puts the view's URL on the clipboard and says so; the graph exports as SVG and PNG
//!   files; dark mode follows the system and the toggle (remembered across a reload); `?kiosk`
//!   shows no controls, large type and the graph fitted to the width;
//! - at 1,280 x 720 the first weight card, the graph and the toolbar's rollback are on screen
//!   without scrolling.
//!
//! On every cluster kind of the run.

use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use std::path::Path;
use std::time::Duration;
use switchyard_e2e::{fail, kinds, poll, Browser, Demo, Kind, Result, WAIT};
use switchyard_frontend::components::{copy_link, theme_toggle};
use switchyard_frontend::graph_view::test_ids as ids;
use switchyard_frontend::rollout::test_ids as rollout_ids;
use switchyard_frontend::weight_controls::test_ids as card;

const TAB: &str = "\u{e004}";
const SHIFT_TAB: &str = "\u{e008}\u{e004}\u{e000}";
/// The window must hold enough failed requests after the change, then a refresh must follow.
const NOTICE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_reads_well_and_shows_health() {
    for kind in kinds() {
        eprintln!("-- on the {kind} cluster");
        on(kind).await;
    }
}

async fn on(kind: Kind) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let downloads = tempfile::tempdir().expect("a temp dir");
    let demo = match Demo::start_on(kind, dir.path(), &[]).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = match Browser::start_downloading_to(&[], downloads.path()).await {
        Ok(browser) => browser,
        Err(error) => panic!("{error}"),
    };
    let dark = match Browser::start_with_args(&[
        "--force-dark-mode",
        "--blink-settings=preferredColorScheme=0",
    ])
    .await
    {
        Ok(browser) => browser,
        Err(error) => panic!("{error}"),
    };
    let outcome = async {
        reading(&browser, &demo).await?;
        focus(&browser, &demo).await?;
        sharing(&browser, &demo, downloads.path()).await?;
        theme(&dark, &demo).await?;
        kiosk(&browser, &demo).await?;
        health(&browser, &demo).await?;
        fold(&browser, &demo).await
    }
    .await;
    if let Err(error) = outcome {
        let mut shots = Vec::new();
        for (b, name) in [(&browser, "display"), (&dark, "display-dark")] {
            shots.push(match b.screenshot(&format!("{name}-{kind}")).await {
                Ok(path) => format!("screenshot: {}", path.display()),
                Err(e) => format!("no screenshot: {e}"),
            });
        }
        panic!(
            "on the {kind} cluster: {error}\n{}\nswitchyard log (tail):\n{}",
            shots.join("\n"),
            demo.log_tail()
        );
    }
    for b in [browser, dark] {
        if let Err(error) = b.close().await {
            panic!("closing the browser session: {error}");
        }
    }
}

fn svc(demo: &Demo, service: &str) -> String {
    format!("svc:{}:{service}", demo.namespace)
}

fn wl(demo: &Demo, workload: &str) -> String {
    format!("wl:{}:{workload}", demo.namespace)
}

async fn class_of(browser: &Browser, id: &str) -> Result<String> {
    Ok(browser.attr_of(id, "class").await?.unwrap_or_default())
}

/// Dashed zero routes, readable tooltips, sparkline captions, version rows.
async fn reading(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    // The demo starts at 100/0: v2 of every service has a route but no traffic.
    for service in ["product", "recommendation", "review"] {
        let edge = ids::edge(&svc(demo, service), &wl(demo, &format!("{service}-v2")));
        let dashes = browser.css_of(&edge, "stroke-dasharray").await?;
        if dashes.is_empty() || dashes == "none" {
            return fail(format!(
                "{service}'s 0% route to v2 is not dashed (stroke-dasharray {dashes:?})"
            ));
        }
    }
    // Wait for traffic so the tooltips have numbers in them.
    let v1 = ids::node(&wl(demo, "review-v1"));
    poll("review-v1 to show traffic", WAIT, || async {
        let text = browser.text(&v1).await?;
        Ok((!text.contains(" 0.0 rps")).then_some(()))
    })
    .await?;
    let titles = browser
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=\"graph\"] title'))
                .map(t => [t.parentElement.getAttribute('data-testid') || '', t.textContent]);",
            vec![],
        )
        .await?;
    let titles = titles.as_array().cloned().unwrap_or_default();
    if titles.len() < 10 {
        return fail(format!("only {} tooltips on the graph", titles.len()));
    }
    let mut entry = None;
    for pair in &titles {
        let (owner, text) = (
            pair[0].as_str().unwrap_or(""),
            pair[1].as_str().unwrap_or(""),
        );
        if text.contains("svc:") || text.contains("wl:") || text.contains("()") {
            return fail(format!("tooltip of {owner} shows internals: {text:?}"));
        }
        if owner == ids::node("entry") {
            entry = Some(text.to_owned());
        }
    }
    match entry {
        Some(text)
            if text.starts_with("Traffic from outside the mesh") && text.contains("rps out") => {}
        other => return fail(format!("the entry's tooltip reads {other:?}")),
    }
    let review_v1 = titles
        .iter()
        .find(|p| p[0].as_str() == Some(v1.as_str()))
        .and_then(|p| p[1].as_str())
        .unwrap_or("");
    if !(review_v1.contains("version v1 of review") && review_v1.contains("errors")) {
        return fail(format!("review-v1's tooltip reads {review_v1:?}"));
    }
    // An edge's tooltip is made when the pointer first comes over its line (not parsed for
    // thousands of edges up front): move the mouse onto review → review-v1.
    let edge = ids::edge(&svc(demo, "review"), &wl(demo, "review-v1"));
    let line = browser.wait_for(&edge).await?;
    browser
        .client
        .perform_actions(
            MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
                element: line,
                duration: None,
                x: 0.0,
                y: 0.0,
            }),
        )
        .await?;
    let script = format!(
        "const t = document.querySelector('[data-testid=\"{edge}\"] > title'); \
         return t ? t.textContent : null;"
    );
    let tip = poll("the tooltip of review → review-v1", WAIT, || async {
        let tip = browser.js(&script, vec![]).await?;
        Ok(tip.as_str().map(str::to_owned))
    })
    .await?;
    if !(tip.contains(" → ") && tip.contains(" rps") && !tip.contains("wl:")) {
        return fail(format!(
            "the edge review → review-v1's tooltip reads {tip:?}"
        ));
    }

    let caption = browser
        .wait_for_text(
            &ids::sparkline_caption("review"),
            "the current value and span",
            |t| t.starts_with("now ") && t.contains(" · last "),
        )
        .await?;
    let axis = browser
        .js(
            "const f = document.querySelector('[data-testid=\"split-panel-review\"] .sparkline-axis');
             return f ? f.textContent : '';",
            vec![],
        )
        .await?;
    if axis.as_str() != Some("100%0%") {
        return fail(format!(
            "the sparkline has no axis ({axis:?}); caption {caption:?}"
        ));
    }
    let old = browser
        .wait_for_text(
            &ids::version_health("review", "old"),
            "v1's share, errors and p95",
            |t| t.starts_with("v1 100%") && t.contains("errors · p95"),
        )
        .await?;
    if !class_of(browser, &ids::version_health("review", "old"))
        .await?
        .contains("is-healthy")
    {
        return fail(format!("review v1 ({old}) is not coloured healthy"));
    }
    browser
        .wait_for_text(&ids::version_health("review", "new"), "v2 idle", |t| {
            t.starts_with("v2 0%") && t.contains("no traffic")
        })
        .await?;
    if !class_of(browser, &ids::node(&v1_id(demo)))
        .await?
        .contains("health-healthy")
    {
        return fail("review-v1's node is not coloured healthy");
    }
    Ok(())
}

fn v1_id(demo: &Demo) -> String {
    wl(demo, "review-v1")
}

/// The WCAG contrast between the focused element's outline and the first opaque background
/// behind it, with the outline's style and width.
const RING: &str = r#"
const el = document.activeElement;
const cs = getComputedStyle(el);
const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
const lum = c => {
  const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
let bg = null;
for (let n = el.parentElement; n; n = n.parentElement) {
  const c = rgb(getComputedStyle(n).backgroundColor);
  if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) { bg = c; break; }
}
bg = bg || [255, 255, 255];
const ring = rgb(cs.outlineColor);
const [a, b] = [lum(ring), lum(bg)].sort((x, y) => y - x);
return { id: el.getAttribute('data-testid'), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
         contrast: (a + 0.05) / (b + 0.05), color: cs.outlineColor, background: 'rgb(' + bg.join(',') + ')' };
"#;

/// Focuses `id` by keyboard (focus, Shift+Tab away, Tab back) and checks its ring.
async fn ring_of(browser: &Browser, id: &str) -> Result<()> {
    let element = browser.wait_for(id).await?;
    browser
        .js(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();",
            vec![serde_json::to_value(&element)?],
        )
        .await?;
    browser
        .client
        .active_element()
        .await?
        .send_keys(SHIFT_TAB)
        .await?;
    browser
        .client
        .active_element()
        .await?
        .send_keys(TAB)
        .await?;
    let ring = browser.js(RING, vec![]).await?;
    if ring["id"].as_str() != Some(id) {
        return fail(format!("Tab did not come back to {id}: {ring}"));
    }
    let contrast = ring["contrast"].as_f64().unwrap_or(0.0);
    if ring["style"].as_str() != Some("solid")
        || ring["width"].as_f64().unwrap_or(0.0) < 2.0
        || contrast < 3.0
    {
        return fail(format!(
            "{id}'s focus ring is not a solid outline of 3:1: {ring}"
        ));
    }
    eprintln!("focus ring of {id}: {contrast:.1}:1");
    Ok(())
}

/// Tab order of the graph's nodes and the focus ring everywhere.
async fn focus(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    let first = browser
        .wait_for(&ids::node(&svc(demo, "product-composite")))
        .await?;
    browser.wait_for(&ids::node(&svc(demo, "review"))).await?;
    // Tab from the first service through every service node: their positions must go left to
    // right, then top to bottom.
    browser
        .js("arguments[0].focus();", vec![serde_json::to_value(&first)?])
        .await?;
    browser
        .client
        .active_element()
        .await?
        .send_keys(SHIFT_TAB)
        .await?;
    let mut seen = Vec::new();
    for _ in 0..4 {
        browser
            .client
            .active_element()
            .await?
            .send_keys(TAB)
            .await?;
        let here = browser
            .js(
                "const e = document.activeElement; const r = e.getBoundingClientRect();
                 return [e.getAttribute('data-testid') || e.tagName, Math.round(r.left), Math.round(r.top)];",
                vec![],
            )
            .await?;
        seen.push((
            here[0].as_str().unwrap_or("").to_owned(),
            here[1].as_i64().unwrap_or(0),
            here[2].as_i64().unwrap_or(0),
        ));
    }
    let services: Vec<String> = ["product-composite", "product", "recommendation", "review"]
        .iter()
        .map(|s| ids::node(&svc(demo, s)))
        .collect();
    let order: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    let mut expected = services.clone();
    expected.sort_by_key(|id| {
        seen.iter()
            .find(|s| &s.0 == id)
            .map_or((i64::MAX, i64::MAX), |s| (s.1, s.2))
    });
    if order != expected.iter().map(String::as_str).collect::<Vec<_>>()
        || order.first() != Some(&services[0].as_str())
    {
        return fail(format!(
            "graph nodes do not tab in on-screen order: {seen:?} (expected {expected:?})"
        ));
    }
    ring_of(browser, &ids::node(&svc(demo, "review"))).await?;
    ring_of(browser, &card::weight_range("review", 1, "new")).await?;
    ring_of(browser, &card::weight_number("review", 1, "new")).await?;
    ring_of(browser, &card::preset("review", 1, 80, 20)).await?;
    ring_of(browser, copy_link::COPY_LINK).await?;
    ring_of(browser, theme_toggle::THEME_TOGGLE).await?;
    Ok(())
}

/// Copy link and the SVG and PNG exports.
async fn sharing(browser: &Browser, demo: &Demo, downloads: &Path) -> Result<()> {
    browser
        .client
        .goto(&format!("{}?mode=rate", demo.url))
        .await?;
    browser.wait_for(&ids::node(&svc(demo, "review"))).await?;
    browser.click(copy_link::COPY_LINK).await?;
    browser
        .wait_for_text(copy_link::COPY_LINK_STATUS, "the confirmation", |t| {
            t == "Link copied"
        })
        .await?;
    // Paste it where a person would: into a text field.
    let field = browser
        .js(
            "const t = document.createElement('textarea'); t.setAttribute('data-testid', 'paste-here');
             document.body.appendChild(t); t.focus(); return true;",
            vec![],
        )
        .await?;
    if field != serde_json::json!(true) {
        return fail("no field to paste into");
    }
    browser
        .client
        .active_element()
        .await?
        .send_keys("\u{e009}v\u{e000}")
        .await?;
    let pasted = browser.value("paste-here").await?;
    let here = browser.client.current_url().await?;
    if pasted != here.as_str() || !pasted.contains("mode=rate") {
        return fail(format!("pasted {pasted:?}, the page is at {here}"));
    }

    browser.click(ids::EXPORT_SVG).await?;
    let svg = wait_for_file(&downloads.join("switchyard-graph.svg")).await?;
    let svg = String::from_utf8_lossy(&svg).into_owned();
    for needle in [
        "<svg",
        "<style",
        "review-v1",
        "--color-card",
        "graph-edge-line",
    ] {
        if !svg.contains(needle) {
            return fail(format!("the exported SVG has no {needle:?}"));
        }
    }
    let root = svg.split('>').next().unwrap_or("");
    if root.matches("xmlns=").count() != 1 {
        return fail(format!(
            "the exported SVG's root is not well-formed XML: {root}"
        ));
    }
    browser.click(ids::EXPORT_PNG).await?;
    let png = wait_for_file(&downloads.join("switchyard-graph.png")).await?;
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" {
        return fail("the exported PNG is not a PNG");
    }
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let svg_width = browser
        .wait_for(ids::GRAPH)
        .await?
        .attr("width")
        .await?
        .and_then(|w| w.parse::<u32>().ok())
        .unwrap_or(0);
    if svg_width == 0 || width != svg_width * 2 {
        return fail(format!(
            "the PNG is {width} px wide, the graph {svg_width} (expected twice)"
        ));
    }
    Ok(())
}

async fn wait_for_file(path: &Path) -> Result<Vec<u8>> {
    poll(
        &format!("the download {}", path.display()),
        WAIT,
        || async {
            match std::fs::read(path) {
                Ok(bytes) if !bytes.is_empty() => Ok(Some(bytes)),
                _ => Ok(None),
            }
        },
    )
    .await
}

async fn page_background(browser: &Browser) -> Result<String> {
    Ok(browser
        .js(
            "return getComputedStyle(document.documentElement).backgroundColor;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or("")
        .to_owned())
}

/// On a 1,280 x 720 laptop the weight controls sit beside the graph: the first card's slider
/// and the toolbar's rollback are on screen without scrolling.
async fn fold(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.set_viewport(1280, 720).await?;
    browser.client.goto(&demo.url).await?;
    let first_slider = browser
        .wait_for_css(".app-controls .weight-slider-range")
        .await?;
    let graph = browser.wait_for(&ids::node(&svc(demo, "review"))).await?;
    let rollback = browser.wait_for(rollout_ids::TOOLBAR_ROLLBACK).await?;
    for (id, element) in [
        ("the first weight card's slider", first_slider),
        ("the graph's review node", graph),
        ("the toolbar's rollback", rollback),
    ] {
        let place = browser
            .js(
                "const r = arguments[0].getBoundingClientRect();
                 return [r.top, r.bottom, window.innerHeight, window.scrollY];",
                vec![serde_json::to_value(&element)?],
            )
            .await?;
        let (top, bottom, height, scrolled) = (
            place[0].as_f64().unwrap_or(f64::MAX),
            place[1].as_f64().unwrap_or(f64::MAX),
            place[2].as_f64().unwrap_or(0.0),
            place[3].as_f64().unwrap_or(f64::MAX),
        );
        if scrolled != 0.0 || top < 0.0 || bottom > height {
            return fail(format!(
                "at 1,280 x 720 {id} is not on screen without scrolling: top {top}, bottom {bottom}, window {height} px, scrolled {scrolled}"
            ));
        }
    }
    browser.screenshot("display-1280x720-fold").await?;
    Ok(())
}

/// Dark by the system, light by the toggle, remembered across a reload.
async fn theme(dark: &Browser, demo: &Demo) -> Result<()> {
    dark.client.goto(&demo.url).await?;
    dark.wait_for(theme_toggle::THEME_TOGGLE).await?;
    let system = page_background(dark).await?;
    if system != "rgb(13, 17, 23)" {
        return fail(format!("the page ignores the system's dark mode: {system}"));
    }
    let pressed = dark
        .wait_for(theme_toggle::THEME_TOGGLE)
        .await?
        .attr("aria-pressed")
        .await?;
    if pressed.as_deref() != Some("true") {
        return fail(format!(
            "the toggle does not say dark mode is on: {pressed:?}"
        ));
    }
    // The focus ring holds 3:1 on the dark backgrounds too.
    ring_of(dark, &ids::node(&svc(demo, "review"))).await?;
    ring_of(dark, &card::weight_range("review", 1, "new")).await?;
    ring_of(dark, &card::weight_number("review", 1, "new")).await?;
    ring_of(dark, &card::preset("review", 1, 80, 20)).await?;
    ring_of(dark, theme_toggle::THEME_TOGGLE).await?;
    dark.click(theme_toggle::THEME_TOGGLE).await?;
    let light = page_background(dark).await?;
    if light != "rgb(244, 245, 247)" {
        return fail(format!("the toggle did not switch to light: {light}"));
    }
    dark.client.refresh().await?;
    dark.wait_for(theme_toggle::THEME_TOGGLE).await?;
    let after = page_background(dark).await?;
    if after != "rgb(244, 245, 247)" {
        return fail(format!("the choice was not remembered: {after}"));
    }
    Ok(())
}

/// `?kiosk`: no controls, large type, the graph as wide as the canvas, and the URL keeps it.
async fn kiosk(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&format!("{}?kiosk", demo.url)).await?;
    browser.wait_for(&ids::node(&svc(demo, "review"))).await?;
    let state = browser
        .js(
            "const svg = document.querySelector('[data-testid=\"graph\"]');
             const canvas = svg.parentElement.getBoundingClientRect();
             return {
               size: getComputedStyle(document.documentElement).fontSize,
               controls: document.querySelectorAll('input, select, .preset-button, .apply-button, [data-testid=\"copy-link\"], [data-testid=\"theme-toggle\"]')
                 .length + Array.from(document.querySelectorAll('button')).filter(b => b.getClientRects().length > 0 && !b.classList.contains('split-row-name')).length,
               svg: svg.getBoundingClientRect().width,
               natural: Number(svg.getAttribute('width')),
               canvas: canvas.width,
             };",
            vec![],
        )
        .await?;
    if state["controls"].as_u64() != Some(0) {
        return fail(format!("the kiosk view shows controls: {state}"));
    }
    if state["size"].as_str() != Some("20px") {
        return fail(format!("the kiosk view's type is not large: {state}"));
    }
    let (svg, canvas) = (
        state["svg"].as_f64().unwrap_or(0.0),
        state["canvas"].as_f64().unwrap_or(0.0),
    );
    // Fitted: the drawing fills the canvas' width less its padding, whatever its natural size.
    if svg < canvas - 40.0 {
        return fail(format!(
            "the kiosk graph is not fitted to the screen: {state}"
        ));
    }
    let url = browser.client.current_url().await?;
    if !url.as_str().contains("kiosk") {
        return fail(format!("the kiosk view dropped out of the URL: {url}"));
    }
    Ok(())
}

/// Review v2 fails 30% at 50/50: node, badge and row turn red, with the numbers.
async fn health(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    browser.wait_for(&ids::node(&svc(demo, "review"))).await?;
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
    let node = ids::node(&wl(demo, "review-v2"));
    poll("review-v2's node to turn failing", NOTICE, || async {
        Ok(class_of(browser, &node)
            .await?
            .contains("health-failing")
            .then_some(()))
    })
    .await?;
    let badge = ids::split_health("review");
    let text = browser
        .wait_for_text(&badge, "v2's errors and p95", |t| {
            t.starts_with("v2 ") && t.contains("% errors · p95 ")
        })
        .await?;
    let percent: f64 = text
        .trim_start_matches("v2 ")
        .split('%')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    if percent < 10.0 || !class_of(browser, &badge).await?.contains("is-failing") {
        return fail(format!("review's badge reads {text:?} and is not failing"));
    }
    let row = ids::version_health("review", "new");
    let row_text = browser.text(&row).await?;
    if !row_text.starts_with("v2 50%") || !class_of(browser, &row).await?.contains("is-failing") {
        return fail(format!("review v2's row reads {row_text:?}, not failing"));
    }
    if !class_of(browser, &ids::version_health("review", "old"))
        .await?
        .contains("is-healthy")
    {
        return fail("review v1's row is not healthy while v2 fails");
    }
    Ok(())
}
