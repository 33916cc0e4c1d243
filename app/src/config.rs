//! The command line (flags with environment fallbacks), one clap definition for every mode.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "switchyard",
    version,
    about = "Shift live traffic between service versions in an Istio mesh"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the console against a Kubernetes cluster (kubeconfig, or in-cluster config when none).
    Serve(ServeArgs),
    /// Run the console on a built-in simulated cluster with live simulated traffic.
    Demo(DemoArgs),
    /// Run only the simulated cluster (Kubernetes API + simulated mesh + /metrics).
    Sim(SimArgs),
    /// Run only the simulated mesh, routing by the Services, Deployments, VirtualServices,
    /// DestinationRules and HTTPRoutes of any Kubernetes API server, with load and Istio's
    /// /metrics.
    Mesh(MeshArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to serve the console on.
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Kubeconfig to use; without it the usual inference applies ($KUBECONFIG, ~/.kube/config,
    /// in-cluster service account).
    #[arg(long, env = "SWITCHYARD_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig (default: its current context).
    #[arg(long, env = "SWITCHYARD_CONTEXT")]
    pub context: Option<String>,
    /// Namespaces whose VirtualServices the console shows and edits (repeatable).
    #[arg(
        long = "namespace",
        short = 'n',
        env = "SWITCHYARD_NAMESPACES",
        value_delimiter = ',',
        required = true
    )]
    pub namespaces: Vec<String>,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub access: AccessArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
}

/// How callers are identified and what "old" and "new" mean.
#[derive(Args, Debug, Clone)]
pub struct AccessArgs {
    /// anonymous: the console's own credentials (writes only on loopback); token: each user's
    /// bearer token; header: users named by a trusted proxy, impersonated.
    #[arg(long, value_enum, env = "SWITCHYARD_AUTH", default_value = "anonymous")]
    pub auth: AuthMode,
    /// Header mode: the header that names the user.
    #[arg(
        long,
        env = "SWITCHYARD_USER_HEADER",
        default_value = "x-forwarded-user"
    )]
    pub user_header: String,
    /// Header mode: the header that lists the user's groups (comma-separated or repeated).
    #[arg(
        long,
        env = "SWITCHYARD_GROUPS_HEADER",
        default_value = "x-forwarded-groups"
    )]
    pub groups_header: String,
    /// A host name the console answers to besides localhost, 127.0.0.1 and [::1] (repeatable or
    /// comma-separated; NAME or NAME:PORT), e.g. the name a proxy or an Ingress serves it under.
    /// Requests naming any other host get 421, so that a foreign page whose name resolves to the
    /// console (DNS rebinding) cannot use it. `*` turns the check off: unsafe, any page that can
    /// reach the console can then read it and, in anonymous mode, write with its credentials.
    #[arg(
        long = "allowed-host",
        env = "SWITCHYARD_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub allowed_hosts: Vec<String>,
    /// Subset name of the old version (what rollback sends everything to).
    #[arg(long, default_value = switchyard_protocol::subsets::DEFAULT_OLD)]
    pub old_subset: String,
    /// Subset name of the new version.
    #[arg(long, default_value = switchyard_protocol::subsets::DEFAULT_NEW)]
    pub new_subset: String,
    /// HTTPRoutes: the suffix of the old version's backend Service, `{service}-{suffix}` (what
    /// rollback sends an HTTPRoute rule's traffic to).
    #[arg(long, default_value = switchyard_protocol::backends::DEFAULT_OLD_SUFFIX)]
    pub old_backend_suffix: String,
    /// HTTPRoutes: the suffix of the new version's backend Service.
    #[arg(long, default_value = switchyard_protocol::backends::DEFAULT_NEW_SUFFIX)]
    pub new_backend_suffix: String,
    /// Token mode: the namespace whose Secrets hold the sessions (one Secret per signed-in
    /// browser; the console needs get, create, patch and delete on Secrets there) [default: the
    /// kubeconfig's or service account's namespace].
    #[arg(long, env = "SWITCHYARD_SESSION_NAMESPACE", value_parser = namespace_name)]
    pub session_namespace: Option<String>,
    /// Release plans: the namespace of the Lease the console's replicas elect their plan driver
    /// with (get, create and update on that one Lease) [default: the kubeconfig's or service
    /// account's namespace; the watched namespace in the demo].
    #[arg(long, env = "SWITCHYARD_LEASE_NAMESPACE", value_parser = namespace_name)]
    pub lease_namespace: Option<String>,
    /// Token mode: a session ends after this long without a request.
    #[arg(long, env = "SWITCHYARD_SESSION_IDLE", value_parser = humantime::parse_duration, default_value = "30m")]
    pub session_idle: Duration,
    /// Token mode: a session ends this long after sign-in, however busy.
    #[arg(long, env = "SWITCHYARD_SESSION_MAX", value_parser = humantime::parse_duration, default_value = "12h")]
    pub session_max: Duration,
    /// Mark the session cookie `Secure` on every response (for a TLS-terminating proxy that does
    /// not send `X-Forwarded-Proto: https`, which sets it by itself).
    #[arg(long, env = "SWITCHYARD_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

