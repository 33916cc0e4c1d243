//! The contract suite's machinery: one helper sends the same request to the simulated and the real
//! API server and returns both answers ([`Clusters::send`]), one compares the parts of two answers
//! that matter ([`Compare`]), and the normalisation both use (namespaces, resourceVersions, uids and
//! times differ between any two clusters and never count as a difference).

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};
use switchyard_testkit::{kinds, Kind, TestCluster, User};

/// How long one request (or one watch) may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Both clusters of one contract test: a fresh simulated cluster and a fresh namespace on the real
/// one, each with the demo objects.
pub struct Clusters {
    pub sim: TestCluster,
    pub real: TestCluster,
}

/// Gives back the real namespace's service IPs when a test ends (passed or panicked): namespaces
/// on the real test cluster never finish deleting (no controller manager), so their Services
/// would hold their IPs for the rest of the run (the range, 10.96.0.0/12, is large, but other
/// suites share it).
impl Drop for Clusters {
    fn drop(&mut self) {
        let result = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.real.kubeconfig())
            .args(["--context", self.real.context(User::Admin)])
            .args(["delete", "services", "--all", "--wait=false", "-n"])
            .arg(&self.real.namespace)
            .output();
        match result {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "could not delete the Services of {}: {}",
                self.real.namespace,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("could not run kubectl: {e}"),
        }
    }
}

/// The same thing from both clusters.
#[derive(Debug)]
pub struct Both<T> {
    pub sim: T,
    pub real: T,
}

impl<T> Both<T> {
    pub fn get(&self, kind: Kind) -> &T {
        match kind {
            Kind::Simulated => &self.sim,
            Kind::Real => &self.real,
        }
    }
}

impl Clusters {
    /// Starts both. The contract compares the two, so a run that excludes one
    /// (`SWITCHYARD_CLUSTERS`) fails here rather than passing without comparing anything.
    pub async fn start() -> Clusters {
        let wanted = kinds();
        assert!(
            wanted.contains(&Kind::Simulated) && wanted.contains(&Kind::Real),
            "the contract suite compares the simulated and the real cluster; SWITCHYARD_CLUSTERS \
             must include both (it covers {wanted:?})"
        );
        let sim = TestCluster::start(Kind::Simulated, 0.0).await;
        let real = TestCluster::start(Kind::Real, 0.0).await;
        Clusters { sim, real }
    }

    /// Sends `req` to both clusters (one after the other, so each sees the same prior state).
    pub async fn send(&self, req: &Req) -> Both<Answer> {
        Both {
            sim: send_to(&self.sim, req).await,
            real: send_to(&self.real, req).await,
        }
    }

    /// Sends each cluster its own request (when the request needs something only that cluster
    /// knows, such as a resourceVersion).
    pub async fn send_each(&self, reqs: &Both<Req>) -> Both<Answer> {
        Both {
            sim: send_to(&self.sim, &reqs.sim).await,
            real: send_to(&self.real, &reqs.real).await,
        }
    }

    /// Opens the same watch on both and reads each until `enough` says so or the server ends it.
    pub async fn watch(&self, req: &Req, enough: fn(&[Value]) -> bool) -> Both<Watch> {
        Both {
            sim: watch_one(&self.sim, req, enough).await,
            real: watch_one(&self.real, req, enough).await,
        }
    }

    /// Runs the same kubectl command against both.
    pub async fn kubectl(&self, user: User, args: &[&str]) -> Both<Result<String, String>> {
        Both {
            sim: self.sim.kubectl(user, args).await,
            real: self.real.kubectl(user, args).await,
        }
    }
}

/// One API request, written once for both clusters: `{ns}` in the path, the query and the body
/// stands for the test's namespace on each cluster.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub user: User,
    /// A bearer token to send instead of the user's.
    pub token: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<(String, String)>,
}

