//! A real kube-apiserver of this test's own (`scripts/real-cluster.sh`, not the run's shared one)
//! whose API server process can be killed and started again with the same command line: same
//! port, certificates, token file and etcd, so clients keep their credentials (a restart of the
//! API server process, as in a rolling upgrade or a crash).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::real::workspace_root;

/// The script's cluster and, after a restart, the API server this helper started itself.
pub struct RestartableApiServer {
    /// The admin kubeconfig (contexts as `scripts/real-cluster.sh` writes them).
    pub kubeconfig: PathBuf,
    script: Child,
    /// The kube-apiserver's command line, read from `/proc` before it was killed.
    command: Option<Vec<String>>,
    /// The API server started by `restart`, killed on drop.
    restarted: Option<Child>,
    dir: tempfile::TempDir,
}

impl RestartableApiServer {
    /// Starts `scripts/real-cluster.sh` for this test (tied to this process) and waits for its
    /// kubeconfig.
    pub fn start() -> RestartableApiServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = workspace_root().join("scripts").join("real-cluster.sh");
        let mut child = Command::new(&script)
            .args(["--parent", &std::process::id().to_string()])
            .arg("--dir")
            .arg(dir.path().join("cluster"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not start: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let kubeconfig = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("KUBECONFIG=").map(PathBuf::from))
            .expect("scripts/real-cluster.sh printed its kubeconfig");
        RestartableApiServer {
            kubeconfig,
            script: child,
            command: None,
            restarted: None,
            dir,
        }
    }

    /// The running kube-apiserver's pid: the one this helper restarted, or the script's child.
    fn apiserver_pid(&self) -> u32 {
        if let Some(child) = &self.restarted {
            return child.id();
        }
        let out = Command::new("pgrep")
            .args(["-P", &self.script.id().to_string(), "-x", "kube-apiserver"])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("the script's kube-apiserver is running")
    }

    /// Kills the kube-apiserver (SIGKILL); etcd keeps running.
    pub fn kill(&mut self) {
        let pid = self.apiserver_pid();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("its command line");
        self.command = Some(
            cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        );
        match self.restarted.take() {
            Some(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            None => {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        // Gone once its pid is.
        let started = Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the kube-apiserver again with its old command line; returns once it answers
    /// `/readyz` (so a caller measures from the API server's return).
    pub async fn restart(&mut self) {
        let command = self.command.clone().expect("kill() first");
        let log = std::fs::File::create(self.dir.path().join("apiserver-restarted.log"))
            .expect("a log file");
        let child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file"))
            .stderr(log)
            .spawn()
            .expect("kube-apiserver starts again");
        self.restarted = Some(child);
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kubeconfig");
        let client = kube::Client::try_from(config).expect("a client");
        let started = Instant::now();
        loop {
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("a request");
            if client.request_text(request).await.is_ok() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the restarted kube-apiserver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for RestartableApiServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.restarted.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The script's traps stop etcd (and its own API server) and remove its files.
        let _ = Command::new("kill")
            .args(["-TERM", &self.script.id().to_string()])
            .status();
        let _ = self.script.wait();
    }
}
