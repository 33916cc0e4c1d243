//! End-to-end harness for Switchyard: starts the real `switchyard demo` and a real headless
//! Chromium (through chromedriver), and offers bounded polling, `kubectl`, and a screenshot on
//! failure. The scenarios live in `tests/`; `tests/README.md` lists the page's test ids.
//!
//! Nothing here skips: a missing binary, browser or driver is a failure with a sentence saying
//! what to install or build, because a browser test that silently does not run hides breakage.

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::{
    error::Error,
    fmt::Display,
    future::Future,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub type Result<T, E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// How long any single wait may take. Generous for a loaded 2-core CI machine; a passing run
/// waits far less because every wait polls.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// Fails the current step with a message (instead of `assert!`, so the scenario's error path
/// still takes a screenshot).
pub fn fail<T>(message: impl Display) -> Result<T> {
    Err(message.to_string().into())
}

/// The repository root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where the `switchyard` binary is: `$SWITCHYARD_BIN`, else `$CARGO_TARGET_DIR/debug`, else
/// `<root>/target/debug`. Cargo cannot build another package's binary for a test, so it must
/// exist already (CI builds it before the tests).
pub fn switchyard_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("SWITCHYARD_BIN") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"))
            .join("debug")
            .join("switchyard"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        fail(format!(
            "{} does not exist: run `cargo build -p switchyard` first (without \
             SWITCHYARD_SKIP_UI), or point SWITCHYARD_BIN at a built binary",
            path.display()
        ))
    }
}

pub use switchyard_testkit::{kinds, Kind, User};

/// A running console under test: `switchyard demo` (the simulated cluster, namespace `hands-on`),
/// or `switchyard serve` on the run's real kube-apiserver (a fresh namespace with the demo objects).
pub struct Demo {
    /// e.g. `http://127.0.0.1:43127/`
    pub url: String,
    pub kubeconfig: PathBuf,
    pub kind: Kind,
    /// The namespace holding the demo objects.
    pub namespace: String,
    /// With [`Demo::start_gateway`]: the namespace holding the gateway demo's HTTPRoutes.
    pub gateway_namespace: Option<String>,
    log: PathBuf,
    child: Child,
    /// On the real cluster: the simulated data plane and the Prometheus scraping it.
    _traffic: Option<Mesh>,
    /// The real cluster's namespace and kubeconfig copy live as long as the console.
    _cluster: Option<switchyard_testkit::TestCluster>,
}

impl Demo {
    /// Starts the demo in `dir` and waits (bounded) for its "listening" line.
    pub async fn start(dir: &Path) -> Result<Demo> {
        Demo::start_with_args(dir, &[]).await
    }

    /// Like [`Demo::start`], with extra command-line arguments for `switchyard demo`, e.g.
    /// `&["--auth", "token"]`.
    pub async fn start_with_args(dir: &Path, extra: &[&str]) -> Result<Demo> {
        Demo::start_on(Kind::Simulated, dir, extra).await
    }

    /// The console on a cluster of `kind`, with extra arguments valid for both `switchyard demo`
    /// and `switchyard serve` (e.g. `--auth token`, `--prometheus-url URL`).
    ///
    /// On the real cluster the console has traffic to show as the demo does: a simulated data
    /// plane (`switchyard mesh`, at the demo's 20 requests/s) watches the test namespace, a real
    /// Prometheus scrapes it every second, and `switchyard serve` reads it with the demo's
    /// refresh (5 s) and window (30 s) — unless `extra` names its own `--prometheus-url`.
    pub async fn start_on(kind: Kind, dir: &Path, extra: &[&str]) -> Result<Demo> {
        Demo::start_with(kind, dir, extra, false).await
    }

    /// Like [`Demo::start_on`], with the gateway demo's namespace too (`demo/hands-on-gateway.yaml`,
    /// the services routed by HTTPRoutes behind a waypoint): `switchyard demo --gateway-demo`, or
    /// on the real cluster a second fresh namespace where kubectl applied the manifest, both
    /// watched by `switchyard serve` and by the simulated data plane (load into each).
    pub async fn start_gateway(kind: Kind, dir: &Path, extra: &[&str]) -> Result<Demo> {
        Demo::start_with(kind, dir, extra, true).await
    }

