//! The `switchyard` binary: parses the command line, starts tracing, and runs the console, the
//! demo (console on a simulated cluster), the simulated cluster alone, or the simulated mesh fed
//! by any cluster.

use anyhow::Context;
use clap::Parser;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use switchyard::config::{
    AccessArgs, AuthMode, Cli, Command, ConnectionArgs, MeshArgs, MetricsArgs,
};
use switchyard::mesh_feed::{self, MeshFeed};
use switchyard::SimulatedSource;
use switchyard_console::auth::{human_duration, Auth, Mode, SessionLimits, Sessions};
use switchyard_console::cluster::{config_from_kubeconfig, Cluster};
use switchyard_console::live::{Live, LiveConfig};
use switchyard_console::metrics::{PrometheusSource, Source};
use switchyard_console::plans::{Plans, PlansConfig};
use switchyard_console::server::{self, ConnectionLimits};
use switchyard_console::state::AllowedHosts;
use switchyard_console::{app, AppState};
use switchyard_protocol::{Backends, Subsets};
use switchyard_sim::mesh::LoadConfig;
use switchyard_sim::simulation::{self as demo, Simulation};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr; stdout carries only the "listening on" line that scripts and tests read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "switchyard=info,switchyard_console=info,switchyard_sim=info,warn".into()
            }),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = kube_config(args.kubeconfig.as_deref(), args.context.clone()).await?;
            let client = kube::Client::try_from(config.clone())?;
            let cluster = Cluster::start(client.clone(), &args.namespaces);
            let console = Console {
                cluster,
                client,
                config,
                access: args.access,
                connections: args.connections,
            };
            let source = prometheus(&args.metrics);
            let live = live_config(
                &args.metrics,
                Duration::from_secs(15),
                Duration::from_secs(60),
            )?;
            serve_console(args.listen, console, source, live, "switchyard").await
        }
        Command::Demo(args) => {
            let (manifest, entry) = switchyard::demo_manifest(&args)?;
            let mut namespaces = vec![demo::Namespace {
                name: demo::DEMO_NAMESPACE,
                manifest: &manifest,
                entry: &entry,
            }];
            if args.gateway_demo {
                namespaces.push(demo::Namespace {
                    name: demo::GATEWAY_NAMESPACE,
                    manifest: demo::GATEWAY_MANIFEST,
                    entry: demo::DEMO_ENTRY,
                });
            }
            let sim = Simulation::start_with_namespaces(
                "127.0.0.1:0".parse()?,
                &namespaces,
                &(&args.traffic).into(),
            )
            .await?;
            let watched: Vec<String> = namespaces.iter().map(|n| n.name.to_owned()).collect();
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
            let config = config_from_kubeconfig(&kubeconfig, None)
                .await
                .with_context(|| format!("reading kubeconfig {}", kubeconfig.display()))?;
            let client = kube::Client::try_from(config.clone())?;
            let cluster = Cluster::start(client.clone(), &watched);
            let mut access = args.access;
            access
                .lease_namespace
                .get_or_insert_with(|| demo::DEMO_NAMESPACE.to_owned());
            let console = Console {
                cluster,
                client,
                config,
                access,
                connections: args.connections,
            };
            let source = prometheus(&args.metrics)
                .unwrap_or_else(|| SimulatedSource::new(sim.mesh.clone()).into_source());
            let live = live_config(
                &args.metrics,
                Duration::from_secs(5),
                Duration::from_secs(30),
            )?;
            serve_console(args.listen, console, Some(source), live, "switchyard demo").await
        }
        Command::Sim(args) => {
            let sim = Simulation::start(args.listen, args.empty, &(&args.traffic).into()).await?;
            if let Some(path) = &args.kubeconfig_out {
                sim.write_kubeconfig(path)?;
            }
            announce(&format!("simulated cluster listening on {}/", sim.url))?;
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Mesh(args) => run_mesh(args).await,
    }
}

async fn kube_config(
    kubeconfig: Option<&Path>,
    context: Option<String>,
) -> anyhow::Result<kube::Config> {
    match kubeconfig {
        Some(path) => config_from_kubeconfig(path, context)
            .await
            .with_context(|| format!("reading kubeconfig {}", path.display())),
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and no in-cluster config"),
    }
}

