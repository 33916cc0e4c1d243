//! How long a large graph takes, end to end: a synthetic mesh of 1,000 nodes and 3,000 edges
//! (`switchyard_frontend::graph_view::synthetic`, the same graph the page draws at `/?bench=N`)
//! is turned into the samples a metrics refresh would read and assembled by the server's
//! `switchyard_console::graph::build`, then laid out natively by the page's `layout` (first layout, and
//! the re-layout after a refresh that changes every rate), and finally drawn by the real page in
//! headless Chromium, which reports its own render time. Prints figures; asserts nothing about
//! time (a benchmark, not a test).
//!
//! Run: `cargo build -p switchyard` (the binary with its UI, for the browser part), then
//! `SWITCHYARD_SKIP_UI=1 cargo bench -p switchyard-e2e --bench graph`
//! (`SWITCHYARD_SKIP_UI` only spares the bench's own release copy of the server library a wasm
//! build it does not use). `GRAPH_BENCH_NODES` changes the size (edges are three per node).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchyard_console::graph::{self, DestinationRuleInfo, ServiceInfo, Topology, WorkloadInfo};
use switchyard_console::metrics::{Latency, RequestRate, Samples, Workload};
use switchyard_e2e::{poll, Browser, Demo};
use switchyard_frontend::graph_view::{layout, synthetic, test_ids};
use switchyard_protocol::{
    Destination, Graph, HttpRoute, MetricsStatus, NodeKind, VirtualServiceRoutes,
};

/// Runs `f` `rounds` times; returns (min, median) in milliseconds.
fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            black_box(f());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

/// The topology and samples from which `graph::build` assembles `graph` again: one request-rate
/// series per caller edge and destination version (80/20), with 5xx where the edge has errors,
/// and a p95 per caller edge.
fn inputs(synthetic: &Graph) -> (Topology, Samples) {
    let nodes: BTreeMap<&str, _> = synthetic.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut topology = Topology::default();
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in &synthetic.nodes {
        match n.kind {
            NodeKind::Service => {
                topology.services.push(ServiceInfo {
                    namespace: n.namespace.clone(),
                    name: n.name.clone(),
                });
                let host = format!("{}.{}.svc.cluster.local", n.name, n.namespace);
                topology.destination_rules.push(DestinationRuleInfo {
                    namespace: n.namespace.clone(),
                    host,
                    subsets: BTreeMap::from([
                        (
                            "old".into(),
                            BTreeMap::from([("version".into(), "v1".into())]),
                        ),
                        (
                            "new".into(),
                            BTreeMap::from([("version".into(), "v2".into())]),
                        ),
                    ]),
                });
                let destination = |subset: &str, weight: u32| Destination {
                    host: n.name.clone(),
                    subset: Some(subset.into()),
                    weight,
                    requested_share: f64::from(weight),
                    observed_share: None,
                };
                topology.virtual_services.push(VirtualServiceRoutes {
                    namespace: n.namespace.clone(),
                    name: n.name.clone(),
                    resource_version: "1".into(),
                    hosts: vec![n.name.clone()],
                    weight_managers: Vec::new(),
                    routes: vec![HttpRoute {
                        index: 0,
                        name: None,
                        match_summary: "all requests".into(),
                        destinations: vec![destination("old", 80), destination("new", 20)],
                    }],
                });
            }
            NodeKind::Workload => {
                topology.workloads.push(WorkloadInfo {
                    namespace: n.namespace.clone(),
                    name: n.name.clone(),
                    app: n.app.clone(),
                    version: n.version.clone(),
                });
                if let Some(app) = &n.app {
                    let service = synthetic
                        .nodes
                        .iter()
                        .find(|s| s.kind == NodeKind::Service && &s.name == app)
                        .map(|s| s.id.as_str());
                    if let Some(service) = service {
                        versions.entry(service).or_default().push(n.id.as_str());
                    }
                }
            }
            NodeKind::Entry | NodeKind::Unknown => {}
        }
    }
    let workload = |id: &str| match nodes.get(id) {
        Some(n) if n.kind == NodeKind::Workload => Workload {
            name: n.name.clone(),
            namespace: n.namespace.clone(),
            app: n.app.clone().unwrap_or_else(|| "unknown".into()),
            version: n.version.clone().unwrap_or_else(|| "unknown".into()),
        },
        _ => Workload {
            name: "unknown".into(),
            namespace: "unknown".into(),
            app: "unknown".into(),
            version: "unknown".into(),
        },
    };
    let mut samples = Samples::default();
    for e in &synthetic.edges {
        let Some(service) = nodes
            .get(e.target.as_str())
            .filter(|n| n.kind == NodeKind::Service)
        else {
            continue;
        };
        let source = workload(&e.source);
        for (destination, part) in versions
            .get(e.target.as_str())
            .into_iter()
            .flatten()
            .zip([0.8, 0.2])
        {
            let rate = e.rate * part;
            let failed = rate * e.error_share / 100.0;
            for (code, rate) in [("200", rate - failed), ("503", failed)] {
                if rate > 0.0 {
                    samples.requests.push(RequestRate {
                        source: source.clone(),
                        service: service.name.clone(),
                        service_namespace: service.namespace.clone(),
                        destination: workload(destination),
                        response_code: code.into(),
                        response_flags: "-".into(),
                        rate,
                    });
                }
            }
        }
        if let Some(p95_ms) = e.p95_ms {
            samples.latencies.push(Latency {
                caller: Some((source.namespace.clone(), source.name.clone())),
                service: (service.namespace.clone(), service.name.clone()),
                workload: None,
                p95_ms,
            });
        }
    }
    (topology, samples)
}

