//! DNS rebinding, as a browser lives it: a foreign name (`rebind.example`) that resolves to the
//! console's loopback address. Chromium maps the name to 127.0.0.1 (`--host-resolver-rules`), so
//! a page at `http://rebind.example:PORT/` is same-origin with the console's API and its `fetch`
//! passes the CSRF guard; before the host allow-list such a page loaded the console and wrote
//! with the console's own credentials (anonymous mode). Now the console refuses it with 421, the
//! page shows that, its PUT does not change the VirtualService (kubectl checks), and the same
//! console at `http://127.0.0.1:PORT/` works.
//!
//! Only on the simulated cluster: which `Host` the console answers to is the console's own
//! business, decided before any request reaches a cluster.

use serde_json::Value;
use switchyard_e2e::{fail, Browser, Demo, Result};
use switchyard_frontend::weight_controls::test_ids as card;

const JSONPATH_WEIGHTS: &str = "jsonpath={.spec.http[1].route[*].weight}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_a_rebound_name_is_refused_and_cannot_write() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let demo = match Demo::start(dir.path()).await {
        Ok(demo) => demo,
        Err(error) => panic!("{error}"),
    };
    let browser =
        match Browser::start_with_args(&["--host-resolver-rules=MAP rebind.example 127.0.0.1"])
            .await
        {
            Ok(browser) => browser,
            Err(error) => panic!("{error}"),
        };
    if let Err(error) = scenario(&browser, &demo).await {
        let shot = match browser.screenshot("rebinding").await {
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

async fn scenario(browser: &Browser, demo: &Demo) -> Result<()> {
    let port = demo
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .ok_or("the demo's URL has no port")?
        .to_owned();
    let rebound = format!("http://rebind.example:{port}/");
    browser.client.goto(&rebound).await?;
    let text = browser
        .client
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await?;
    let text = text.as_str().unwrap_or_default();
    if !(text.contains("misdirected")
        && text.contains("rebind.example")
        && text.contains("--allowed-host"))
    {
        return fail(format!(
            "{rebound} should show the 421 refusal, it shows: {text:?}"
        ));
    }
    if browser
        .exists(&card::virtual_service("hands-on", "review"))
        .await?
    {
        return fail("the console's page loaded on the rebound name");
    }

    // What a malicious page on that name would do: a same-origin PUT with the CSRF header.
    let before = demo
        .kubectl(&["get", "vs", "review", "-o", JSONPATH_WEIGHTS])
        .await?;
    let answer = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            fetch('/api/v1/namespaces/hands-on/virtualservices/review/routes/1/weights', {
                method: 'PUT',
                headers: {'content-type': 'application/json', 'x-requested-by': 'rebind'},
                body: JSON.stringify({weights: {old: 0, new: 100}, expected: [
                    {host: 'review', subset: 'old', weight: 100},
                    {host: 'review', subset: 'new', weight: 0}]}),
            }).then(r => r.text().then(body => done({status: r.status, body})),
                    e => done({status: 0, body: String(e)}));"#,
            vec![],
        )
        .await?;
    let status = answer.get("status").and_then(Value::as_u64);
    if status != Some(421) {
        return fail(format!("the rebound PUT was answered {answer:?}, not 421"));
    }
    let after = demo
        .kubectl(&["get", "vs", "review", "-o", JSONPATH_WEIGHTS])
        .await?;
    if before.trim() != "100 0" || after.trim() != before.trim() {
        return fail(format!(
            "the VirtualService changed: weights {before:?} before, {after:?} after"
        ));
    }

    // The same console under its loopback name works.
    let loopback = format!("http://127.0.0.1:{port}/");
    browser.client.goto(&loopback).await?;
    browser
        .wait_for(&card::weight_range("review", 1, "old"))
        .await?;
    Ok(())
}
