//! A kube-rs client configuration from a kubeconfig file, as kubectl would read it.

use std::path::Path;

/// Reads `path` and picks `context` (default: the file's current context).
pub async fn config_from_kubeconfig(
    path: &Path,
    context: Option<String>,
) -> Result<kube::Config, kube::config::KubeconfigError> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)?;
    let options = kube::config::KubeConfigOptions {
        context,
        ..Default::default()
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options).await
}
