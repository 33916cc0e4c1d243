//! Istio-shaped request metrics of the simulated sidecars: lock-light counters keyed by interned
//! label sets, a structural snapshot, and the Prometheus text exposition (format 0.0.4) of
//! `istio_requests_total` and `istio_request_duration_milliseconds`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Envoy's default histogram bounds (ms) used by every Istio histogram (docs/istio-routing.md).
pub const DURATION_BUCKETS_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// The same bounds in microseconds: durations are recorded in µs so the hot path stays integer.
const DURATION_BUCKETS_US: [u64; 19] = [
    500,
    1_000,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    300_000_000,
    600_000_000,
    1_800_000_000,
    3_600_000_000,
];

/// Which proxy reported a request (`reporter` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reporter {
    Source,
    Destination,
    /// An ambient waypoint proxy, which routed the request.
    Waypoint,
}

impl Reporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
            Reporter::Waypoint => "waypoint",
        }
    }
}

/// `connection_security_policy`: what the destination proxy saw; the source proxy always says
/// `unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Security {
    Unknown,
    None,
    MutualTls,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Unknown => "unknown",
            Security::None => "none",
            Security::MutualTls => "mutual_tls",
        }
    }
}

/// Envoy response flags as a bit set; rendered in Envoy's order, comma-joined, `-` when empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResponseFlags(u16);

impl ResponseFlags {
    pub const NONE: ResponseFlags = ResponseFlags(0);
    /// No healthy upstream: the chosen cluster has no endpoints.
    pub const UH: ResponseFlags = ResponseFlags(1);
    /// Upstream request timeout (route `timeout`).
    pub const UT: ResponseFlags = ResponseFlags(1 << 1);
    /// Upstream connection failure (used for entry requests a kube-proxy could not place).
    pub const UF: ResponseFlags = ResponseFlags(1 << 2);
    /// No route matched the request.
    pub const NR: ResponseFlags = ResponseFlags(1 << 3);
    /// Fault delay injected.
    pub const DI: ResponseFlags = ResponseFlags(1 << 4);
    /// Fault abort injected.
    pub const FI: ResponseFlags = ResponseFlags(1 << 5);
    /// The route names a cluster (host/subset) that does not exist.
    pub const NC: ResponseFlags = ResponseFlags(1 << 6);