fn assemble(topology: &Topology, samples: &Samples) -> Graph {
    let fresh = MetricsStatus {
        fresh: true,
        last_success: Some(0.0),
        error: None,
    };
    graph::build(topology, Some(samples), fresh, 30, 0.0)
}

async fn browser_render_ms(nodes: usize) -> Result<Vec<(f64, f64)>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let demo = Demo::start(dir.path()).await.map_err(|e| e.to_string())?;
    let browser = Browser::start().await.map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let url = format!("{}?bench={nodes}", demo.url);
        browser.client.goto(&url).await.map_err(|e| e.to_string())?;
        let source = browser.client.source().await.map_err(|e| e.to_string())?;
        if source.contains("UI not built") {
            return Err(
                "the switchyard binary embeds the placeholder page (built with \
                        SWITCHYARD_SKIP_UI); rebuild it with `cargo build -p switchyard`"
                    .into(),
            );
        }
        let read = |id: &'static str| {
            let browser = &browser;
            async move {
                poll(id, Duration::from_secs(120), || async {
                    if !browser.exists(id).await? {
                        return Ok(None);
                    }
                    Ok(browser.text(id).await?.parse::<f64>().ok())
                })
                .await
                .map_err(|e| e.to_string())
            }
        };
        let render = read(test_ids::BENCH_RENDER_MS).await?;
        let layout = read(test_ids::BENCH_LAYOUT_MS).await?;
        runs.push((render, layout));
    }
    if std::env::var_os("SWITCHYARD_E2E_SCREENSHOTS").is_some() {
        let _ = browser.screenshot("graph-bench").await;
    }
    let _ = browser.close().await;
    Ok(runs)
}

fn main() {
    let nodes: usize = std::env::var("GRAPH_BENCH_NODES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let synthetic = synthetic::graph(nodes, nodes * 3);
    let (topology, samples) = inputs(&synthetic);
    let built = assemble(&topology, &samples);
    let ids = |g: &Graph| {
        (
            g.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
            g.edges.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        )
    };
    let mut expected = ids(&synthetic);
    expected.0.sort();
    expected.1.sort();
    let same = ids(&built) == expected;
    println!(
        "synthetic graph: {} nodes, {} edges, {} splits ({} request series); assembled graph {} \
         the synthetic one's nodes and edges",
        built.nodes.len(),
        built.edges.len(),
        built.splits.len(),
        samples.requests.len(),
        if same { "has exactly" } else { "DIFFERS from" }
    );

    let (min, median) = time(20, || assemble(&topology, &samples));
    println!(
        "graph assembly (switchyard_console::graph::build): min {min:.2} ms, median {median:.2} ms"
    );

    let empty = layout::Positions::default();
    let (min, median) = time(20, || layout::layout(&empty, &built));
    println!("first layout (native):                     min {min:.2} ms, median {median:.2} ms");
    let placed = layout::layout(&empty, &built);
    let mut refreshed = built.clone();
    for e in &mut refreshed.edges {
        e.rate *= 1.1;
    }
    let (min, median) = time(20, || layout::layout(&placed, &refreshed));
    println!("re-layout after a refresh (native):        min {min:.2} ms, median {median:.2} ms");
    let mut grown = built.clone();
    grown.nodes.retain(|n| !n.id.ends_with("svc0100-v2"));
    let partial = layout::layout(&empty, &grown);
    let (min, median) = time(20, || layout::layout(&partial, &built));
    println!("layout with one new node (native):         min {min:.2} ms, median {median:.2} ms");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(browser_render_ms(nodes)) {
        Ok(runs) => {
            let render: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.0)).collect();
            let layout: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.1)).collect();
            println!(
                "browser render of the same graph (headless Chromium, /?bench={nodes}): {} ms \
                 (3 page loads); layout in wasm: {} ms",
                render.join(", "),
                layout.join(", ")
            );
        }
        Err(error) => {
            eprintln!("browser render: {error}");
            std::process::exit(1);
        }
    }
}
