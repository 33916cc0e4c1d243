//! axe-core in the real page: the main page in light, in dark (the system's preference) and the
//! kiosk view has no serious or critical accessibility violation. axe.min.js comes from npm's
//! `axe-core` (`scripts/setup-tools.sh`) and is injected into the page by the test.
//!
//! The same run produces the screenshot set for people to look at, in `target/screenshots/`:
//! 1600x1000, 1280x720 and 390x844 in light and dark, and the kiosk view at 1600x1000 and
//! 1280x720 (`{size}-{light|dark|kiosk}[-real].png`).
//!
//! On every cluster kind of the run.

use switchyard_e2e::{fail, kinds, poll, Browser, Demo, Kind, Result, WAIT};
use switchyard_frontend::graph_view::test_ids as ids;

const SIZES: [(u32, u32); 3] = [(1600, 1000), (1280, 720), (390, 844)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_serious_in_light_dark_and_kiosk() {
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
    let light = match Browser::start_with_args(&["--blink-settings=preferredColorScheme=1"]).await {
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
    let suffix = if kind == Kind::Simulated { "" } else { "-real" };
    let outcome = async {
        let mut found = Vec::new();
        for (browser, theme) in [(&light, "light"), (&dark, "dark")] {
            found.extend(check(browser, &demo, "", theme).await?);
        }
        found.extend(check(&light, &demo, "?kiosk", "kiosk").await?);
        for (browser, theme) in [(&light, "light"), (&dark, "dark")] {
            shots(browser, &demo, "", theme, suffix, &SIZES).await?;
        }
        shots(&light, &demo, "?kiosk", "kiosk", suffix, &SIZES[..2]).await?;
        if found.is_empty() {
            Ok(())
        } else {
            fail(format!("axe-core found:\n{}", found.join("\n")))
        }
    }
    .await;
    if let Err(error) = outcome {
        panic!(
            "on the {kind} cluster: {error}\nswitchyard log (tail):\n{}",
            demo.log_tail()
        );
    }
    for b in [light, dark] {
        if let Err(error) = b.close().await {
            panic!("closing the browser session: {error}");
        }
    }
}

/// Opens the page once the graph and its side panel have data, so axe sees the full page.
async fn open(browser: &Browser, demo: &Demo, query: &str) -> Result<()> {
    browser.client.goto(&format!("{}{query}", demo.url)).await?;
    browser
        .wait_for(&ids::node(&format!("svc:{}:review", demo.namespace)))
        .await?;
    browser
        .wait_for_text(&ids::sparkline_caption("review"), "traffic", |t| {
            !t.contains("no traffic")
        })
        .await?;
    Ok(())
}

async fn check(browser: &Browser, demo: &Demo, query: &str, what: &str) -> Result<Vec<String>> {
    browser.set_viewport(1600, 1000).await?;
    open(browser, demo, query).await?;
    let found = browser.axe_serious_violations().await?;
    eprintln!("axe-core, {what}: {} serious or critical", found.len());
    Ok(found.into_iter().map(|v| format!("[{what}] {v}")).collect())
}

async fn shots(
    browser: &Browser,
    demo: &Demo,
    query: &str,
    what: &str,
    suffix: &str,
    sizes: &[(u32, u32)],
) -> Result<()> {
    for &(width, height) in sizes {
        browser.set_viewport(width, height).await?;
        open(browser, demo, query).await?;
        // The layout settles after the resize: wait until the viewport reports the size.
        poll("the viewport to take its size", WAIT, || async {
            let inner = browser.js("return window.innerWidth;", vec![]).await?;
            Ok((inner.as_u64() == Some(u64::from(width))).then_some(()))
        })
        .await?;
        let path = browser
            .screenshot_set(&format!("{width}x{height}-{what}{suffix}"))
            .await?;
        eprintln!("screenshot: {}", path.display());
    }
    Ok(())
}
