//! The real test cluster: kube-apiserver and etcd run by `scripts/real-cluster.sh`, shared by
//! every test of a run, with a fresh namespace per test (namespaces never finish deleting without
//! a controller manager, so tests never delete them).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;

/// A running real cluster, read from its kubeconfig.
pub struct RealCluster {
    pub url: String,
    pub kubeconfig: PathBuf,
    /// The API server's CA certificate(s), PEM.
    pub ca_pem: Vec<u8>,
    /// (user name in the kubeconfig, token)
    tokens: Vec<(String, String)>,
    /// The script, when this process started it; it stops when this process exits.
    _script: Option<Child>,
}

/// The repository root (this crate lives in `<root>/testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// How long the script may take: a cold build of kube-apiserver takes minutes.
const START_TIMEOUT: Duration = Duration::from_secs(1800);

impl RealCluster {
    /// The run's real cluster: `SWITCHYARD_REAL_KUBECONFIG`, or one this process starts once.
    pub fn shared() -> &'static RealCluster {
        static CLUSTER: OnceLock<RealCluster> = OnceLock::new();
        CLUSTER.get_or_init(|| match std::env::var_os("SWITCHYARD_REAL_KUBECONFIG") {
            Some(path) => RealCluster::read(PathBuf::from(path), None),
            None => RealCluster::start(),
        })
    }

    fn start() -> RealCluster {
        let script = workspace_root().join("scripts").join("real-cluster.sh");
        let mut child = Command::new(&script)
            .args(["--parent", &std::process::id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not start: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let started = Instant::now();
        let mut path = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("the script's output reads");
            if let Some(p) = line.strip_prefix("KUBECONFIG=") {
                path = Some(PathBuf::from(p));
                break;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the real cluster did not start"
            );
        }
        let Some(path) = path else {
            let status = child.wait().ok();
            panic!("scripts/real-cluster.sh ended without a kubeconfig ({status:?}); see its output above");
        };
        RealCluster::read(path, Some(child))
    }

    fn read(kubeconfig: PathBuf, script: Option<Child>) -> RealCluster {
        let text = std::fs::read_to_string(&kubeconfig)
            .unwrap_or_else(|e| panic!("{} could not be read: {e}", kubeconfig.display()));
        let config: Value = serde_yaml::from_str(&text).expect("the real kubeconfig is YAML");
        let cluster = &config["clusters"][0]["cluster"];
        let url = cluster["server"].as_str().expect("a server URL").to_owned();
        let ca_pem = base64::engine::general_purpose::STANDARD
            .decode(
                cluster["certificate-authority-data"]
                    .as_str()
                    .expect("certificate-authority-data"),
            )
            .expect("the CA is base64");
        let tokens = config["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| {
                (
                    u["name"].as_str().unwrap_or_default().to_owned(),
                    u["user"]["token"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        RealCluster {
            url,
            kubeconfig,
            ca_pem,
            tokens,
            _script: script,
        }
    }

    /// The token of a kubeconfig user (`admin`, `operator`, `viewer`, `switchyard`).
    pub fn token(&self, user: &str) -> &str {
        self.tokens
            .iter()
            .find(|(name, _)| name == user)
            .map(|(_, token)| token.as_str())
            .unwrap_or_else(|| panic!("the real kubeconfig has no user {user}"))
    }

    /// Writes a copy of the kubeconfig whose contexts default to `namespace`.
    pub fn write_kubeconfig(&self, path: &Path, namespace: &str) {
        let text = std::fs::read_to_string(&self.kubeconfig).expect("the real kubeconfig reads");
        let mut config: Value = serde_yaml::from_str(&text).expect("the real kubeconfig is YAML");
        if let Some(contexts) = config["contexts"].as_array_mut() {
            for context in contexts {
                context["context"]["namespace"] = Value::String(namespace.to_owned());
            }
        }
        let yaml = serde_yaml::to_string(&config).expect("the kubeconfig serialises");
        std::fs::write(path, yaml).expect("the kubeconfig copy is written");
    }

    /// Creates `namespace` with the demo objects and the same per-namespace rights the demo
    /// namespace has: operators may patch VirtualServices and steer release plans, the console's
    /// service account reads and drives plans.
    /// `manifest` replaces `demo/hands-on.yaml` when given.
    pub async fn prepare_namespace(&self, namespace: &str, manifest: Option<&str>) {
        let kubeconfig = self.kubeconfig.clone();
        let namespace = namespace.to_owned();
        let manifest = manifest.map(str::to_owned);
        tokio::task::spawn_blocking(move || prepare(&kubeconfig, &namespace, manifest.as_deref()))
            .await
            .expect("preparing the namespace did not panic");
    }
}

fn prepare(kubeconfig: &Path, namespace: &str, manifest: Option<&str>) {
    let root = workspace_root();
    let bindings = format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: switchyard-operators-edit
  namespace: {namespace}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: switchyard-virtualservice-editor
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: switchyard:operators
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: switchyard-plan-driver
  namespace: {namespace}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: switchyard-plan-driver
subjects:
- kind: ServiceAccount
  name: switchyard
  namespace: switchyard
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: switchyard-reader
  namespace: {namespace}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: switchyard-reader
subjects:
- kind: ServiceAccount
  name: switchyard
  namespace: switchyard
"#
    );
    kubectl(kubeconfig, &["apply", "-f", "-"], Some(&bindings));
    match manifest {
        Some(text) => kubectl(
            kubeconfig,
            &["apply", "-n", namespace, "-f", "-"],
            Some(text),
        ),
        None => {
            let demo = root.join("demo").join("hands-on.yaml");
            kubectl(
                kubeconfig,
                &["apply", "-n", namespace, "-f", &demo.to_string_lossy()],
                None,
            );
        }
    }
}

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "real-admin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .expect("kubectl reads stdin");
    }
    let output = child.wait_with_output().expect("kubectl finishes");
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