/// Limits on the console's own HTTP connections, so slow or idle clients cannot exhaust it.
#[derive(Args, Debug, Clone)]
pub struct ConnectionArgs {
    /// A client must send a request's headers within this time, or the connection is closed.
    #[arg(long, env = "SWITCHYARD_HEADER_TIMEOUT", value_parser = humantime::parse_duration, default_value = "10s")]
    pub header_timeout: Duration,
    /// A connection that neither sends nor receives a byte for this long is closed (open event
    /// streams send a keep-alive every 15 s, so they are never idle).
    #[arg(long, env = "SWITCHYARD_IDLE_TIMEOUT", value_parser = humantime::parse_duration, default_value = "60s")]
    pub idle_timeout: Duration,
    /// Most connections open at once, event streams included; more are closed on arrival.
    #[arg(long, env = "SWITCHYARD_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "SWITCHYARD_MAX_BODY", default_value_t = 2 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_body: u32,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Anonymous,
    Token,
    Header,
}

/// Where traffic metrics come from and how they are read.
#[derive(Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Prometheus base URL, e.g. http://prometheus.istio-system:9090. In the demo, without it the
    /// simulated mesh's own counters are read instead.
    #[arg(long, env = "SWITCHYARD_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// How often the graph is refreshed (one set of queries for all viewers) [default: 15s; demo 5s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub refresh: Option<Duration>,
    /// Width of the rate window [default: 1m; demo 30s]; never shorter than two scrape intervals.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub window: Option<Duration>,
    /// Other rate windows a viewer may choose in the page, comma-separated (at most 5). Each
    /// refresh reads one query set per window offered, whoever looks at which.
    #[arg(long, value_parser = humantime::parse_duration, value_delimiter = ',', default_value = "1m,5m,15m")]
    pub windows: Vec<Duration>,
    /// Prometheus' scrape interval, which bounds the shortest usable window.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    pub scrape_interval: Duration,
    /// Longest wait for one Prometheus query.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub query_timeout: Duration,
    /// Istio reporters to read requests from: `destination` (the server's sidecar) and
    /// `waypoint` (an ambient waypoint), comma-separated. A request both report with the same
    /// labels counts once (the destination's); requests that reached no workload are read from
    /// the client's sidecar (and the waypoint) whatever this says.
    #[arg(long, env = "SWITCHYARD_REPORTERS", value_parser = reporters, default_value = "destination,waypoint")]
    pub reporters: switchyard_console::metrics::Reporters,
}

