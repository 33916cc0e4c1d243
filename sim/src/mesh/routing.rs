//! Istio routing semantics over a compiled topology: route matching, weighted destinations,
//! faults, subsets without endpoints, and what each proxy records. Pure given an RNG and a sink.
//!
//! Which proxy routes a hop and reports it (`docs/istio-routing.md`, "Ambient mode"): a Service
//! with a waypoint is routed by the waypoint (its report is `reporter="waypoint"`), for clients in
//! the mesh and, with `istio.io/ingress-use-waypoint`, from outside; otherwise a client's sidecar
//! routes and reports `reporter="source"`. A client in ambient mode has no sidecar: without a
//! waypoint nothing routes its request at L7 (any ready pod serves it). The server's sidecar
//! reports `reporter="destination"` unless the server is in ambient mode.

use super::metrics::{
    PeerId, Record, Reporter, ResponseFlags, Security, SeriesKey, ServiceId, Sink,
};
use super::topology::{Action, HttpRoute, RequestMatch, Routing, Target, Topology};
use rand::Rng;

/// Calls nested deeper than this are not made, so a cycle in the calls annotations ends.
pub const MAX_DEPTH: usize = 8;

/// A request's headers. Pseudo-headers (`:path`, `:method`, `:authority`) describe only the
/// request that carries them: the entry request may set them; calls a workload makes do not
/// inherit them (they get `/`, `GET` and the called service's name), but ordinary headers are
/// propagated as an application that forwards its request headers would.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub headers: &'a [(String, String)],
    pub pseudo: bool,
}

impl<'a> Request<'a> {
    /// Header names match case-insensitively, as in HTTP.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        if name.starts_with(':') && !self.pseudo {
            return None;
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn propagated(self) -> Request<'a> {
        Request {
            headers: self.headers,
            pseudo: false,
        }
    }
}

/// What the caller of one hop saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopResult {
    /// HTTP status; 0 when no response (the connection could not be made).
    pub status: u16,
    pub flags: ResponseFlags,
    pub duration_us: u64,
    /// The workload that served the request (index into the topology), if any did.
    pub served_by: Option<usize>,
}

impl HopResult {
    /// What an application treats as a failed call: no response or an error status.
    fn failed(self) -> bool {
        self.status == 0 || self.status >= 400
    }
}

/// The client of a hop: a workload (with a sidecar, or in ambient mode), or a client outside
/// the mesh.
#[derive(Clone, Copy)]
enum Client {
    Outside,
    Workload(usize),
}

/// What a client-side proxy of a hop reports as (the one that applies the routes).
#[derive(Clone, Copy)]
struct Proxy {
    reporter: Reporter,
    source: PeerId,
}

/// One simulated request tree.
pub struct Walk<'t, R, S> {
    pub topology: &'t Topology,
    pub rng: &'t mut R,
    pub sink: &'t mut S,
}