    /// Envoy's `toShortString` order (its flag enum order).
    const ORDER: [(ResponseFlags, &'static str); 7] = [
        (ResponseFlags::UH, "UH"),
        (ResponseFlags::UT, "UT"),
        (ResponseFlags::UF, "UF"),
        (ResponseFlags::NR, "NR"),
        (ResponseFlags::DI, "DI"),
        (ResponseFlags::FI, "FI"),
        (ResponseFlags::NC, "NC"),
    ];

    pub fn contains(self, other: ResponseFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn with(self, other: ResponseFlags) -> ResponseFlags {
        ResponseFlags(self.0 | other.0)
    }
}

impl std::fmt::Display for ResponseFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let mut first = true;
        for (flag, name) in ResponseFlags::ORDER {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The labels that describe one side of a request (`source_*` or `destination_*`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerLabels {
    pub workload: Arc<str>,
    pub namespace: Arc<str>,
    pub principal: Arc<str>,
    pub app: Arc<str>,
    pub version: Arc<str>,
    pub canonical_service: Arc<str>,
    pub canonical_revision: Arc<str>,
    pub cluster: Arc<str>,
}

impl PeerLabels {
    /// A peer the proxy knows nothing about: a client outside the mesh, or an upstream that was
    /// never reached.
    pub fn unknown() -> Self {
        let u: Arc<str> = Arc::from("unknown");
        PeerLabels {
            workload: u.clone(),
            namespace: u.clone(),
            principal: u.clone(),
            app: u.clone(),
            version: u.clone(),
            canonical_service: u.clone(),
            canonical_revision: u.clone(),
            cluster: u,
        }
    }
}

/// The `destination_service*` labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceLabels {
    /// FQDN, e.g. `review.hands-on.svc.cluster.local`.
    pub service: Arc<str>,
    pub name: Arc<str>,
    pub namespace: Arc<str>,
}

impl ServiceLabels {
    /// Labels for a host: `name.ns.svc.cluster.local` splits into name and namespace; any other
    /// host keeps itself as name and `unknown` namespace, as Istio does for non-service hosts.
    pub fn for_host(fqdn: &str) -> Self {
        let parts: Vec<&str> = fqdn.split('.').collect();
        let (name, namespace) = match parts.as_slice() {
            [name, ns, "svc", ..] => (*name, *ns),
            _ => (fqdn, "unknown"),
        };
        ServiceLabels {
            service: Arc::from(fqdn),
            name: Arc::from(name),
            namespace: Arc::from(namespace),
        }
    }
}

/// Index of an interned [`PeerLabels`]; 0 is the unknown peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(u32);

impl PeerId {
    pub const UNKNOWN: PeerId = PeerId(0);
}

/// Index of an interned [`ServiceLabels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(u32);

/// Everything that distinguishes one series from another, as small integers: hashing it is cheap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub reporter: Reporter,
    pub source: PeerId,
    pub destination: PeerId,
    pub service: ServiceId,
    pub response_code: u16,
    pub flags: ResponseFlags,
    pub security: Security,
}

/// One request as one proxy saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub key: SeriesKey,
    pub duration_us: u64,
}

/// Receives the records of a simulated request: the registry in production, a Vec in tests.
pub trait Sink {
    fn record(&mut self, record: Record);
}

impl Sink for Vec<Record> {
    fn record(&mut self, record: Record) {
        self.push(record);
    }
}

impl Sink for &Registry {
    fn record(&mut self, record: Record) {
        Registry::record(self, record);
    }
}

/// Counters of one series. Buckets are per-bucket counts (the last is `+Inf` only); exposition
/// makes them cumulative, and their total is the request count, so no separate counter is kept.
#[derive(Default)]
struct Cell {
    sum_us: AtomicU64,
    buckets: [AtomicU64; 20],
}

impl Cell {
    fn add(&self, duration_us: u64) {
        let bucket = DURATION_BUCKETS_US
            .iter()
            .position(|bound| duration_us <= *bound)
            .unwrap_or(DURATION_BUCKETS_US.len());
        // Relaxed is enough: each counter is independent and a scrape needs no cross-counter
        // ordering (Envoy's own stats are not atomic across counters either).
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(duration_us, Ordering::Relaxed);
    }
}

/// Value interning: equal label sets get the same id forever, so counters survive topology
/// rebuilds and a workload that comes back continues its series (as a scrape would see it).
struct Interner<T> {
    ids: HashMap<T, u32>,
    values: Vec<T>,
}

impl<T: Clone + Eq + Hash> Interner<T> {
    fn new() -> Self {
        Interner {
            ids: HashMap::new(),
            values: Vec::new(),
        }
    }

    fn intern(&mut self, value: T) -> u32 {
        if let Some(id) = self.ids.get(&value) {
            return *id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.clone());
        self.ids.insert(value, id);
        id
    }
}

/// All series of the simulated mesh. Recording takes a shared lock and a few atomic adds; only
/// the first request of a new series takes the write lock.
pub struct Registry {
    peers: RwLock<Interner<PeerLabels>>,
    services: RwLock<Interner<ServiceLabels>>,
    series: RwLock<HashMap<SeriesKey, Arc<Cell>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

// Poisoning cannot leave these maps half-written (each write is one insert), so a poisoned lock
// is still consistent and recovering keeps metrics flowing after an unrelated panic.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    pub fn new() -> Self {
        let mut peers = Interner::new();
        let unknown = peers.intern(PeerLabels::unknown());
        debug_assert_eq!(unknown, PeerId::UNKNOWN.0);
        Registry {
            peers: RwLock::new(peers),
            services: RwLock::new(Interner::new()),
            series: RwLock::new(HashMap::new()),
        }
    }

    pub fn peer_id(&self, peer: PeerLabels) -> PeerId {
        PeerId(write(&self.peers).intern(peer))
    }

    pub fn service_id(&self, service: ServiceLabels) -> ServiceId {
        ServiceId(write(&self.services).intern(service))
    }

    pub fn record(&self, record: Record) {
        // Common case: the series exists; count under the shared lock, no Arc traffic.
        if let Some(cell) = read(&self.series).get(&record.key) {
            cell.add(record.duration_us);
            return;
        }
        write(&self.series)
            .entry(record.key)
            .or_default()
            .add(record.duration_us);
    }

