//! The `switchyard` binary: parses the command line, starts tracing, and runs the console, the
//! demo (console on a simulated cluster) or the simulated cluster alone.

use anyhow::Context;
use clap::Parser;
use std::io::Write;
use std::time::Duration;
use switchyard::cluster::Cluster;
use switchyard::config::{Cli, Command, MetricsArgs};
use switchyard::demo::{self, Simulation};
use switchyard::live::{Live, LiveConfig};
use switchyard::metrics::{PrometheusSource, SimulatedSource, Source};
use switchyard::{app, AppState};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr; stdout carries only the "listening on" line that scripts and tests read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "switchyard=info,warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let client = match &args.kubeconfig {
                Some(path) => demo::client_from_kubeconfig(path, args.context.clone()).await?,
                None => kube::Client::try_default()
                    .await
                    .context("no kubeconfig and no in-cluster config")?,
            };
            let cluster = Cluster::start(client, &args.namespaces);
            let source = prometheus(&args.metrics);
            let live = live_config(
                &args.metrics,
                Duration::from_secs(15),
                Duration::from_secs(60),
            );
            serve_console(args.listen, cluster, source, live, "switchyard").await
        }
        Command::Demo(args) => {
            let sim = Simulation::start("127.0.0.1:0".parse()?, false, &args.traffic).await?;
            let kubeconfig = args
                .kubeconfig_out
                .clone()
                .unwrap_or_else(demo::default_kubeconfig_path);
            sim.write_kubeconfig(&kubeconfig)?;
            eprintln!(
                "kubectl: kubectl --kubeconfig {} -n {} get vs",
                kubeconfig.display(),
                demo::DEMO_NAMESPACE
            );
            let client = sim.client(&kubeconfig).await?;
            let cluster = Cluster::start(client, &[demo::DEMO_NAMESPACE.to_owned()]);
            let source = prometheus(&args.metrics)
                .unwrap_or_else(|| Source::Simulated(SimulatedSource::new(sim.mesh.clone())));
            let live = live_config(
                &args.metrics,
                Duration::from_secs(5),
                Duration::from_secs(30),
            );
            serve_console(args.listen, cluster, Some(source), live, "switchyard demo").await
        }
        Command::Sim(args) => {
            let sim = Simulation::start(args.listen, args.empty, &args.traffic).await?;
            if let Some(path) = &args.kubeconfig_out {
                sim.write_kubeconfig(path)?;
            }
            announce(&format!("simulated cluster listening on {}/", sim.url))?;
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}

fn prometheus(args: &MetricsArgs) -> Option<Source> {
    args.prometheus_url.as_deref().map(|url| {
        Source::Prometheus(PrometheusSource::new(
            url,
            args.query_timeout,
            args.scrape_interval,
        ))
    })
}

fn live_config(args: &MetricsArgs, refresh: Duration, window: Duration) -> LiveConfig {
    let mut window = args.window.unwrap_or(window);
    if args.prometheus_url.is_some() && window < 2 * args.scrape_interval {
        tracing::warn!(?window, scrape_interval = ?args.scrape_interval, "rate window shorter than two scrapes; widening it");
        window = 2 * args.scrape_interval;
    }
    LiveConfig {
        interval: args.refresh.unwrap_or(refresh),
        window,
    }
}

async fn serve_console(
    listen: std::net::SocketAddr,
    cluster: Cluster,
    source: Option<Source>,
    live: LiveConfig,
    what: &str,
) -> anyhow::Result<()> {
    if tokio::time::timeout(Duration::from_secs(30), cluster.wait_ready())
        .await
        .is_err()
    {
        tracing::warn!("the cluster caches are not filled after 30 s; serving anyway, they fill when the API answers");
    }
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the console to {listen}"))?;
    let addr = listener.local_addr()?;
    announce(&format!("{what} listening on http://{addr}/"))?;
    let live = Live::start(cluster.clone(), source, live);
    axum::serve(listener, app(AppState { cluster, live }))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn announce(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
