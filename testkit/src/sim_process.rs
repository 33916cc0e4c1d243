//! `switchyard sim` as a process of its own on a fixed loopback port, for fault tests: killed
//! (the API server is gone: connections refused) and started again on the same port with fresh
//! state (a new store whose resourceVersions start over, as after a restart with a new etcd).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or stopped) `switchyard sim`.
pub struct SimProcess {
    binary: PathBuf,
    /// `127.0.0.1:PORT`, the same across restarts.
    pub addr: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The admin kubeconfig it writes (the same tokens across restarts).
    pub kubeconfig: PathBuf,
    log: PathBuf,
    /// The fixed tokens every start uses (`SWITCHYARD_SIM_TOKENS`).
    tokens: String,
    child: Option<Child>,
}

impl SimProcess {
    /// Starts `binary sim` on a free loopback port, writing its kubeconfig and log into `dir`,
    /// and waits until it answers `/version`.
    pub async fn start(binary: &Path, dir: &Path) -> SimProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut sim = SimProcess {
            binary: binary.to_owned(),
            url: format!("http://{addr}"),
            addr,
            kubeconfig: dir.join("kubeconfig"),
            log: dir.join("sim.log"),
            tokens: format!("admin-{port},operator-{port},viewer-{port}"),
            child: None,
        };
        sim.spawn().await;
        sim
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the sim log opens");
        let child = Command::new(&self.binary)
            .args(["sim", "--listen", &self.addr, "--kubeconfig-out"])
            .env("SWITCHYARD_SIM_TOKENS", &self.tokens)
            .arg(&self.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} sim: {e}", self.binary.display()));
        self.child = Some(child);
        let http = reqwest::Client::new();
        let version = format!("{}/version", self.url);
        for _ in 0..300 {
            if let Ok(r) = http.get(&version).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "switchyard sim did not answer on {} within 15 s; its log:\n{}",
            self.url,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Kills the process (SIGKILL) and waits for it: the API server is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with fresh state (the demo namespace as at first start,
    /// resourceVersions from the beginning).
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