    /// Every series with its labels resolved, ordered by labels (stable output).
    pub fn snapshot(&self) -> Vec<Series> {
        let cells: Vec<(SeriesKey, Arc<Cell>)> = read(&self.series)
            .iter()
            .map(|(k, c)| (*k, c.clone()))
            .collect();
        let peers = read(&self.peers);
        let services = read(&self.services);
        let unknown_peer = PeerLabels::unknown();
        let unknown_service = ServiceLabels::for_host("unknown");
        let mut out: Vec<Series> = cells
            .into_iter()
            .map(|(key, cell)| {
                let source = peers
                    .values
                    .get(key.source.0 as usize)
                    .unwrap_or(&unknown_peer);
                let destination = peers
                    .values
                    .get(key.destination.0 as usize)
                    .unwrap_or(&unknown_peer);
                let service = services
                    .values
                    .get(key.service.0 as usize)
                    .unwrap_or(&unknown_service);
                let mut cumulative = 0;
                let mut buckets = Vec::with_capacity(DURATION_BUCKETS_MS.len() + 1);
                for (i, le) in DURATION_BUCKETS_MS
                    .iter()
                    .copied()
                    .chain(std::iter::once(f64::INFINITY))
                    .enumerate()
                {
                    cumulative += cell.buckets[i].load(Ordering::Relaxed);
                    buckets.push((le, cumulative));
                }
                // Buckets are read one by one while requests may be landing: report the count as
                // the +Inf bucket so the exposition is always self-consistent (`+Inf` == count).
                Series {
                    labels: SeriesLabels::new(&key, source, destination, service),
                    requests: cumulative,
                    duration_sum_ms: cell.sum_us.load(Ordering::Relaxed) as f64 / 1000.0,
                    duration_buckets: buckets,
                }
            })
            .collect();
        out.sort_by(|a, b| a.labels.pairs().cmp(&b.labels.pairs()));
        out
    }

    /// The exposition a Prometheus scrape reads.
    pub fn render(&self) -> String {
        render(&self.snapshot())
    }
}

/// The standard Istio label set of one series, as strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesLabels {
    pub reporter: String,
    pub source_workload: String,
    pub source_canonical_service: String,
    pub source_canonical_revision: String,
    pub source_workload_namespace: String,
    pub source_principal: String,
    pub source_app: String,
    pub source_version: String,
    pub source_cluster: String,
    pub destination_workload: String,
    pub destination_workload_namespace: String,
    pub destination_principal: String,
    pub destination_app: String,
    pub destination_version: String,
    pub destination_service: String,
    pub destination_canonical_service: String,
    pub destination_canonical_revision: String,
    pub destination_service_name: String,
    pub destination_service_namespace: String,
    pub destination_cluster: String,
    pub request_protocol: String,
    pub response_code: String,
    pub grpc_response_status: String,
    pub response_flags: String,
    pub connection_security_policy: String,
}

impl SeriesLabels {
    fn new(
        key: &SeriesKey,
        source: &PeerLabels,
        destination: &PeerLabels,
        service: &ServiceLabels,
    ) -> Self {
        SeriesLabels {
            reporter: key.reporter.as_str().to_owned(),
            source_workload: source.workload.to_string(),
            source_canonical_service: source.canonical_service.to_string(),
            source_canonical_revision: source.canonical_revision.to_string(),
            source_workload_namespace: source.namespace.to_string(),
            source_principal: source.principal.to_string(),
            source_app: source.app.to_string(),
            source_version: source.version.to_string(),
            source_cluster: source.cluster.to_string(),
            destination_workload: destination.workload.to_string(),
            destination_workload_namespace: destination.namespace.to_string(),
            destination_principal: destination.principal.to_string(),
            destination_app: destination.app.to_string(),
            destination_version: destination.version.to_string(),
            destination_service: service.service.to_string(),
            destination_canonical_service: destination.canonical_service.to_string(),
            destination_canonical_revision: destination.canonical_revision.to_string(),
            destination_service_name: service.name.to_string(),
            destination_service_namespace: service.namespace.to_string(),
            destination_cluster: destination.cluster.to_string(),
            request_protocol: "http".to_owned(),
            response_code: key.response_code.to_string(),
            // Istio sets it on every HTTP series, empty for plain HTTP.
            grpc_response_status: String::new(),
            response_flags: key.flags.to_string(),
            connection_security_policy: key.security.as_str().to_owned(),
        }
    }