fn reporters(text: &str) -> Result<switchyard_console::metrics::Reporters, String> {
    switchyard_console::metrics::Reporters::parse(text)
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Address to serve the console on (port 0 picks a free one; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Also write a kubeconfig for the simulated cluster here, so kubectl can join in.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Load this manifest (multi-document YAML, as for `kubectl apply -f`) into the demo
    /// namespace instead of the built-in demo/hands-on.yaml. The simulated load still goes to
    /// its service `product-composite`, when there is one.
    #[arg(long, conflicts_with = "mesh")]
    pub manifest: Option<PathBuf>,
    /// Generate a mesh of this size instead of the built-in demo:
    /// `services=N[,versions=A..B][,fanout=K][,seed=S]`, e.g. `services=340,versions=1..3`
    /// (about 1,000 graph nodes). Each service has A to B versions (subsets `old`, `new`, then
    /// `v3`…, weighted routes), calls `fanout` others (a tree), and the load enters at `gateway`.
    #[arg(long, value_name = "SPEC")]
    pub mesh: Option<switchyard_sim::generate::MeshSpec>,
    /// Write the generated mesh's manifest here too (with `--mesh`), for kubectl or a real cluster.
    #[arg(long, requires = "mesh", value_name = "PATH")]
    pub mesh_manifest_out: Option<PathBuf>,
    /// Also load the second demo namespace `hands-on-gateway` (demo/hands-on-gateway.yaml: the
    /// shop routed by Gateway API HTTPRoutes behind an ambient waypoint, with its own load), and
    /// show both namespaces.
    #[arg(long, conflicts_with = "mesh")]
    pub gateway_demo: bool,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub access: AccessArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Address of the simulated Kubernetes API (and its /metrics for Prometheus).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Write a kubeconfig (admin token) for the simulated cluster here.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Start with an empty cluster instead of the demo namespace `hands-on`.
    #[arg(long)]
    pub empty: bool,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

#[derive(Args, Debug)]
pub struct MeshArgs {
    /// Kubeconfig of the API server to watch; without it the usual inference applies.
    #[arg(long, env = "SWITCHYARD_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig (default: its current context).
    #[arg(long, env = "SWITCHYARD_CONTEXT")]
    pub context: Option<String>,
    /// Namespaces to watch (repeatable or comma-separated); the load goes into the first, and into
    /// each other that has the entry service.
    #[arg(
        long = "namespace",
        short = 'n',
        value_delimiter = ',',
        required = true,
        value_parser = namespace_name
    )]
    pub namespaces: Vec<String>,
    /// Address of the mesh's /metrics (port 0 picks a free one; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:15090")]
    pub listen: SocketAddr,
    /// The service the load generator sends to, as a pod of the first namespace names it
    /// (`name`, `name.namespace` or a full host).
    #[arg(long, default_value = "product-composite")]
    pub entry: String,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

/// A namespace name as Kubernetes accepts it: an RFC 1123 label.
fn namespace_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a namespace name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)"
        ))
    }
}

/// The simulated load generator, like Siege against the entry service.
#[derive(Args, Debug, Clone)]
pub struct TrafficArgs {
    /// Requests per second into the entry service (0 stops the load generator).
    #[arg(long, default_value_t = 20.0)]
    pub rps: f64,
    /// Share of requests (0..1) that carry `X-group: test` and so take the header route.
    #[arg(long, default_value_t = 0.0)]
    pub test_share: f64,
    /// Seed of the load generator and the mesh's random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn namespaces_are_repeatable_or_comma_separated() {
        let cli =
            Cli::try_parse_from(["switchyard", "serve", "-n", "a,b", "--namespace", "c"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.namespaces, ["a", "b", "c"]);
        assert!(Cli::try_parse_from(["switchyard", "serve"]).is_err());
    }

