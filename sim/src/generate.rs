//! A generated mesh of any size for the demo: `services=340,versions=1..3` becomes a manifest of
//! Services, Deployments (one per version), DestinationRules and VirtualServices (weighted
//! old/new routes, more subsets beyond two versions) whose call annotations form a tree with
//! fan-out under one entry service, `gateway`, where the load goes in.
//!
//! Deterministic: the same spec gives the same manifest, byte for byte.

use std::fmt::Write as _;
use std::str::FromStr;

/// The service the generated mesh's load enters by (the root of the call tree).
pub const ENTRY: &str = "gateway";

/// Most services a generated mesh may have.
pub const MAX_SERVICES: usize = 5000;
/// Most versions a generated service may have.
pub const MAX_VERSIONS: usize = 9;
/// Largest fan-out: each service calls at most this many others.
pub const MAX_FANOUT: usize = 50;

/// What `--mesh` asks for: `services=N[,versions=A..B][,fanout=K][,seed=S]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshSpec {
    /// Services, the entry included.
    pub services: usize,
    /// Fewest and most versions (Deployments) per service; each service draws its count.
    pub versions: (usize, usize),
    /// Services each service calls (a complete tree of this arity, breadth first).
    pub fanout: usize,
    /// Seed of the draws (versions, weights, latencies).
    pub seed: u64,
}

/// A spec the generator refuses, with the sentence to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("mesh spec {spec:?}: {reason} (expected services=N[,versions=A..B][,fanout=K][,seed=S], e.g. services=340,versions=1..3)")]
pub struct SpecError {
    spec: String,
    reason: String,
}

impl FromStr for MeshSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| SpecError {
            spec: text.to_owned(),
            reason,
        };
        let mut services = None;
        let mut versions = (1, 3);
        let mut fanout = 3;
        let mut seed = 1;
        let mut seen = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(fail(format!("{part:?} is not KEY=VALUE")));
            };
            let (key, value) = (key.trim(), value.trim());
            if seen.contains(&key) {
                return Err(fail(format!("{key} is given twice")));
            }
            seen.push(key);
            let number = |v: &str| {
                v.parse::<usize>()
                    .map_err(|_| fail(format!("{key}: {v:?} is not a whole number")))
            };
            match key {
                "services" => services = Some(number(value)?),
                "versions" => {
                    versions = match value.split_once("..") {
                        Some((a, b)) => (number(a.trim())?, number(b.trim())?),
                        None => {
                            let n = number(value)?;
                            (n, n)
                        }
                    }
                }
                "fanout" => fanout = number(value)?,
                "seed" => {
                    seed = value
                        .parse()
                        .map_err(|_| fail(format!("seed: {value:?} is not a whole number")))?
                }
                other => {
                    return Err(fail(format!(
                        "unknown key {other:?} (known: services, versions, fanout, seed)"
                    )))
                }
            }
        }
        let services = services.ok_or_else(|| fail("services=N is missing".to_owned()))?;
        if !(1..=MAX_SERVICES).contains(&services) {
            return Err(fail(format!("services must be 1..={MAX_SERVICES}")));
        }
        let (low, high) = versions;
        if low < 1 || high > MAX_VERSIONS || low > high {
            return Err(fail(format!(
                "versions must be A..B with 1 <= A <= B <= {MAX_VERSIONS}"
            )));
        }
        if !(1..=MAX_FANOUT).contains(&fanout) {
            return Err(fail(format!("fanout must be 1..={MAX_FANOUT}")));
        }
        // The mesh stops following calls deeper than routing::MAX_DEPTH; the tree must fit.
        let depth = tree_depth(services, fanout);
        if depth > crate::mesh::routing::MAX_DEPTH {
            return Err(fail(format!(
                "a tree of {services} services with fanout {fanout} is {depth} calls deep; the mesh follows at most {}: raise fanout",
                crate::mesh::routing::MAX_DEPTH
            )));
        }
        Ok(MeshSpec {
            services,
            versions,
            fanout,
            seed,
        })
    }
}

/// Levels below the root of a complete `fanout`-ary tree of `services` nodes.
fn tree_depth(services: usize, fanout: usize) -> usize {
    let (mut depth, mut index) = (0, services.saturating_sub(1));
    while index > 0 {
        index = (index - 1) / fanout;
        depth += 1;
    }
    depth
}