    /// Name/value pairs in the order Istio's sidecars print them.
    pub fn pairs(&self) -> [(&'static str, &str); 25] {
        [
            ("reporter", &self.reporter),
            ("source_workload", &self.source_workload),
            ("source_canonical_service", &self.source_canonical_service),
            ("source_canonical_revision", &self.source_canonical_revision),
            ("source_workload_namespace", &self.source_workload_namespace),
            ("source_principal", &self.source_principal),
            ("source_app", &self.source_app),
            ("source_version", &self.source_version),
            ("source_cluster", &self.source_cluster),
            ("destination_workload", &self.destination_workload),
            (
                "destination_workload_namespace",
                &self.destination_workload_namespace,
            ),
            ("destination_principal", &self.destination_principal),
            ("destination_app", &self.destination_app),
            ("destination_version", &self.destination_version),
            ("destination_service", &self.destination_service),
            (
                "destination_canonical_service",
                &self.destination_canonical_service,
            ),
            (
                "destination_canonical_revision",
                &self.destination_canonical_revision,
            ),
            ("destination_service_name", &self.destination_service_name),
            (
                "destination_service_namespace",
                &self.destination_service_namespace,
            ),
            ("destination_cluster", &self.destination_cluster),
            ("request_protocol", &self.request_protocol),
            ("response_code", &self.response_code),
            ("grpc_response_status", &self.grpc_response_status),
            ("response_flags", &self.response_flags),
            (
                "connection_security_policy",
                &self.connection_security_policy,
            ),
        ]
    }

    /// One label's value by its Prometheus name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// One series of both metric families: `istio_requests_total` is `requests`, the histogram is
/// `duration_*`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: SeriesLabels,
    pub requests: u64,
    pub duration_sum_ms: f64,
    /// `(le, cumulative count)`, the Envoy bounds then `+Inf` (as `f64::INFINITY`).
    pub duration_buckets: Vec<(f64, u64)>,
}

/// Escapes a label value as the text format requires: backslash, double quote, newline.
pub fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn write_labels(labels: &SeriesLabels, le: Option<&str>, out: &mut String) {
    out.push('{');
    for (i, (name, value)) in labels.pairs().into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_label_value(value, out);
        out.push('"');
    }
    if let Some(le) = le {
        out.push_str(",le=\"");
        out.push_str(le);
        out.push('"');
    }
    out.push('}');
}

/// `le` as Envoy prints it: fixed point, no exponent, no trailing `.0`.
fn format_le(le: f64) -> String {
    if le.is_infinite() {
        "+Inf".to_owned()
    } else {
        format!("{le}")
    }
}