/// `switchyard mesh`: the simulated mesh routing by what it watches, with load and /metrics.
async fn run_mesh(args: MeshArgs) -> anyhow::Result<()> {
    let config = kube_config(args.kubeconfig.as_deref(), args.context.clone()).await?;
    let client = kube::Client::try_from(config)?;
    let feeder = MeshFeed::start(client, &args.namespaces);
    if tokio::time::timeout(Duration::from_secs(30), feeder.wait_synced())
        .await
        .is_err()
    {
        tracing::warn!(pending = ?feeder.pending(), "not every watch has listed its objects after 30 s; serving anyway, routing follows as they arrive");
    }
    let mesh = feeder.mesh();
    // Compiled once now: problems in the objects are logged at start-up, not on the first request.
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding the mesh's /metrics to {}", args.listen))?;
    let addr = listener.local_addr()?;
    // The load goes into the entry service of every namespace that has one, each at --rps.
    let topology = mesh.topology();
    let loads: Vec<LoadConfig> = args
        .namespaces
        .iter()
        .enumerate()
        .filter(|(i, ns)| *i == 0 || topology.has_service(ns, &args.entry))
        .map(|(i, ns)| LoadConfig {
            namespace: ns.clone(),
            entry: args.entry.clone(),
            rps: args.traffic.rps,
            test_header_share: args.traffic.test_share,
            seed: args.traffic.seed.wrapping_add(i as u64),
        })
        .collect();
    announce(&format!("mesh listening on http://{addr}/"))?;
    mesh_feed::serve(listener, mesh, loads, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    drop(feeder);
    Ok(())
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

/// Most rate windows a viewer may choose from besides the default (each costs a query set per
/// refresh).
const MAX_WINDOW_CHOICES: usize = 5;

fn live_config(
    args: &MetricsArgs,
    refresh: Duration,
    window: Duration,
) -> anyhow::Result<LiveConfig> {
    let shortest = if args.prometheus_url.is_some() {
        2 * args.scrape_interval
    } else {
        Duration::from_secs(1)
    };
    let mut window = args.window.unwrap_or(window);
    if window < shortest {
        tracing::warn!(?window, scrape_interval = ?args.scrape_interval, "rate window shorter than two scrapes; widening it");
        window = shortest;
    }
    anyhow::ensure!(
        args.windows.len() <= MAX_WINDOW_CHOICES,
        "--windows offers {} windows; at most {MAX_WINDOW_CHOICES} (each costs one query set per refresh)",
        args.windows.len()
    );
    if let Some(short) = args.windows.iter().find(|w| **w < shortest) {
        anyhow::bail!(
            "--windows: {} is shorter than {} (two scrape intervals)",
            humantime::format_duration(*short),
            humantime::format_duration(shortest)
        );
    }
    Ok(LiveConfig {
        interval: args.refresh.unwrap_or(refresh),
        window,
        choices: args.windows.clone(),
        reporters: args.reporters.clone(),
    })
}

/// What the console needs of the cluster it serves.
struct Console {
    cluster: Cluster,
    client: kube::Client,
    config: kube::Config,
    access: AccessArgs,
    connections: ConnectionArgs,
}

async fn serve_console(
    listen: std::net::SocketAddr,
    console: Console,
    source: Option<Source>,
    live: LiveConfig,
    what: &str,
) -> anyhow::Result<()> {
    let Console {
        cluster,
        client,
        config,
        access,
        connections,
    } = console;
    // Event streams send a keep-alive every 15 s; a shorter idle timeout would cut them.
    anyhow::ensure!(
        connections.idle_timeout > Duration::from_secs(15),
        "--idle-timeout must be longer than the event stream's 15 s keep-alive"
    );
    let subsets = Subsets::new(access.old_subset, access.new_subset)
        .context("--old-subset and --new-subset")?;
    let backends = Backends::new(access.old_backend_suffix, access.new_backend_suffix)
        .context("--old-backend-suffix and --new-backend-suffix")?;
    let allowed_hosts = AllowedHosts::new(&access.allowed_hosts)
        .map_err(anyhow::Error::msg)
        .context("--allowed-host")?;
    if allowed_hosts.allows_any() {
        tracing::warn!("--allowed-host '*': every Host is accepted, so a foreign page whose name resolves to this console (DNS rebinding) can use it");
    }
    let mode = match access.auth {
        AuthMode::Anonymous => Mode::Anonymous,
        AuthMode::Token => Mode::Token,
        AuthMode::Header => Mode::Header {
            user_header: access
                .user_header
                .parse()
                .context("--user-header is not a header name")?,
            groups_header: access
                .groups_header
                .parse()
                .context("--groups-header is not a header name")?,
        },
    };
    // Without authentication, only a console reachable from this machine alone may write.
    let anonymous_writes = listen.ip().is_loopback();
    if matches!(mode, Mode::Anonymous) && !anonymous_writes {
        tracing::warn!(%listen, "anonymous mode on a non-loopback address: the console is read-only");
    }
    let token_mode = matches!(mode, Mode::Token);
    let session_namespace = access
        .session_namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let lease_namespace = access
        .lease_namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let mut auth = Auth::new(mode, client.clone(), Some(config), anonymous_writes)
        .scoped(cluster.namespaces());
    if token_mode {
        let limits = SessionLimits {
            idle: access.session_idle,
            absolute: access.session_max,
        };
        anyhow::ensure!(
            limits.idle > Duration::ZERO && limits.absolute >= limits.idle,
            "--session-idle must be more than zero and --session-max at least as long"
        );
        tracing::info!(
            namespace = %session_namespace,
            idle = %human_duration(limits.idle),
            max = %human_duration(limits.absolute),
            "sessions are kept as Secrets"
        );
        auth = auth.with_sessions(
            Sessions::new(client, &session_namespace, limits).always_secure(access.secure_cookies),
        );
    }
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
    let plans = Plans::start(
        cluster.clone(),
        live.clone(),
        PlansConfig::new(&lease_namespace, subsets.clone(), backends.clone()),
    );
    tracing::info!(namespace = %lease_namespace, identity = %plans.identity(), "release plans: electing the driver on a Lease");
    let mut state = AppState::new(cluster, live, auth).with_plans(plans);
    state.subsets = subsets;
    state.backends = backends;
    state.allowed_hosts = allowed_hosts;
    state.max_body = connections.max_body as usize;
    let limits = ConnectionLimits {
        header_timeout: connections.header_timeout,
        idle_timeout: connections.idle_timeout,
        max_connections: connections.max_connections as usize,
    };
    server::serve(listener, app(state), limits, async {
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
