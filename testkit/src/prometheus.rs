//! A real Prometheus (Debian's `/usr/bin/prometheus`) for tests: scrapes one target every
//! second, runs in its own process group, and is killed with it when dropped.

use serde_json::Value;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where Debian's package installs the server.
pub const PROMETHEUS: &str = "/usr/bin/prometheus";
/// The scrape interval of every test Prometheus: the console's `--scrape-interval` must say
/// the same.
pub const SCRAPE_INTERVAL: &str = "1s";

/// A Prometheus server scraping one target's `/metrics`.
pub struct Prometheus {
    child: Child,
    /// e.g. `http://127.0.0.1:41234`
    pub url: String,
    log: PathBuf,
    /// The command line, to start it again on the same port and data (`restart`).
    args: Vec<String>,
}

impl Prometheus {
    /// Starts Prometheus with its configuration, data and log under `dir`, scraping `target`
    /// (`host:port`) every second. Panics with a sentence when the Debian package is missing: a
    /// test that needs Prometheus fails rather than skips.
    pub fn start(dir: &Path, target: &str) -> Prometheus {
        assert!(
            Path::new(PROMETHEUS).exists(),
            "{PROMETHEUS} is missing: install the Debian package `prometheus`"
        );
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  evaluation_interval: {SCRAPE_INTERVAL}\n\
                 scrape_configs:\n  - job_name: switchyard-mesh\n    scrape_interval: {SCRAPE_INTERVAL}\n    \
                 scrape_timeout: {SCRAPE_INTERVAL}\n    metrics_path: /metrics\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let log = dir.join("prometheus.log");
        let args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".to_owned(),
        ];
        let child = spawn(&args, &log);
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            args,
        }
    }

    /// Kills it (its whole process group) and waits: the metrics source is gone.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port with the same data (after `kill`, or killing it first).
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(&self.args, &self.log);
    }

    /// Fails the test with Prometheus' log if it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("prometheus exited ({status}): {}", self.log_tail());
        }
    }

    /// The last lines of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// An instant query's vector result as (labels, value) pairs; `None` while Prometheus cannot
    /// answer yet.
    pub async fn query(&self, client: &reqwest::Client, promql: &str) -> Option<Vec<(Value, f64)>> {
        let response = client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        if body["status"] != "success" {
            return None;
        }
        body["data"]["result"]
            .as_array()?
            .iter()
            .map(|r| Some((r["metric"].clone(), r["value"][1].as_str()?.parse().ok()?)))
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // The whole process group, in case it ever forks helpers; then reap the child.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[String], log: &Path) -> Child {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("prometheus log file");
    Command::new(PROMETHEUS)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("prometheus log file"))
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .expect("start prometheus")
}

/// A port that was free a moment ago (Prometheus needs a number, not a listener).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