    async fn start_with(kind: Kind, dir: &Path, extra: &[&str], gateway: bool) -> Result<Demo> {
        let binary = switchyard_binary()?;
        let log = dir.join("switchyard.log");
        let mut command = Command::new(&binary);
        let mut traffic = None;
        let (kubeconfig, namespace, cluster, prefix) = match kind {
            Kind::Simulated => {
                let kubeconfig = dir.join("kubeconfig");
                command.arg("demo").arg("--kubeconfig-out").arg(&kubeconfig);
                if gateway {
                    command.arg("--gateway-demo");
                }
                (
                    kubeconfig,
                    "hands-on".to_owned(),
                    None,
                    "switchyard demo listening on ",
                )
            }
            Kind::Real => {
                let cluster = if gateway {
                    switchyard_testkit::TestCluster::start_with_gateway(Kind::Real, 0.0).await
                } else {
                    switchyard_testkit::TestCluster::start(Kind::Real, 0.0).await
                };
                command
                    .arg("serve")
                    .arg("--kubeconfig")
                    .arg(cluster.kubeconfig())
                    .args(["--context", cluster.context(User::Admin)])
                    .args(["--namespace", &cluster.namespace]);
                if let Some(gateway_namespace) = &cluster.gateway_namespace {
                    command.args(["--namespace", gateway_namespace]);
                }
                if !extra.contains(&"--prometheus-url") {
                    let mesh = Mesh::start(&binary, dir, &cluster).await?;
                    command
                        .args(["--prometheus-url", &mesh.prometheus.url])
                        .args([
                            "--scrape-interval",
                            switchyard_testkit::prometheus::SCRAPE_INTERVAL,
                        ])
                        .args(["--refresh", "5s", "--window", "30s"]);
                    traffic = Some(mesh);
                }
                (
                    cluster.kubeconfig().to_owned(),
                    cluster.namespace.clone(),
                    Some(cluster),
                    "switchyard listening on ",
                )
            }
        };
        command.args(["--listen", "127.0.0.1:0"]).args(extra);
        let (child, url) = spawn_announcing(command, &binary, &log, prefix).await?;
        if !kubeconfig.is_file() {
            return fail(format!(
                "the demo is listening but {} does not exist",
                kubeconfig.display()
            ));
        }
        let gateway_namespace = match (&cluster, gateway) {
            (Some(cluster), _) => cluster.gateway_namespace.clone(),
            (None, true) => Some("hands-on-gateway".to_owned()),
            (None, false) => None,
        };
        Ok(Demo {
            url,
            kubeconfig,
            kind,
            namespace,
            gateway_namespace,
            log,
            child,
            _traffic: traffic,
            _cluster: cluster,
        })
    }

    /// Stops the server (as a crash or a restart would), leaving open pages disconnected.
    pub async fn stop(&mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// The last lines of the demo's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mesh = self.log.with_file_name("mesh.log");
        if self._traffic.is_some() && mesh.is_file() {
            format!(
                "{}\nswitchyard mesh log (tail):\n{}",
                tail(&self.log),
                tail(&mesh)
            )
        } else {
            tail(&self.log)
        }
    }