/// Prometheus text format 0.0.4, shaped like an Envoy sidecar's: one `# TYPE` per family, no
/// `# HELP`, cumulative buckets with `+Inf` equal to `_count`.
pub fn render(series: &[Series]) -> String {
    let mut out = String::with_capacity(256 + series.len() * 24 * 700);
    out.push_str("# TYPE istio_requests_total counter\n");
    for s in series {
        out.push_str("istio_requests_total");
        write_labels(&s.labels, None, &mut out);
        let _ = writeln!(out, " {}", s.requests);
    }
    out.push_str("# TYPE istio_request_duration_milliseconds histogram\n");
    for s in series {
        for (le, count) in &s.duration_buckets {
            out.push_str("istio_request_duration_milliseconds_bucket");
            write_labels(&s.labels, Some(&format_le(*le)), &mut out);
            let _ = writeln!(out, " {count}");
        }
        out.push_str("istio_request_duration_milliseconds_sum");
        write_labels(&s.labels, None, &mut out);
        let _ = writeln!(out, " {}", s.duration_sum_ms);
        out.push_str("istio_request_duration_milliseconds_count");
        write_labels(&s.labels, None, &mut out);
        let _ = writeln!(out, " {}", s.requests);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(workload: &str, ns: &str, app: &str, version: &str) -> PeerLabels {
        PeerLabels {
            workload: workload.into(),
            namespace: ns.into(),
            principal: format!("spiffe://cluster.local/ns/{ns}/sa/default").into(),
            app: app.into(),
            version: version.into(),
            canonical_service: app.into(),
            canonical_revision: version.into(),
            cluster: "Kubernetes".into(),
        }
    }

    fn key(registry: &Registry, code: u16, flags: ResponseFlags) -> SeriesKey {
        SeriesKey {
            reporter: Reporter::Destination,
            source: registry.peer_id(peer(
                "product-composite-v1",
                "hands-on",
                "product-composite",
                "v1",
            )),
            destination: registry.peer_id(peer("review-v2", "hands-on", "review", "v2")),
            service: registry
                .service_id(ServiceLabels::for_host("review.hands-on.svc.cluster.local")),
            response_code: code,
            flags,
            security: Security::MutualTls,
        }
    }

    #[test]
    fn flags_render_in_envoy_order() {
        let cases = [
            (ResponseFlags::NONE, "-"),
            (ResponseFlags::UH, "UH"),
            (ResponseFlags::FI.with(ResponseFlags::DI), "DI,FI"),
            (ResponseFlags::NC, "NC"),
        ];
        for (flags, want) in cases {
            assert_eq!(flags.to_string(), want);
        }
    }

    #[test]
    fn service_labels_split_fqdn() {
        let s = ServiceLabels::for_host("review.hands-on.svc.cluster.local");
        assert_eq!((&*s.name, &*s.namespace), ("review", "hands-on"));
        let ext = ServiceLabels::for_host("api.example.com");
        assert_eq!(
            (&*ext.name, &*ext.namespace),
            ("api.example.com", "unknown")
        );
    }

    #[test]
    fn interning_is_by_value() {
        let registry = Registry::new();
        let a = registry.peer_id(peer("a", "ns", "a", "v1"));
        let b = registry.peer_id(peer("b", "ns", "b", "v1"));
        assert_ne!(a, b);
        assert_eq!(a, registry.peer_id(peer("a", "ns", "a", "v1")));
        assert_eq!(registry.peer_id(PeerLabels::unknown()), PeerId::UNKNOWN);
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_count() {
        let registry = Registry::new();
        let k = key(&registry, 200, ResponseFlags::NONE);
        // 0.3 ms, exactly 1 ms (le is inclusive), 7 ms, 2 h (beyond the last finite bound).
        for us in [300, 1_000, 7_000, 7_200_000_000] {
            registry.record(Record {
                key: k,
                duration_us: us,
            });
        }
        let snap = registry.snapshot();
        assert_eq!(snap.len(), 1);
        let s = &snap[0];
        assert_eq!(s.requests, 4);
        let counts: Vec<u64> = s.duration_buckets.iter().map(|(_, c)| *c).collect();
        assert_eq!(&counts[..4], &[1, 2, 2, 3]);
        assert_eq!(counts[18], 3, "le=3600000 excludes the 2 h request");
        assert_eq!(counts[19], 4, "+Inf equals the count");
        assert!(counts.windows(2).all(|w| w[0] <= w[1]));
        assert!((s.duration_sum_ms - 7_200_008.3).abs() < 1e-6);
    }

    #[test]
    fn exposition_has_types_full_labels_and_envoy_le_format() {
        let registry = Registry::new();
        registry.record(Record {
            key: key(&registry, 503, ResponseFlags::UH),
            duration_us: 2_500,
        });
        let text = registry.render();
        assert!(text.starts_with("# TYPE istio_requests_total counter\n"));
        assert!(text.contains("# TYPE istio_request_duration_milliseconds histogram\n"));
        assert_eq!(text.matches("# TYPE").count(), 2);
        assert!(!text.contains("# HELP"));
        let counter = text
            .lines()
            .find(|l| l.starts_with("istio_requests_total{"))
            .expect("a counter line");
        for label in [
            "reporter=\"destination\"",
            "source_workload=\"product-composite-v1\"",
            "source_principal=\"spiffe://cluster.local/ns/hands-on/sa/default\"",
            "destination_service=\"review.hands-on.svc.cluster.local\"",
            "destination_service_name=\"review\"",
            "destination_version=\"v2\"",
            "response_code=\"503\"",
            "response_flags=\"UH\"",
            "grpc_response_status=\"\"",
            "request_protocol=\"http\"",
            "connection_security_policy=\"mutual_tls\"",
            "destination_cluster=\"Kubernetes\"",
        ] {
            assert!(counter.contains(label), "{label} missing in {counter}");
        }
        assert!(counter.ends_with("} 1"));
        assert!(text.contains(",le=\"0.5\"} 0\n"));
        assert!(text.contains(",le=\"5\"} 1\n"));
        assert!(text.contains(",le=\"3600000\"} 1\n"));
        assert!(text.contains(",le=\"+Inf\"} 1\n"));
        assert!(text.contains("istio_request_duration_milliseconds_sum{"));
        assert!(text.contains("} 2.5\n"));
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("istio_request_duration_milliseconds_bucket"))
                .count(),
            20
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        escape_label_value("a\\b\"c\nd", &mut out);
        assert_eq!(out, "a\\\\b\\\"c\\nd");
    }
}