impl<R: Rng, S: Sink> Walk<'_, R, S> {
    /// A request from a client outside the mesh (no sidecar): kube-proxy picks any ready pod of
    /// the service, no VirtualService applies, and only the destination sidecar reports it,
    /// with unknown source labels and `connection_security_policy="none"`.
    pub fn from_outside(&mut self, service: usize, request: Request) -> HopResult {
        self.hop(Client::Outside, service, request, 0)
    }

    fn hop(&mut self, client: Client, service: usize, request: Request, depth: usize) -> HopResult {
        let topology = self.topology;
        let Some(svc) = topology.services.get(service) else {
            return no_connection();
        };
        let source_peer = match client {
            Client::Outside => PeerId::UNKNOWN,
            Client::Workload(w) => topology.workloads[w].peer,
        };
        let ambient_client = matches!(client, Client::Workload(w) if topology.workloads[w].ambient);
        let proxy =
            if svc.waypoint && (matches!(client, Client::Workload(_)) || svc.ingress_waypoint) {
                Some(Proxy {
                    reporter: Reporter::Waypoint,
                    source: source_peer,
                })
            } else if matches!(client, Client::Workload(_)) && !ambient_client {
                Some(Proxy {
                    reporter: Reporter::Source,
                    source: source_peer,
                })
            } else {
                None
            };
        let Some(proxy) = proxy else {
            // No L7 proxy on the way: kube-proxy (or ztunnel) picks any ready pod, no route
            // applies, and only the server's sidecar (if it has one) reports.
            let Some(workload) = self.pick(&svc.endpoints) else {
                return no_connection();
            };
            let (status, duration_us) = self.serve(workload, request, depth);
            if !topology.workloads[workload].ambient {
                self.sink.record(Record {
                    key: SeriesKey {
                        reporter: Reporter::Destination,
                        source: source_peer,
                        destination: topology.workloads[workload].peer,
                        service: svc.labels,
                        response_code: status,
                        flags: ResponseFlags::NONE,
                        security: if ambient_client {
                            Security::MutualTls
                        } else {
                            Security::None
                        },
                    },
                    duration_us,
                });
            }
            return HopResult {
                status,
                flags: ResponseFlags::NONE,
                duration_us,
                served_by: Some(workload),
            };
        };

        let route = match &svc.routing {
            Routing::Default(target) => RouteChoice::Default(target),
            Routing::Virtual(routes) => routes
                .iter()
                .find(|r| route_matches(topology, r, client, svc.name.as_ref(), request))
                .map_or(RouteChoice::NoRoute, RouteChoice::Route),
        };
        let route = match route {
            RouteChoice::NoRoute => {
                return self.local_reply(proxy, svc.labels, 404, ResponseFlags::NR, 0);
            }
            RouteChoice::Default(target) => {
                return self.forward(proxy, target, request, depth, 0, ResponseFlags::NONE, None);
            }
            RouteChoice::Route(route) => route,
        };

        // Envoy's fault filter runs before the router: delay first, then abort.
        let mut flags = ResponseFlags::NONE;
        let mut delay_us = 0;
        if let Some((us, share)) = route.fault.delay {
            if self.roll_per_million(share) {
                delay_us = us;
                flags = flags.with(ResponseFlags::DI);
            }
        }
        if let Some((status, share)) = route.fault.abort {
            if self.roll_per_million(share) {
                let flags = flags.with(ResponseFlags::FI);
                return self.local_reply(proxy, svc.labels, status, flags, delay_us);
            }
        }
        let target = match &route.action {
            Action::Respond(status) => {
                return self.local_reply(proxy, svc.labels, *status, flags, delay_us);
            }
            Action::Forward {
                destinations,
                total,
            } => pick_weighted(destinations, *total, self.rng),
        };
        let Some(target) = target else {
            return self.local_reply(
                proxy,
                svc.labels,
                503,
                flags.with(ResponseFlags::NC),
                delay_us,
            );
        };
        // Istio does not enable route timeouts on a route that injects faults.
        let has_fault = route.fault.delay.is_some() || route.fault.abort.is_some();
        let timeout = if has_fault { None } else { route.timeout_us };
        self.forward(proxy, target, request, depth, delay_us, flags, timeout)
    }

    /// The client-side proxy (sidecar or waypoint) sends to a chosen target; the server sidecar
    /// (if reached and not in ambient mode) and that proxy both record.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        proxy: Proxy,
        target: &Target,
        request: Request,
        depth: usize,
        delay_us: u64,
        flags: ResponseFlags,
        timeout_us: Option<u64>,
    ) -> HopResult {
        let (service, endpoints) = match target {
            Target::NoCluster { service } => {
                return self.local_reply(
                    proxy,
                    *service,
                    503,
                    flags.with(ResponseFlags::NC),
                    delay_us,
                );
            }
            // Gateway API: the share of an invalid backend is answered 500.
            Target::Invalid { service } => {
                return self.local_reply(proxy, *service, 500, flags, delay_us);
            }
            Target::Endpoints { service, endpoints } => (*service, endpoints),
        };
        let Some(workload) = self.pick(endpoints) else {
            return self.local_reply(proxy, service, 503, flags.with(ResponseFlags::UH), delay_us);
        };
        let (served_status, served_us) = self.serve(workload, request, depth);
        let destination = self.topology.workloads[workload].peer;
        if !self.topology.workloads[workload].ambient {
            self.sink.record(Record {
                key: SeriesKey {
                    reporter: Reporter::Destination,
                    source: proxy.source,
                    destination,
                    service,
                    response_code: served_status,
                    flags: ResponseFlags::NONE,
                    security: Security::MutualTls,
                },
                duration_us: served_us,
            });
        }
        let mut result = HopResult {
            status: served_status,
            flags,
            duration_us: delay_us + served_us,
            served_by: Some(workload),
        };
        if let Some(timeout) = timeout_us {
            if result.duration_us > timeout {
                result.status = 504;
                result.flags = result.flags.with(ResponseFlags::UT);
                result.duration_us = timeout;
            }
        }
        self.sink.record(Record {
            key: SeriesKey {
                reporter: proxy.reporter,
                source: proxy.source,
                destination,
                service,
                response_code: result.status,
                flags: result.flags,
                security: proxy_security(proxy),
            },
            duration_us: result.duration_us,
        });
        result
    }

    /// The client-side proxy answers without reaching a workload: only it reports, with unknown
    /// destination workload labels (docs/istio-routing.md, Metrics).
    fn local_reply(
        &mut self,
        proxy: Proxy,
        service: ServiceId,
        status: u16,
        flags: ResponseFlags,
        duration_us: u64,
    ) -> HopResult {
        self.sink.record(Record {
            key: SeriesKey {
                reporter: proxy.reporter,
                source: proxy.source,
                destination: PeerId::UNKNOWN,
                service,
                response_code: status,
                flags,
                security: proxy_security(proxy),
            },
            duration_us,
        });
        HopResult {
            status,
            flags,
            duration_us,
            served_by: None,
        }
    }

    /// A workload handles a request: it makes its calls concurrently (its latency is its own plus
    /// the slowest call), fails at its own error rate, and otherwise answers 500 if a call got no
    /// response or an error status (4xx/5xx), 200 if all went well.
    fn serve(&mut self, workload: usize, request: Request, depth: usize) -> (u16, u64) {
        let topology = self.topology;
        let w = &topology.workloads[workload];
        let mut slowest_us = 0;
        let mut call_failed = false;
        if depth < MAX_DEPTH {
            for service in &w.calls {
                let result = self.hop(
                    Client::Workload(workload),
                    *service,
                    request.propagated(),
                    depth + 1,
                );
                slowest_us = slowest_us.max(result.duration_us);
                call_failed |= result.failed();
            }
        }
        let b = &w.behaviour;
        let own_ms = if b.latency_sigma > 0.0 {
            (b.latency_mu + b.latency_sigma * standard_normal(self.rng)).exp()
        } else {
            b.latency_mu.exp()
        };
        let own_us = (own_ms * 1000.0).round() as u64;
        let own_error = b.error_rate > 0.0 && self.rng.random::<f64>() < b.error_rate;
        let status = if own_error {
            b.error_code
        } else if call_failed {
            500
        } else {
            200
        };
        (status, own_us + slowest_us)
    }

    fn pick(&mut self, endpoints: &[usize]) -> Option<usize> {
        match endpoints.len() {
            0 => None,
            1 => Some(endpoints[0]),
            n => Some(endpoints[self.rng.random_range(0..n)]),
        }
    }

    fn roll_per_million(&mut self, share: u32) -> bool {
        match share {
            0 => false,
            1_000_000.. => true,
            _ => self.rng.random_range(0..1_000_000) < share,
        }
    }
}