/// SplitMix64: a fixed, dependency-free mixer, so the manifest does not change with `rand`.
fn mix(seed: u64, i: u64, salt: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One generated service.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedService {
    pub name: String,
    /// Versions `v1`..`vN`.
    pub versions: usize,
    /// Services called for each request.
    pub calls: Vec<String>,
    /// Weights of the default route, one per version (`old`, `new`, then `v3`…); empty for a
    /// single version (no DestinationRule, no VirtualService).
    pub weights: Vec<u32>,
}

impl MeshSpec {
    /// The service names, entry first.
    fn name(&self, i: usize) -> String {
        if i == 0 {
            return ENTRY.to_owned();
        }
        let width = (self.services - 1).to_string().len().max(3);
        format!("svc-{i:0width$}")
    }

    /// Every service with its versions, calls and weights.
    pub fn services(&self) -> Vec<GeneratedService> {
        let (low, high) = self.versions;
        (0..self.services)
            .map(|i| {
                let versions =
                    low + (mix(self.seed, i as u64, 1) % (high - low + 1) as u64) as usize;
                let calls = (1..=self.fanout)
                    .map(|k| self.fanout * i + k)
                    .filter(|&child| child < self.services)
                    .map(|child| self.name(child))
                    .collect();
                GeneratedService {
                    name: self.name(i),
                    versions,
                    calls,
                    weights: weights(versions, mix(self.seed, i as u64, 2)),
                }
            })
            .collect()
    }

    /// Workloads (Deployments) the manifest holds.
    pub fn workloads(&self) -> usize {
        self.services().iter().map(|s| s.versions).sum()
    }

    /// The manifest: multi-document YAML, as for `kubectl apply -f`, without namespaces.
    pub fn manifest(&self) -> String {
        let services = self.services();
        let mut out = String::with_capacity(services.len() * 2048);
        let _ = writeln!(
            out,
            "# Generated by switchyard demo --mesh {}: {} services, {} workloads; load enters at {ENTRY}.",
            self.to_spec(),
            services.len(),
            services.iter().map(|s| s.versions).sum::<usize>()
        );
        for (i, s) in services.iter().enumerate() {
            self.write_service(&mut out, i, s);
        }
        out
    }

    /// The spec in its canonical form.
    pub fn to_spec(&self) -> String {
        let (low, high) = self.versions;
        format!(
            "services={},versions={low}..{high},fanout={},seed={}",
            self.services, self.fanout, self.seed
        )
    }

    fn write_service(&self, out: &mut String, i: usize, s: &GeneratedService) {
        let name = &s.name;
        let _ = write!(
            out,
            "---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  selector:
    app: {name}
  ports:
  - name: http
    port: 80
    targetPort: 8080
"
        );
        for v in 1..=s.versions {
            let draw = mix(self.seed, i as u64, 10 + v as u64);
            let p50 = 2 + draw % 20;
            let p95 = p50 * 3;
            // Some newer versions are worse canaries: 2 % errors on about one service in ten.
            let failing = v == 2 && mix(self.seed, i as u64, 3) % 10 == 0;
            let _ = write!(
                out,
                "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}-v{v}
  labels:
    app: {name}
    version: v{v}
  annotations:
    sim.switchyard.dev/latency: \"p50={p50}ms,p95={p95}ms\"
"
            );
            if !s.calls.is_empty() {
                let _ = writeln!(
                    out,
                    "    sim.switchyard.dev/calls: \"{}\"",
                    s.calls.join(",")
                );
            }
            if failing {
                let _ = writeln!(out, "    sim.switchyard.dev/error-rate: \"0.02\"");
            }
            let _ = write!(
                out,
                "spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
      version: v{v}
  template:
    metadata:
      labels:
        app: {name}
        version: v{v}
    spec:
      containers:
      - name: {name}
        image: generated/{name}:v{v}
        ports:
        - containerPort: 8080
"
            );
        }
        if s.versions < 2 {
            return;
        }
        let _ = write!(
            out,
            "---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}-dr
spec:
  host: {name}
  subsets:
"
        );
        for v in 1..=s.versions {
            let _ = write!(
                out,
                "  - name: {}\n    labels:\n      version: v{v}\n",
                subset(v)
            );
        }
        let _ = write!(
            out,
            "---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
spec:
  hosts:
  - {name}
  http:
  - match:
    - headers:
        x-group:
          exact: test
    route:
    - destination:
        host: {name}
        subset: new
  - route:
"
        );
        for (v, weight) in (1..=s.versions).zip(&s.weights) {
            let _ = write!(
                out,
                "    - destination:\n        host: {name}\n        subset: {}\n      weight: {weight}\n",
                subset(v)
            );
        }
    }
}

/// The subset of version `v`: `old`, `new`, then `v3`, `v4`…
fn subset(v: usize) -> String {
    match v {
        1 => "old".to_owned(),
        2 => "new".to_owned(),
        _ => format!("v{v}"),
    }
}

/// Default-route weights for `versions` versions: two versions take one of a few rollout stages;
/// more give every version beyond the first 10 and the first the rest. Adds up to 100.
fn weights(versions: usize, draw: u64) -> Vec<u32> {
    match versions {
        0 | 1 => Vec::new(),
        2 => {
            const STAGES: [u32; 5] = [0, 0, 10, 20, 50];
            let new = STAGES[(draw % STAGES.len() as u64) as usize];
            vec![100 - new, new]
        }
        n => {
            let extra = (n as u32 - 1) * 10;
            let mut w = vec![100 - extra];
            w.extend(std::iter::repeat_n(10, n - 1));
            w
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<MeshSpec, String> {
        text.parse::<MeshSpec>().map_err(|e| e.to_string())
    }

    #[test]
    fn specs_read_and_refuse_clearly() {
        assert_eq!(
            spec("services=340,versions=1..3").unwrap(),
            MeshSpec {
                services: 340,
                versions: (1, 3),
                fanout: 3,
                seed: 1
            }
        );
        assert_eq!(
            spec("services=10, versions=2, fanout=4, seed=9")
                .unwrap()
                .to_spec(),
            "services=10,versions=2..2,fanout=4,seed=9"
        );
        for (bad, why) in [
            ("", "services=N is missing"),
            ("versions=1..3", "services=N is missing"),
            ("services=abc", "is not a whole number"),
            ("services=0", "services must be"),
            ("services=10,versions=3..1", "versions must be"),
            ("services=10,versions=0..2", "versions must be"),
            ("services=10,versions=1..99", "versions must be"),
            ("services=10,colour=blue", "unknown key \"colour\""),
            ("services=10,services=11", "given twice"),
            ("services", "is not KEY=VALUE"),
            ("services=1000,fanout=1", "calls deep"),
            ("services=10,fanout=0", "fanout must be"),
        ] {
            let err = spec(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
            assert!(err.contains("e.g. services=340"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_tree_reaches_every_service_within_the_depth() {
        let s = spec("services=340,versions=1..3").unwrap();
        let services = s.services();
        assert_eq!(services.len(), 340);
        assert_eq!(services[0].name, ENTRY);
        let called: usize = services.iter().map(|s| s.calls.len()).sum();
        assert_eq!(called, 339, "every service but the entry is called once");
        assert_eq!(tree_depth(340, 3), 5);
        assert_eq!(tree_depth(1, 3), 0);
        assert_eq!(tree_depth(4, 3), 1);
        assert_eq!(tree_depth(5, 3), 2);
        let workloads = s.workloads();
        assert!((600..=760).contains(&workloads), "{workloads}");
        for svc in &services {
            assert!((1..=3).contains(&svc.versions));
            if svc.versions > 1 {
                assert_eq!(svc.weights.len(), svc.versions);
                assert_eq!(svc.weights.iter().sum::<u32>(), 100);
            }
        }
        // Some services are mid-rollout, some have one version only.
        assert!(services.iter().any(|s| s.weights.get(1) > Some(&0)));
        assert!(services.iter().any(|s| s.versions == 1));
    }

    #[test]
    fn the_generated_mesh_loads_and_every_service_gets_traffic() {
        use crate::mesh::{reconcile_pods, Mesh};
        use rand::{rngs::SmallRng, SeedableRng};
        let spec = spec("services=40,versions=1..3").unwrap();
        let store = crate::store::Store::new();
        let created = crate::api::load_manifest(&store, "hands-on", &spec.manifest()).unwrap();
        let services = spec.services();
        let routed = services.iter().filter(|s| s.versions > 1).count();
        assert_eq!(created, services.len() + spec.workloads() + 2 * routed);
        reconcile_pods(&store);
        let mesh = Mesh::new(store);
        assert_eq!(mesh.warnings(), Vec::<String>::new());
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..200 {
            let outcome = mesh.send("hands-on", ENTRY, &[], &mut rng);
            assert_ne!(outcome.status, 0, "{outcome:?}");
        }
        let snapshot = mesh.snapshot();
        let reached: std::collections::BTreeSet<&str> = snapshot
            .iter()
            .filter(|s| s.labels.reporter == "destination")
            .map(|s| s.labels.destination_service_name.as_str())
            .collect();
        assert_eq!(reached.len(), 40, "{reached:?}");
        // A route at 10 % or more to `new` sends some of the 200 requests there.
        let new_reached = snapshot
            .iter()
            .any(|s| s.labels.reporter == "destination" && s.labels.destination_version == "v2");
        assert!(new_reached);
    }

    #[test]
    fn the_manifest_is_deterministic() {
        let a = spec("services=30,versions=1..3,seed=4").unwrap().manifest();
        assert_eq!(
            a,
            spec("services=30,versions=1..3,seed=4").unwrap().manifest()
        );
        assert_ne!(
            a,
            spec("services=30,versions=1..3,seed=5").unwrap().manifest()
        );
    }
}