impl Req {
    pub fn new(method: Method, path: &str) -> Req {
        Req {
            method,
            path: path.to_owned(),
            user: User::Admin,
            token: None,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn get(path: &str) -> Req {
        Req::new(Method::GET, path)
    }
    pub fn post(path: &str, body: &Value) -> Req {
        Req::new(Method::POST, path).body("application/json", &body.to_string())
    }
    pub fn put(path: &str, body: &Value) -> Req {
        Req::new(Method::PUT, path).body("application/json", &body.to_string())
    }
    pub fn patch(path: &str, content_type: &str, body: &str) -> Req {
        Req::new(Method::PATCH, path).body(content_type, body)
    }
    pub fn user(mut self, user: User) -> Req {
        self.user = user;
        self
    }
    pub fn token(mut self, token: &str) -> Req {
        self.token = Some(token.to_owned());
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn body(mut self, content_type: &str, body: &str) -> Req {
        self.body = Some((content_type.to_owned(), body.to_owned()));
        self
    }
}

/// One server's answer.
#[derive(Debug)]
pub struct Answer {
    pub kind: Kind,
    /// The cluster's test namespace, for normalising.
    pub namespace: String,
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON; `Null` when it is not JSON.
    pub json: Value,
}

impl Answer {
    /// `reason` of a Status body.
    pub fn reason(&self) -> &str {
        self.json["reason"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }
    /// Names of a list's items, in order.
    pub fn names(&self) -> Vec<String> {
        self.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.pointer("/metadata/name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }
    /// The `Warning` headers (RFC 7234 299 warnings the API server sends).
    pub fn warnings(&self) -> Vec<String> {
        self.headers
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }
    fn describe(&self) -> String {
        format!(
            "{} answered {} ({}): {}",
            self.kind,
            self.status,
            self.content_type,
            truncate(&self.text, 1500)
        )
    }
}

fn url_of(cluster: &TestCluster, path: &str) -> String {
    format!(
        "{}{}",
        cluster.url,
        path.replace("{ns}", &cluster.namespace)
    )
}

fn request(cluster: &TestCluster, req: &Req) -> reqwest::RequestBuilder {
    let mut builder = cluster
        .http()
        .request(req.method.clone(), url_of(cluster, &req.path))
        .bearer_auth(req.token.as_deref().unwrap_or(cluster.token(req.user)));
    for (name, value) in &req.headers {
        builder = builder.header(name, value.replace("{ns}", &cluster.namespace));
    }
    if let Some((content_type, body)) = &req.body {
        builder = builder
            .header("content-type", content_type)
            .body(body.replace("{ns}", &cluster.namespace));
    }
    builder
}

async fn send_to(cluster: &TestCluster, req: &Req) -> Answer {
    let response = tokio::time::timeout(DEADLINE, request(cluster, req).send())
        .await
        .unwrap_or_else(|_| panic!("{} {} on {} timed out", req.method, req.path, cluster.kind))
        .unwrap_or_else(|e| panic!("{} {} on {}: {e}", req.method, req.path, cluster.kind));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = tokio::time::timeout(DEADLINE, response.text())
        .await
        .unwrap_or_else(|_| panic!("reading {} on {} timed out", req.path, cluster.kind))
        .unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        kind: cluster.kind,
        namespace: cluster.namespace.clone(),
        status,
        content_type,
        headers,
        text,
        json,
    }
}

/// A watch stream as read: the status, and each event line as JSON.
#[derive(Debug)]
pub struct Watch {
    pub kind: Kind,
    pub status: u16,
    pub events: Vec<Value>,
    /// The body when the server answered with an error instead of a stream.
    pub error: Value,
}

impl Watch {
    /// `(type, name)` of each event; bookmarks and errors have no name.
    pub fn summary(&self) -> Vec<(String, String)> {
        self.events
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap_or("").to_owned(),
                    e.pointer("/object/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect()
    }
}

/// Opens a watch on one cluster (for requests that differ per cluster) and reads it until
/// `enough` says so or the server ends it.
pub async fn watch_one(cluster: &TestCluster, req: &Req, enough: fn(&[Value]) -> bool) -> Watch {
    let started = Instant::now();
    let mut response = tokio::time::timeout(DEADLINE, request(cluster, req).send())
        .await
        .unwrap_or_else(|_| panic!("watch {} on {} timed out", req.path, cluster.kind))
        .unwrap_or_else(|e| panic!("watch {} on {}: {e}", req.path, cluster.kind));
    let status = response.status().as_u16();
    if status != 200 {
        let text = response.text().await.unwrap_or_default();
        return Watch {
            kind: cluster.kind,
            status,
            events: Vec::new(),
            error: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
    }
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    while !enough(&events) {
        let left = DEADLINE.saturating_sub(started.elapsed());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "watch {} on {} did not deliver what the test waits for within {DEADLINE:?}; got {events:?}",
                    req.path, cluster.kind
                )
            })
            .unwrap_or_else(|e| panic!("watch {} on {}: {e}", req.path, cluster.kind));
        let Some(chunk) = chunk else { break };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            if line.trim().is_empty() {
                continue;
            }
            events.push(serde_json::from_str(line.trim()).unwrap_or_else(|e| {
                panic!("watch line on {} is not JSON ({e}): {line}", cluster.kind)
            }));
        }
    }
    Watch {
        kind: cluster.kind,
        status,
        events,
        error: Value::Null,
    }
}

/// How two messages must agree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Message {
    /// Word for word, after normalising (the console or a client relies on the text).
    Exact,
    /// The same text once quoted names, numbers and ids are blanked: same template.
    Shape,
    /// Both have a message; its wording is free.
    Any,
}

/// What must be equal in two answers. The status code always is; for `Status` bodies also
/// `status`, `reason`, `code`, `details.{name,group,kind}` and each cause's `reason` and `field`.
#[derive(Clone, Debug)]
pub struct Compare {
    pub message: Message,
    /// JSON pointers into the body whose values must be equal (after normalising).
    pub pointers: Vec<String>,
    /// Compare the `details` of a Status (off where a server leaves them out on purpose).
    pub details: bool,
    pub content_type: bool,
}

impl Compare {
    /// Status code, Status fields and the message's template.
    pub fn status() -> Compare {
        Compare {
            message: Message::Shape,
            pointers: Vec::new(),
            details: true,
            content_type: true,
        }
    }
    /// A success body: status code, content type, `kind` and `apiVersion`, plus `pointers`.
    pub fn object(pointers: &[&str]) -> Compare {
        let mut all = vec!["/kind".to_owned(), "/apiVersion".to_owned()];
        all.extend(pointers.iter().map(|p| (*p).to_owned()));
        Compare {
            message: Message::Any,
            pointers: all,
            details: true,
            content_type: true,
        }
    }
    pub fn message(mut self, message: Message) -> Compare {
        self.message = message;
        self
    }
    pub fn also(mut self, pointers: &[&str]) -> Compare {
        self.pointers
            .extend(pointers.iter().map(|p| (*p).to_owned()));
        self
    }
    pub fn without_details(mut self) -> Compare {
        self.details = false;
        self
    }

    /// Every difference between the two answers, empty when they agree.
    pub fn differences(&self, both: &Both<Answer>) -> Vec<String> {
        let (sim, real) = (&both.sim, &both.real);
        let mut out = Vec::new();
        if sim.status != real.status {
            out.push(format!(
                "status code: sim {} real {}",
                sim.status, real.status
            ));
        }
        if self.content_type && media_type(&sim.content_type) != media_type(&real.content_type) {
            out.push(format!(
                "content type: sim {:?} real {:?}",
                sim.content_type, real.content_type
            ));
        }
        let is_status = real.json["kind"] == "Status" || sim.json["kind"] == "Status";
        if is_status {
            let mut fields = vec!["/kind", "/apiVersion", "/status", "/reason", "/code"];
            if self.details {
                fields.extend(["/details/name", "/details/group", "/details/kind"]);
            }
            for field in fields {
                let (s, r) = (
                    normalized(sim, sim.json.pointer(field)),
                    normalized(real, real.json.pointer(field)),
                );
                if s != r {
                    out.push(format!("{field}: sim {s:?} real {r:?}"));
                }
            }
            if self.details {
                let causes = |a: &Answer| -> Vec<(Value, Value)> {
                    a.json
                        .pointer("/details/causes")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|c| (c["reason"].clone(), c["field"].clone()))
                        .collect()
                };
                if causes(sim) != causes(real) {
                    out.push(format!(
                        "details.causes (reason, field): sim {:?} real {:?}",
                        causes(sim),
                        causes(real)
                    ));
                }
            }
            let (sm, rm) = (sim.message(), real.message());
            let agree = match self.message {
                Message::Exact => {
                    normalize_text(sm, &sim.namespace) == normalize_text(rm, &real.namespace)
                }
                Message::Shape => shape(sm, &sim.namespace) == shape(rm, &real.namespace),
                Message::Any => !sm.is_empty() && !rm.is_empty(),
            };
            if !agree {
                out.push(format!(
                    "message ({:?}): sim {sm:?} real {rm:?}",
                    self.message
                ));
            }
        }
        for pointer in &self.pointers {
            let (s, r) = (
                normalized(sim, sim.json.pointer(pointer)),
                normalized(real, real.json.pointer(pointer)),
            );
            if s != r {
                out.push(format!("{pointer}: sim {s} real {r}"));
            }
        }
        out
    }

    /// Fails the test when the answers differ, showing both.
    #[track_caller]
    pub fn check(&self, case: &str, both: &Both<Answer>) {
        let differences = self.differences(both);
        assert!(
            differences.is_empty(),
            "{case}: the simulated and the real API server differ:\n  - {}\n{}\n{}",
            differences.join("\n  - "),
            both.sim.describe(),
            both.real.describe()
        );
    }
}

/// `application/json; charset=utf-8` → `application/json`, parameters that name a shape kept.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .map(str::trim)
        .filter(|p| !p.starts_with("charset="))
        .collect::<Vec<_>>()
        .join(";")
        .to_ascii_lowercase()
}