    /// Runs `kubectl --kubeconfig <demo> -n <namespace> ARGS…` (as the cluster's admin) and
    /// returns its stdout.
    pub async fn kubectl(&self, args: &[&str]) -> Result<String> {
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["-n", &self.namespace])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("running kubectl (is it installed?): {e}"))?;
        if !output.status.success() {
            return fail(format!(
                "kubectl {} failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Demo {
    /// The kubeconfig context of a test user on this console's cluster.
    pub fn context(&self, user: User) -> &'static str {
        match (self.kind, user) {
            (Kind::Simulated, User::Admin) => "switchyard-sim",
            (Kind::Simulated, User::Operator) => "switchyard-sim-operator",
            (Kind::Simulated, User::Viewer) => "switchyard-sim-viewer",
            (Kind::Real, User::Admin) => "real-admin",
            (Kind::Real, User::Operator) => "real-operator",
            (Kind::Real, User::Viewer) => "real-viewer",
        }
    }

    /// The bearer token of a context in the kubeconfig the demo wrote (e.g.
    /// `switchyard-sim-viewer`), read with kubectl so the kubeconfig's format stays kubectl's
    /// business.
    pub async fn context_token(&self, context: &str) -> Result<String> {
        let user_path = format!("jsonpath={{.contexts[?(@.name==\"{context}\")].context.user}}");
        let user = self
            .kubectl(&["config", "view", "--raw", "-o", &user_path])
            .await?;
        let user = user.trim();
        if user.is_empty() {
            return fail(format!("the demo's kubeconfig has no context {context}"));
        }
        let token_path = format!("jsonpath={{.users[?(@.name==\"{user}\")].user.token}}");
        let token = self
            .kubectl(&["config", "view", "--raw", "-o", &token_path])
            .await?;
        let token = token.trim().to_owned();
        if token.is_empty() {
            return fail(format!("user {user} of context {context} has no token"));
        }
        Ok(token)
    }

    /// Sends one request to the console with curl and returns the HTTP status. `headers` are
    /// `name: value` lines; they go to curl on stdin (`-H @-`), so a token never shows in the
    /// process list.
    pub async fn http_status(
        &self,
        method: &str,
        path: &str,
        headers: &[String],
        body: Option<&str>,
    ) -> Result<u16> {
        use tokio::io::AsyncWriteExt as _;
        let url = format!("{}{}", self.url.trim_end_matches('/'), path);
        let mut command = Command::new("curl");
        command
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", method])
            .args(["-H", "@-", "-H", "content-type: application/json"]);
        if let Some(body) = body {
            command.args(["--data-binary", body]);
        }
        let mut child = command
            .arg(&url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running curl (is it installed?): {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(headers.join("\n").as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        let code = String::from_utf8_lossy(&output.stdout);
        code.trim().parse().map_err(|_| {
            format!(
                "curl {method} {url} gave no status: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into()
        })
    }
}

impl Browser {
    /// Clicks the element with this test id, waiting for it to appear.
    /// The element is scrolled to the middle of the window first, as a person would look at it:
    /// WebDriver clicks an element that is barely in view where it is, which can be under the
    /// page's sticky toolbar.
    pub async fn click(&self, id: &str) -> Result<()> {
        self.on(id, |element| async move {
            let arg = serde_json::to_value(&element).map_err(fantoccini::error::CmdError::Json)?;
            self.client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
                    vec![arg],
                )
                .await?;
            element.click().await
        })
        .await?;
        Ok(())
    }

    /// Whether the element with this test id is enabled (waits for it to appear).
    pub async fn is_enabled(&self, id: &str) -> Result<bool> {
        Ok(self.wait_for(id).await?.is_enabled().await?)
    }
}

/// `switchyard mesh` on a real cluster's test namespace with a Prometheus scraping it; both
/// stop when this is dropped.
struct Mesh {
    // Field order is drop order: Prometheus first, then the mesh it scrapes.
    prometheus: switchyard_testkit::Prometheus,
    _child: Child,
}

impl Mesh {
    async fn start(
        binary: &Path,
        dir: &Path,
        cluster: &switchyard_testkit::TestCluster,
    ) -> Result<Mesh> {
        let mut command = Command::new(binary);
        command
            .arg("mesh")
            .arg("--kubeconfig")
            .arg(cluster.kubeconfig())
            .args(["--context", cluster.context(User::Admin)])
            .args(["--namespace", &cluster.namespace])
            .args(["--listen", "127.0.0.1:0", "--rps", "20"]);
        if let Some(gateway_namespace) = &cluster.gateway_namespace {
            command.args(["--namespace", gateway_namespace]);
        }
        let log = dir.join("mesh.log");
        let (child, url) = spawn_announcing(command, binary, &log, "mesh listening on ").await?;
        let target = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let prometheus_dir = dir.join("prometheus");
        std::fs::create_dir_all(&prometheus_dir)?;
        let prometheus = switchyard_testkit::Prometheus::start(&prometheus_dir, &target);
        Ok(Mesh {
            prometheus,
            _child: child,
        })
    }
}

/// Spawns `command` (stderr to `log`, killed on drop) and waits, bounded, for the stdout line
/// starting with `prefix`; returns the child and the rest of that line (a URL). Keeps draining
/// stdout afterwards so the child never blocks on a full pipe.
async fn spawn_announcing(
    mut command: Command,
    binary: &Path,
    log: &Path,
    prefix: &str,
) -> Result<(Child, String)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log)?))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("stdout was not piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.strip_prefix(prefix) {
                return Ok::<_, std::io::Error>(Some(url.trim().to_owned()));
            }
        }
        Ok(None)
    })
    .await;
    let url = match first {
        Ok(Ok(Some(url))) => url,
        Ok(Ok(None)) | Ok(Err(_)) => {
            return fail(format!(
                "{} exited without printing \"{prefix}…\"; its log:\n{}",
                binary.display(),
                tail(log)
            ))
        }
        Err(_) => {
            return fail(format!(
                "{} printed no \"{prefix}…\" line within {WAIT:?}; its log:\n{}",
                binary.display(),
                tail(log)
            ))
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// chromedriver in its own process group, killed as a group on drop: killing only chromedriver
/// leaves its Chromium processes behind.
struct Driver {
    child: std::process::Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // `kill -- -PGID` signals the whole group; the std API only reaches the leader.
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session driven over WebDriver.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

fn required_program(env: &str, default: &str, package: &str) -> Result<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    if path.is_file() {
        Ok(path)
    } else {
        fail(format!(
            "{} is missing: install Debian's {package} (scripts/install-deps.sh) or set {env}",
            path.display()
        ))
    }
}

impl Browser {
    pub async fn start() -> Result<Browser> {
        Browser::start_with_args(&[]).await
    }

    /// Like [`Browser::start`], with extra Chromium arguments, e.g.
    /// `--host-resolver-rules=MAP rebind.example 127.0.0.1` (a name that resolves to this
    /// machine, as DNS rebinding makes one).
    pub async fn start_with_args(extra: &[&str]) -> Result<Browser> {
        Browser::start_with_options(extra, None).await
    }

    /// Like [`Browser::start_with_args`], downloading into `downloads` without asking (the graph
    /// export's files land there).
    pub async fn start_downloading_to(extra: &[&str], downloads: &Path) -> Result<Browser> {
        Browser::start_with_options(extra, Some(downloads)).await
    }

    async fn start_with_options(extra: &[&str], downloads: Option<&Path>) -> Result<Browser> {
        let chromium = required_program("CHROMIUM_BIN", "/usr/bin/chromium", "chromium")?;
        let chromedriver =
            required_program("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = {
            use std::os::unix::process::CommandExt as _;
            std::process::Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", chromedriver.display()))?
        };
        let driver = Driver { child };
        let profile = tempfile::tempdir()?;
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1200,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut capabilities = serde_json::Map::new();
        let mut options = serde_json::json!({ "args": args, "binary": chromium });
        if let Some(downloads) = downloads {
            options["prefs"] = serde_json::json!({
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            });
        }
        capabilities.insert("goog:chromeOptions".into(), options);
        let webdriver = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen; retry the session until it does (bounded).
        let client = poll("chromedriver to accept a session", WAIT, || async {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => Ok(Some(client)),
                // Not listening yet (refused) or went away mid-handshake: try again.
                Err(
                    fantoccini::error::NewSessionError::Failed(_)
                    | fantoccini::error::NewSessionError::FailedC(_)
                    | fantoccini::error::NewSessionError::Lost(_),
                ) => Ok(None),
                Err(error) => fail(format!("chromedriver refused the session: {error}")),
            }
        })
        .await?;
        Ok(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    /// The element with `data-testid` = `id`, waiting for it to appear.
    /// Runs `act` on the element with this test id (waiting for it to appear), and again on the
    /// element found afresh when the page replaced it in between (see [`is_stale`]).
    pub async fn on<T, F, Fut>(&self, id: &str, act: F) -> Result<T>
    where
        F: Fn(Element) -> Fut,
        Fut: Future<Output = std::result::Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.wait_for(id).await?;
            match act(element).await {
                Ok(value) => return Ok(value),
                Err(error)
                    if error.to_string().contains("stale element") && Instant::now() < deadline =>
                {
                    tokio::time::sleep(POLL).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// An attribute of the element with this test id (`None` when it has none).
    pub async fn attr_of(&self, id: &str, name: &str) -> Result<Option<String>> {
        self.on(id, |e| async move { e.attr(name).await }).await
    }

    /// A computed CSS value of the element with this test id.
    pub async fn css_of(&self, id: &str, name: &str) -> Result<String> {
        self.on(id, |e| async move { e.css_value(name).await })
            .await
    }

    /// The `textContent` of the element with this test id (SVG `<tspan>`s included).
    pub async fn content_of(&self, id: &str) -> Result<String> {
        Ok(self
            .on(id, |e| async move { e.prop("textContent").await })
            .await?
            .unwrap_or_default())
    }

    pub async fn wait_for(&self, id: &str) -> Result<Element> {
        let selector = format!("[data-testid=\"{id}\"]");
        poll(&format!("element {selector}"), WAIT, || async {
            match self.client.find(Locator::Css(&selector)).await {
                Ok(element) => Ok(Some(element)),
                Err(e) if e.is_no_such_element() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Whether an element with this test id is on the page right now.
    pub async fn exists(&self, id: &str) -> Result<bool> {
        let selector = format!("[data-testid=\"{id}\"]");
        match self.client.find(Locator::Css(&selector)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_no_such_element() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// An input's current `value` property (what the person sees in it).
    pub async fn value(&self, id: &str) -> Result<String> {
        Ok(self
            .wait_for(id)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default())
    }

    pub async fn text(&self, id: &str) -> Result<String> {
        self.on(id, |e| async move { e.text().await }).await
    }

    /// Waits until the inputs with these test ids hold these values.
    pub async fn wait_for_values(&self, expected: &[(&str, &str)]) -> Result<()> {
        let description = format!("values {expected:?}");
        poll(&description, WAIT, || async {
            for (id, value) in expected {
                if self.value(id).await? != *value {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        })
        .await
        .map_err(|e| self.with_values(e, expected))
    }

    /// Waits until the element's text satisfies `accept`; returns the text.
    pub async fn wait_for_text(
        &self,
        id: &str,
        description: &str,
        accept: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let last = std::sync::Mutex::new(String::new());
        let (last_seen, accept) = (&last, &accept);
        let result = poll(
            &format!("{id} to show {description}"),
            WAIT,
            move || async move {
                let text = self.text(id).await?;
                let done = accept(&text);
                if let Ok(mut seen) = last_seen.lock() {
                    seen.clone_from(&text);
                }
                Ok(done.then_some(text))
            },
        )
        .await;
        let last = last.into_inner().unwrap_or_default();
        result.map_err(|e| format!("{e}; last text: {last:?}").into())
    }

    fn with_values(
        &self,
        error: Box<dyn Error + Send + Sync>,
        expected: &[(&str, &str)],
    ) -> Box<dyn Error + Send + Sync> {
        format!("{error} (expected {expected:?})").into()
    }

    /// Saves a PNG of the page to `target/e2e-screenshots/{name}.png`; returns where.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let dir = workspace_root().join("target").join("e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// Ends the WebDriver session so Chromium exits before the driver is killed.
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}

/// Ends a browser scenario the same way every test does: when `outcome` is an error, panics with
/// `context` (e.g. "on the real cluster"), the error, a screenshot of each browser under its name
/// and the console's log tail; otherwise, with `SWITCHYARD_E2E_SCREENSHOTS` set, keeps a final
/// screenshot of each (`{name}-final`, for looking at the page as a person would). Closes every
/// browser either way.
pub async fn conclude(
    context: &str,
    outcome: Result<()>,
    demo: &Demo,
    browsers: Vec<(Browser, String)>,
) {
    if let Err(error) = outcome {
        let mut shots = Vec::new();
        for (browser, name) in &browsers {
            shots.push(match browser.screenshot(name).await {
                Ok(path) => format!("screenshot: {}", path.display()),
                Err(e) => format!("no screenshot of {name}: {e}"),
            });
        }
        let context = if context.is_empty() {
            String::new()
        } else {
            format!("{context}: ")
        };
        panic!(
            "{context}{error}\n{}\nswitchyard log (tail):\n{}",
            shots.join("\n"),
            demo.log_tail()
        );
    }
    if std::env::var_os("SWITCHYARD_E2E_SCREENSHOTS").is_some() {
        for (browser, name) in &browsers {
            if let Err(error) = browser.screenshot(&format!("{name}-final")).await {
                panic!("saving the final screenshot of {name}: {error}");
            }
        }
    }
    for (browser, _) in browsers {
        if let Err(error) = browser.close().await {
            panic!("closing a browser session: {error}");
        }
    }
}

/// Whether WebDriver said the element is gone from the page: the graph's drawing is parsed
/// afresh whenever its structure changes (`graph_view/graph_canvas.rs`), so an element found a
/// moment ago may have been replaced by an equal one.
pub fn is_stale(error: &(dyn Error + Send + Sync)) -> bool {
    error.to_string().contains("stale element")
}

/// Polls `check` every 100 ms until it yields `Some`, an error, or `timeout` passes. This is how
/// every scenario waits: for a condition, never for a fixed time. A stale element (see
/// [`is_stale`]) is not an error here: the next check finds the element again.
pub async fn poll<T, F, Fut>(description: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) if is_stale(&*error) && Instant::now() < deadline => {}
            Err(error) => return Err(error),
        }
        if Instant::now() >= deadline {
            return fail(format!(
                "timed out after {timeout:?} waiting for {description}"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

impl Browser {
    /// The first element matching a CSS selector, waiting for it to appear. For lookups scoped
    /// to a container, e.g. `[data-testid="selected-service"] [data-testid="apply-review-1"]`,
    /// where the same test id is on the page twice.
    pub async fn wait_for_css(&self, selector: &str) -> Result<Element> {
        poll(&format!("element {selector}"), WAIT, || async {
            match self.client.find(Locator::Css(selector)).await {
                Ok(element) => Ok(Some(element)),
                Err(e) if e.is_no_such_element() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

impl Browser {
    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page; its return value.
    pub async fn js(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Saves a PNG of the viewport to `target/screenshots/{name}.png` (the screenshot set the
    /// display tests produce for people to look at); returns where.
    pub async fn screenshot_set(&self, name: &str) -> Result<PathBuf> {
        let dir = workspace_root().join("target").join("screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// Sizes the viewport (not the window) to `width` x `height` CSS pixels: the window is
    /// resized by the difference the browser's frame takes.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        let inner = self
            .js("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let got = |i: usize| inner[i].as_u64().unwrap_or(0) as i64;
        let (dw, dh) = (i64::from(width) - got(0), i64::from(height) - got(1));
        if dw != 0 || dh != 0 {
            let w = (i64::from(width) + dw).max(1) as u32;
            let h = (i64::from(height) + dh).max(1) as u32;
            self.client.set_window_size(w, h).await?;
        }
        Ok(())
    }

    /// Runs axe-core (npm's `axe-core`, installed by `scripts/setup-tools.sh`) in the page and
    /// returns its serious and critical violations, one line each (rule, impact, help, the first
    /// offending elements).
    pub async fn axe_serious_violations(&self) -> Result<Vec<String>> {
        self.axe_serious_violations_in("document").await
    }

    /// [`Self::axe_serious_violations`] within the element `context` (a JavaScript expression,
    /// e.g. `document.querySelector('[data-testid="graph-canvas"]')`), with up to five minutes
    /// for axe-core to finish: a 1,000-node drawing takes it a while.
    pub async fn axe_serious_violations_in(&self, context: &str) -> Result<Vec<String>> {
        let path = std::env::var_os("SWITCHYARD_AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join(".tools/node_modules/axe-core/axe.min.js"));
        let source = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e}; run scripts/setup-tools.sh (installs axe-core) or set SWITCHYARD_AXE_JS",
                path.display()
            )
        })?;
        self.js(&format!("{source}\nreturn typeof axe;"), vec![])
            .await?;
        let timeouts = self.client.get_timeouts().await?;
        let mut longer = timeouts.clone();
        longer.set_script(Some(Duration::from_secs(300)));
        self.client.update_timeouts(longer).await?;
        let script = format!(
            r#"const done = arguments[arguments.length - 1];
                axe.run({context}, {{ resultTypes: ['violations'] }})
                  .then(r => done(r.violations.map(v => ({{
                      id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)
                  }}))))
                  .catch(e => done([{{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }}]));"#
        );
        let result = self.client.execute_async(&script, vec![]).await;
        self.client.update_timeouts(timeouts).await?;
        let result = result?;
        let mut out = Vec::new();
        for v in result.as_array().cloned().unwrap_or_default() {
            let impact = v["impact"].as_str().unwrap_or("");
            if impact == "serious" || impact == "critical" {
                out.push(format!(
                    "{} ({impact}): {} — {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    v["nodes"]
                        .as_array()
                        .map(|n| n
                            .iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(" | "))
                        .unwrap_or_default()
                ));
            }
        }
        Ok(out)
    }
}