/// `connection_security_policy` of a client-side report: `unknown` from a sidecar (Istio's
/// source reporter never knows), `mutual_tls` from a waypoint (HBONE) for a client in the mesh.
fn proxy_security(proxy: Proxy) -> Security {
    match proxy.reporter {
        Reporter::Waypoint if proxy.source != PeerId::UNKNOWN => Security::MutualTls,
        Reporter::Waypoint => Security::None,
        _ => Security::Unknown,
    }
}

enum RouteChoice<'t> {
    Default(&'t Target),
    Route(&'t HttpRoute),
    NoRoute,
}

fn no_connection() -> HopResult {
    HopResult {
        status: 0,
        flags: ResponseFlags::UF,
        duration_us: 0,
        served_by: None,
    }
}

/// Picks destination i with probability `w_i / total` (zero weights were dropped at compile).
pub(crate) fn pick_weighted<'d, R: Rng>(
    destinations: &'d [(u32, Target)],
    total: u32,
    rng: &mut R,
) -> Option<&'d Target> {
    match destinations {
        [] => None,
        [(_, only)] => Some(only),
        _ => {
            let mut ticket = rng.random_range(0..total.max(1));
            for (weight, target) in destinations {
                if ticket < *weight {
                    return Some(target);
                }
                ticket -= weight;
            }
            destinations.last().map(|(_, t)| t)
        }
    }
}

