//! Issue 13's fault test in a real browser: a page open on `switchyard serve` over an API server
//! that runs as its own process, killed and started again while the page stays open:
//! - a simulated one (`switchyard sim`), restarted with fresh state (review back at 100/0,
//!   resourceVersions from the beginning);
//! - a real kube-apiserver (its own `scripts/real-cluster.sh`), restarted on the same etcd;
//! - and Prometheus, which the console reads the simulated mesh's metrics from.
//!
//! While a source is down the page keeps the last routes and says so (the stale banner for the
//! API server, the metrics banner for Prometheus); after its return the banner goes and the page
//! shows the truth within 10 s. The console never exits. Prints the times.

use std::process::Stdio;
use std::time::{Duration, Instant};
use switchyard_e2e::{fail, poll, switchyard_binary, Browser, Result};
use switchyard_frontend::components::stale_banner::STALE_CLUSTER_BANNER;
use switchyard_frontend::graph_view::test_ids::METRICS_BANNER;
use switchyard_frontend::weight_controls::test_ids as card;
use switchyard_testkit::prometheus::SCRAPE_INTERVAL;
use switchyard_testkit::{Prometheus, RestartableApiServer, SimProcess};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The issue's bound for fresh data after the API server's return.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

/// An API server the test can kill and start again.
trait ApiServer {
    fn kubeconfig(&self) -> &std::path::Path;
    fn kill(&mut self);
    async fn restart(&mut self);
    /// review's old weight after the return: what the restarted server holds.
    fn old_weight_after_restart(&self) -> &'static str;
}

impl ApiServer for SimProcess {
    fn kubeconfig(&self) -> &std::path::Path {
        &self.kubeconfig
    }
    fn kill(&mut self) {
        SimProcess::kill(self)
    }
    async fn restart(&mut self) {
        SimProcess::restart(self).await
    }
    // Fresh state: the demo's 100/0.
    fn old_weight_after_restart(&self) -> &'static str {
        "100"
    }
}

impl ApiServer for RestartableApiServer {
    fn kubeconfig(&self) -> &std::path::Path {
        &self.kubeconfig
    }
    fn kill(&mut self) {
        RestartableApiServer::kill(self)
    }
    async fn restart(&mut self) {
        RestartableApiServer::restart(self).await
    }
    // The same etcd: the split written before the kill.
    fn old_weight_after_restart(&self) -> &'static str {
        "50"
    }
}

/// `switchyard serve` on `kubeconfig` (and Prometheus, when given); returns the child and its URL.
async fn serve(
    binary: &std::path::Path,
    kubeconfig: &std::path::Path,
    prometheus: Option<&str>,
    log: &std::path::Path,
) -> Result<(Child, String)> {
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--namespace", "hands-on", "--listen", "127.0.0.1:0"]);
    if let Some(url) = prometheus {
        command.args([
            "--prometheus-url",
            url,
            "--scrape-interval",
            SCRAPE_INTERVAL,
            "--refresh",
            "1s",
            "--window",
            "30s",
        ]);
    }
    let mut child = command
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
    let mut prometheus = Prometheus::start(dir.path(), &sim.addr);
    let log = dir.path().join("switchyard.log");
    let (mut console, url) = serve(&binary, &sim.kubeconfig, Some(&prometheus.url), &log)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = async {
        scenario(&browser, &mut sim, &url).await?;
        metrics_scenario(&browser, &mut prometheus).await
    }
    .await;
    finish(browser, outcome, &mut console, &log, "fault").await;
}

/// The same, on a real kube-apiserver of its own (restarted on the same etcd).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_stale_while_a_real_api_server_is_down_and_fresh_after() {
    if !switchyard_e2e::kinds().contains(&switchyard_e2e::Kind::Real) {
        eprintln!("-- the real cluster is not in SWITCHYARD_CLUSTERS; nothing to check");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let binary = switchyard_binary().unwrap_or_else(|e| panic!("{e}"));
    let mut api = tokio::task::spawn_blocking(RestartableApiServer::start)
        .await
        .expect("the real cluster starts");
    let log = dir.path().join("switchyard.log");
    let (mut console, url) = serve(&binary, &api.kubeconfig, None, &log)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let outcome = scenario(&browser, &mut api, &url).await;
    finish(browser, outcome, &mut console, &log, "fault-real").await;
}

/// Fails the test with a screenshot and the console's log when the scenario failed or the console
/// did not survive it (no crash: it must still be running after all of it); closes the browser.
async fn finish(
    browser: Browser,
    outcome: Result<()>,
    console: &mut Child,
    log: &std::path::Path,
    name: &str,
) {
    let alive = matches!(console.try_wait(), Ok(None));
    if let Err(error) = outcome.and_then(|()| {
        if alive {
            Ok(())
        } else {
            fail("the console exited")
        }
    }) {
        let shot = match browser.screenshot(name).await {
            Ok(path) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        panic!(
            "{error}\n{shot}\nswitchyard log (tail):\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
    if let Err(error) = browser.close().await {
        panic!("closing the browser session: {error}");
    }
}

/// Prometheus killed under the open page: the metrics banner says so; back, it goes.
async fn metrics_scenario(browser: &Browser, prometheus: &mut Prometheus) -> Result<()> {
    // First the metrics must be fresh: the banner is not there.
    poll(
        "fresh metrics (no metrics banner)",
        Duration::from_secs(60),
        || async { Ok((!browser.exists(METRICS_BANNER).await?).then_some(())) },
    )
    .await?;
    prometheus.kill();
    let killed = Instant::now();
    browser.wait_for(METRICS_BANNER).await?;
    println!(
        "metrics banner {:.1} s after Prometheus' kill",
        killed.elapsed().as_secs_f64()
    );
    prometheus.restart();
    let back = Instant::now();
    poll(
        "the metrics banner to go",
        Duration::from_secs(30),
        || async { Ok((!browser.exists(METRICS_BANNER).await?).then_some(())) },
    )
    .await?;
    let took = back.elapsed();
    println!(
        "metrics banner gone {:.1} s after Prometheus' return",
        took.as_secs_f64()
    );
    if took > RECOVERY_BOUND {
        return fail(format!("the page took {took:?} to show fresh metrics"));
    }
    Ok(())
}

async fn scenario(browser: &Browser, sim: &mut impl ApiServer, url: &str) -> Result<()> {
    browser.client.goto(url).await?;
    let old = card::weight_range("review", 1, "old");
    browser.wait_for_values(&[(old.as_str(), "100")]).await?;
    if browser.exists(STALE_CLUSTER_BANNER).await? {
        return fail("the stale banner shows while the API server answers");
    }
    // A split the fresh cluster will not have, written straight to the API server.
    let status = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(sim.kubeconfig())
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
    let expected = sim.old_weight_after_restart();
    let recovered = poll(
        "the banner to go and review to show what the server holds",
        Duration::from_secs(30),
        || async {
            let banner = browser.exists(STALE_CLUSTER_BANNER).await?;
            let value = browser.value(&old).await?;
            Ok((!banner && value == expected).then_some(()))
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