/// A value with the answer's namespace written as `{ns}`; missing is `null`.
fn normalized(answer: &Answer, value: Option<&Value>) -> Value {
    let mut value = value.cloned().unwrap_or(Value::Null);
    replace_namespace(&mut value, &answer.namespace);
    value
}

fn replace_namespace(value: &mut Value, namespace: &str) {
    match value {
        Value::String(s) => *s = normalize_text(s, namespace),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| replace_namespace(v, namespace)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| replace_namespace(v, namespace)),
        _ => {}
    }
}

/// The namespace the demo manifest was written for; it also appears in image names
/// (`hands-on/review:v2`) on both clusters, and is the simulator's test namespace.
const DEMO_NAMESPACE: &str = "hands-on";

/// The text with the cluster's test namespace written as `{ns}`. The demo namespace's name is
/// replaced on both sides alike, so that on the simulator (whose test namespace it is) and on the
/// real cluster (where it only appears inside values such as image names) it reads the same.
pub fn normalize_text(text: &str, namespace: &str) -> String {
    text.replace(namespace, "{ns}")
        .replace(DEMO_NAMESPACE, "{ns}")
}

/// A message's template: namespace as `{ns}`, quoted strings as `"…"`, runs of digits as `N`.
/// Two messages built from the same format string with different names or versions agree.
pub fn shape(text: &str, namespace: &str) -> String {
    let text = normalize_text(text, namespace);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"…\"");
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
            }
            d if d.is_ascii_digit() => {
                out.push('N');
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
            other => out.push(other),
        }
    }
    out
}

pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// The admin's view of one object on one cluster, for tests that need its resourceVersion.
pub async fn get_json(cluster: &TestCluster, path: &str) -> Value {
    let answer = send_to(cluster, &Req::get(path)).await;
    assert_eq!(answer.status, 200, "{}", answer.describe());
    answer.json
}

#[test]
fn shapes_blank_names_and_numbers() {
    assert_eq!(
        shape("too old resource version: 12 (3456)", "ns"),
        shape("too old resource version: 1 (339)", "ns")
    );
    assert_eq!(
        shape(
            r#"virtualservices.networking.istio.io "a\"b" not found"#,
            "x"
        ),
        r#"virtualservices.networking.istio.io "…" not found"#
    );
    assert_ne!(
        shape("fieldManager: Required value", "ns"),
        shape("fieldManager: Too long", "ns")
    );
    assert_eq!(normalize_text("in t-1-2 now", "t-1-2"), "in {ns} now");
}