/// A route applies when its match list is empty or any entry holds.
fn route_matches(
    topology: &Topology,
    route: &HttpRoute,
    client: Client,
    service_name: &str,
    request: Request,
) -> bool {
    route.matches.is_empty()
        || route
            .matches
            .iter()
            .any(|m| request_matches_from(topology, m, client, service_name, request))
}

#[cfg(test)]
pub(crate) fn request_matches(
    topology: &Topology,
    m: &RequestMatch,
    client: usize,
    service_name: &str,
    request: Request,
) -> bool {
    request_matches_from(topology, m, Client::Workload(client), service_name, request)
}

/// A match from `client`; a client outside the mesh (through an ingress waypoint) has no labels
/// or namespace, so a match on them does not hold.
fn request_matches_from(
    topology: &Topology,
    m: &RequestMatch,
    client: Client,
    service_name: &str,
    request: Request,
) -> bool {
    if !m.applies_to_mesh {
        return false;
    }
    let headers_hold = m
        .headers
        .iter()
        .all(|(name, want)| request.header(name).is_some_and(|v| want.matches(v, false)));
    // withoutHeaders: the route applies when the header is absent or does not match.
    let without_hold = m
        .without_headers
        .iter()
        .all(|(name, want)| !request.header(name).is_some_and(|v| want.matches(v, false)));
    if !(headers_hold && without_hold) {
        return false;
    }
    let full_path = request.header(":path").unwrap_or("/");
    let (path, query) = full_path.split_once('?').unwrap_or((full_path, ""));
    if let Some(uri) = &m.uri {
        // Envoy matches the path with the query string removed.
        if !uri.matches(path, m.ignore_uri_case) {
            return false;
        }
    }
    if let Some(method) = &m.method {
        if !method.matches(request.header(":method").unwrap_or("GET"), false) {
            return false;
        }
    }
    if let Some(authority) = &m.authority {
        let host = request
            .header(":authority")
            .or_else(|| request.header("host"))
            .unwrap_or(service_name);
        if !authority.matches(host, false) {
            return false;
        }
    }
    for (name, want) in &m.query_params {
        let value = query
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v);
        if !value.is_some_and(|v| want.matches(v, false)) {
            return false;
        }
    }
    let Client::Workload(client) = client else {
        return m.source_namespace.is_none() && m.source_labels.is_empty();
    };
    let w = &topology.workloads[client];
    if let Some(ns) = &m.source_namespace {
        if w.namespace.as_ref() != ns {
            return false;
        }
    }
    m.source_labels
        .iter()
        .all(|(k, v)| topology.workload_label(client, k) == Some(v.as_str()))
}

/// A standard normal sample (Box–Muller); enough precision for simulated latency.
fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    // 1 - u keeps the logarithm's argument in (0, 1].
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
