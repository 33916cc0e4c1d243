//! When the server goes away, the open page says so instead of silently showing stale weights.

use switchyard_e2e::{Browser, Demo, Result};
use switchyard_frontend::weight_controls::test_ids as card;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_server_shows_the_reconnecting_banner() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut demo = match Demo::start(dir.path()).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser = match Browser::start().await {
        Ok(browser) => browser,
        Err(error) => panic!("{error}"),
    };
    if let Err(error) = scenario(&browser, &mut demo).await {
        let shot = match browser.screenshot("connection").await {
            Ok(path) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        panic!(
            "{error}\n{shot}\nswitchyard log (tail):\n{}",
            demo.log_tail()
        );
    }
    if let Err(error) = browser.close().await {
        panic!("closing the browser session: {error}");
    }
}

async fn scenario(browser: &Browser, demo: &mut Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    browser
        .wait_for(&card::virtual_service("hands-on", "review"))
        .await?;
    if browser.exists(card::CONNECTION_BANNER).await? {
        return Err("the banner shows while connected".into());
    }
    demo.stop().await?;
    browser
        .wait_for_text(card::CONNECTION_BANNER, "connection lost", |text| {
            text.starts_with("connection lost — reconnecting")
        })
        .await?;
    // The last known routes stay on the page, with the banner saying they may be stale.
    browser
        .wait_for(&card::weight_range("review", 1, "old"))
        .await?;
    Ok(())
}
