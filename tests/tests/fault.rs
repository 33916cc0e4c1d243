//! Issue 13's fault test in a real browser: a page open on `switchyard serve` over a simulated API
//! server that runs as its own process (`switchyard sim`). The API server is killed: the page
//! keeps the last routes and shows the stale banner saying since when; it is started again on
//! the same port with fresh state (review back at 100/0, resourceVersions from the beginning):
//! the banner goes and the page shows the true weights within 10 s. Prints the recovery time.

use std::process::Stdio;
use std::time::{Duration, Instant};
use switchyard_e2e::{fail, poll, switchyard_binary, Browser, Result};
use switchyard_frontend::components::stale_banner::STALE_CLUSTER_BANNER;
use switchyard_frontend::weight_controls::test_ids as card;
use switchyard_testkit::SimProcess;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The issue's bound for fresh data after the API server's return.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

/// `switchyard serve` on the simulated API server; returns the child and its URL.
async fn serve(
    binary: &std::path::Path,
    sim: &SimProcess,
    log: &std::path::Path,
) -> Result<(Child, String)> {
    let mut child = Command::new(binary)
        .arg("serve")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["--namespace", "hands-on", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log)?))
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout was not piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("switchyard listening on ") {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(url) = url else {
        return fail(format!(
            "switchyard serve did not announce its address; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        ));
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_stale_while_the_api_server_is_down_and_shows_the_truth_after() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let binary = switchyard_binary().unwrap_or_else(|e| panic!("{e}"));
    let mut sim = SimProcess::start(&binary, dir.path()).await;
    let log = dir.path().join("switchyard.log");
    let (mut console, url) = serve(&binary, &sim, &log)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&browser, &mut sim, &url).await;
    // No crash: the console is still running after all of it.
    let alive = matches!(console.try_wait(), Ok(None));
    if let Err(error) = outcome.and_then(|()| {
        if alive {
            Ok(())
        } else {
            fail("the console exited")
        }
    }) {
        let shot = match browser.screenshot("fault").await {
            Ok(path) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        panic!(
            "{error}\n{shot}\nswitchyard log (tail):\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    if let Err(error) = browser.close().await {
        panic!("closing the browser session: {error}");
    }
}

async fn scenario(browser: &Browser, sim: &mut SimProcess, url: &str) -> Result<()> {
    browser.client.goto(url).await?;
    let old = card::weight_range("review", 1, "old");
    browser.wait_for_values(&[(old.as_str(), "100")]).await?;
    if browser.exists(STALE_CLUSTER_BANNER).await? {
        return fail("the stale banner shows while the API server answers");
    }
    // A split the fresh cluster will not have, written straight to the API server.
    let status = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args([
            "-n",
            "hands-on",
            "patch",
            "virtualservice",
            "review",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":50},{"op":"replace","path":"/spec/http/1/route/1/weight","value":50}]"#,
        ])
        .output()?;
    if !status.status.success() {
        return fail(format!(
            "kubectl patch failed: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    browser.wait_for_values(&[(old.as_str(), "50")]).await?;

    sim.kill();
    let killed = Instant::now();
    let text = browser
        .wait_for_text(STALE_CLUSTER_BANNER, "the API server's silence", |t| {
            t.contains("has not answered since") && t.contains("UTC")
        })
        .await?;
    println!(
        "stale banner {:.1} s after the kill: {text}",
        killed.elapsed().as_secs_f64()
    );
    // The last known routes stay on the page under the banner.
    browser.wait_for_values(&[(old.as_str(), "50")]).await?;

    sim.restart().await;
    let back = Instant::now();
    let recovered = poll(
        "the banner to go and review to show 100/0",
        Duration::from_secs(30),
        || async {
            let banner = browser.exists(STALE_CLUSTER_BANNER).await?;
            let value = browser.value(&old).await?;
            Ok((!banner && value == "100").then_some(()))
        },
    )
    .await;
    recovered?;
    let took = back.elapsed();
    println!(
        "page fresh and true {:.1} s after the API server's return",
        took.as_secs_f64()
    );
    if took > RECOVERY_BOUND {
        return fail(format!("the page took {took:?} to show the truth"));
    }
    Ok(())
}