    #[test]
    fn mesh_takes_namespaces_and_refuses_bad_names() {
        let cli = Cli::try_parse_from([
            "switchyard",
            "mesh",
            "--kubeconfig",
            "k",
            "-n",
            "hands-on,other",
            "--rps",
            "50",
        ])
        .unwrap();
        let Command::Mesh(args) = cli.command else {
            panic!("not mesh")
        };
        assert_eq!(args.namespaces, ["hands-on", "other"]);
        assert_eq!(args.traffic.rps, 50.0);
        assert_eq!(args.entry, "product-composite");
        assert!(Cli::try_parse_from(["switchyard", "mesh"]).is_err());
        for bad in ["", "Hands-On", "-x", "a_b"] {
            let flag = format!("--namespace={bad}");
            let err = Cli::try_parse_from(["switchyard", "mesh", flag.as_str()]).unwrap_err();
            assert!(
                err.to_string().contains("is not a namespace name"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn durations_read_like_people_write_them() {
        let cli = Cli::try_parse_from(["switchyard", "demo", "--refresh", "2s", "--window", "1m"])
            .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not demo")
        };
        assert_eq!(args.metrics.refresh, Some(Duration::from_secs(2)));
        assert_eq!(args.metrics.window, Some(Duration::from_secs(60)));
        assert_eq!(
            args.metrics.windows,
            [60, 300, 900].map(Duration::from_secs).to_vec()
        );
        let Command::Demo(args) =
            Cli::try_parse_from(["switchyard", "demo", "--windows", "2m,10m"])
                .unwrap()
                .command
        else {
            panic!("demo");
        };
        assert_eq!(
            args.metrics.windows,
            [120, 600].map(Duration::from_secs).to_vec()
        );
        assert!(Cli::try_parse_from(["switchyard", "demo", "--windows", "1m,later"]).is_err());
        assert!(Cli::try_parse_from(["switchyard", "demo", "--window", "soon"]).is_err());
    }

    #[test]
    fn allowed_hosts_are_repeatable_on_serve_and_demo() {
        let cli = Cli::try_parse_from([
            "switchyard",
            "serve",
            "-n",
            "a",
            "--allowed-host",
            "console.example.com",
            "--allowed-host=proxy.example:8443,other.example",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(
            args.access.allowed_hosts,
            ["console.example.com", "proxy.example:8443", "other.example"]
        );
        let cli = Cli::try_parse_from(["switchyard", "demo", "--allowed-host", "*"]).unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not demo")
        };
        assert_eq!(args.access.allowed_hosts, ["*"]);
    }

    #[test]
    fn the_demo_takes_a_manifest_and_subset_names() {
        let cli = Cli::try_parse_from([
            "switchyard",
            "demo",
            "--manifest",
            "blue-green.yaml",
            "--old-subset",
            "blue",
            "--new-subset",
            "green",
        ])
        .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not demo")
        };
        assert_eq!(args.manifest, Some(PathBuf::from("blue-green.yaml")));
        assert_eq!(
            (
                args.access.old_subset.as_str(),
                args.access.new_subset.as_str()
            ),
            ("blue", "green")
        );
        let cli = Cli::try_parse_from(["switchyard", "demo"]).unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not demo")
        };
        assert_eq!(args.manifest, None);
        assert_eq!(args.mesh, None);
        assert_eq!(
            (
                args.access.old_subset.as_str(),
                args.access.new_subset.as_str()
            ),
            ("old", "new")
        );
    }

    #[test]
    fn reporters_and_backend_suffixes_have_defaults_and_refuse_nonsense() {
        use switchyard_console::metrics::Reporters;
        let Command::Demo(args) = Cli::try_parse_from(["switchyard", "demo"]).unwrap().command
        else {
            panic!("demo");
        };
        assert_eq!(args.metrics.reporters, Reporters::default());
        assert!(!args.gateway_demo);
        assert_eq!(
            (
                args.access.old_backend_suffix.as_str(),
                args.access.new_backend_suffix.as_str()
            ),
            ("v1", "v2")
        );
        let Command::Serve(args) = Cli::try_parse_from([
            "switchyard",
            "serve",
            "-n",
            "a",
            "--reporters",
            "destination",
            "--old-backend-suffix",
            "blue",
            "--new-backend-suffix",
            "green",
        ])
        .unwrap()
        .command
        else {
            panic!("serve");
        };
        assert_eq!(args.metrics.reporters, Reporters::destination_only());
        assert_eq!(args.access.new_backend_suffix, "green");
        let err = Cli::try_parse_from(["switchyard", "serve", "-n", "a", "--reporters", "ztunnel"])
            .unwrap_err();
        assert!(err.to_string().contains("unknown reporter"), "{err}");
        let both = [
            "switchyard",
            "demo",
            "--gateway-demo",
            "--mesh",
            "services=3",
        ];
        assert!(Cli::try_parse_from(both).is_err());
    }

    #[test]
    fn the_demo_generates_a_mesh_from_a_spec_and_refuses_bad_ones() {
        let cli =
            Cli::try_parse_from(["switchyard", "demo", "--mesh", "services=340,versions=1..3"])
                .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("not demo")
        };
        let spec = args.mesh.unwrap();
        assert_eq!((spec.services, spec.versions), (340, (1, 3)));
        for bad in [
            "services=0",
            "versions=1..3",
            "services=10,versions=5..2",
            "nodes=9",
        ] {
            let err = Cli::try_parse_from(["switchyard", "demo", "--mesh", bad]).unwrap_err();
            assert!(err.to_string().contains("mesh spec"), "{bad}: {err}");
        }
        let both = [
            "switchyard",
            "demo",
            "--mesh",
            "services=3",
            "--manifest",
            "x.yaml",
        ];
        assert!(Cli::try_parse_from(both).is_err());
        assert!(
            Cli::try_parse_from(["switchyard", "demo", "--mesh-manifest-out", "m.yaml"]).is_err()
        );
    }
}
