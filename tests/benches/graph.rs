//! How long a large graph takes, end to end: a synthetic mesh of 1,000 nodes and 3,000 edges
//! (`switchyard_frontend::graph_view::synthetic`, the same graph the page draws at `/?bench=N`)
//! is turned into the samples a metrics refresh would read and assembled by the server's
//! `switchyard_console::graph::build`, then laid out natively by the page's `layout` (first layout, and
//! the re-layout after a refresh that changes every rate), and finally drawn by the real page in
//! headless Chromium at 100, 300, 1,000 and 3,000 nodes (three edges each), five fresh pages
//! per size, where the page's probe (`graph_view::bench_probe`) measures the first drawing, a
//! refresh that changes every edge (until painted; and handed over as a frame starts, the time
//! to the next frame and the script work in it), a label-mode switch, the frame rate of a
//! scripted zoom and pan (from animation-frame timestamps) and the sharp redraw after it. The
//! native part also times the scene, its markup and a refresh's patches. Prints medians with
//! min–max; asserts nothing about time (a benchmark, not a test).
//!
//! Run: `cargo build --release -p switchyard` (the binary with its UI, optimised as shipped),
//! then `SWITCHYARD_SKIP_UI=1 cargo bench -p switchyard-e2e --bench graph` (it takes
//! `target/release/switchyard` when it exists, else `$SWITCHYARD_BIN` or the debug binary;
//! `SWITCHYARD_SKIP_UI` only spares the bench's own release copy of the server library a wasm
//! build it does not use). `GRAPH_BENCH_NODES` changes the size of the native part,
//! `GRAPH_BENCH_SIZES` (e.g. `1000,3000`) the browser's.

use std::collections::{BTreeMap, HashSet};
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchyard_console::graph::{self, DestinationRuleInfo, ServiceInfo, Topology, WorkloadInfo};
use switchyard_console::metrics::{Latency, RequestRate, Samples, Workload};
use switchyard_e2e::{poll, Browser, Demo};
use switchyard_frontend::graph_view::graph_canvas::GRAPH_DRAWN_MARK;
use switchyard_frontend::graph_view::label::LabelMode;
use switchyard_frontend::graph_view::scene::{patches, Scene, SceneInput};
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

// What the page's own probe (`/?bench=N`) measured on one fresh page: its own type.
use switchyard_frontend::graph_view::bench_probe::Figures as PageFigures;

const PAGES: usize = 5;

async fn browser_figures(sizes: &[usize]) -> Result<Vec<(usize, Vec<PageFigures>)>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let demo = Demo::start(dir.path()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for &nodes in sizes {
        let mut runs = Vec::new();
        for _ in 0..PAGES {
            // A fresh browser per page: no warm caches, no JIT state from the previous run.
            let browser = Browser::start().await.map_err(|e| e.to_string())?;
            browser
                .set_viewport(1600, 1000)
                .await
                .map_err(|e| e.to_string())?;
            let url = format!("{}?bench={nodes}", demo.url);
            browser.client.goto(&url).await.map_err(|e| e.to_string())?;
            let source = browser.client.source().await.map_err(|e| e.to_string())?;
            if source.contains("UI not built") {
                return Err(
                    "the switchyard binary embeds the placeholder page (built with \
                     SWITCHYARD_SKIP_UI); rebuild it with `cargo build --release -p switchyard`"
                        .into(),
                );
            }
            let read = |id: &'static str| {
                let browser = &browser;
                async move {
                    poll(id, Duration::from_secs(180), || async {
                        if !browser.exists(id).await? {
                            return Ok(None);
                        }
                        Ok(browser.text(id).await?.parse::<f64>().ok())
                    })
                    .await
                    .map_err(|e| e.to_string())
                }
            };
            let figures = PageFigures {
                render: read(test_ids::BENCH_RENDER_MS).await?,
                layout: read(test_ids::BENCH_LAYOUT_MS).await?,
                refresh: read(test_ids::BENCH_REFRESH_MS).await?,
                refresh_frame: read(test_ids::BENCH_REFRESH_FRAME_MS).await?,
                refresh_work: read(test_ids::BENCH_REFRESH_WORK_MS).await?,
                label: read(test_ids::BENCH_LABEL_MS).await?,
                fps: read(test_ids::BENCH_FPS).await?,
                worst_frame: read(test_ids::BENCH_WORST_FRAME_MS).await?,
                settle: read(test_ids::BENCH_SETTLE_MS).await?,
                elements: read(test_ids::BENCH_ELEMENTS).await?,
            };
            if std::env::var_os("SWITCHYARD_E2E_SCREENSHOTS").is_some() {
                let _ = browser.screenshot(&format!("graph-bench-{nodes}")).await;
            }
            let _ = browser.close().await;
            runs.push(figures);
        }
        out.push((nodes, runs));
    }
    Ok(out)
}

/// Navigation → first graph drawn on the demo page (its own User Timing mark, ms from the
/// navigation's start), and what the page fetched meanwhile, on `PAGES` fresh browsers.
async fn navigation_figures() -> Result<Vec<(f64, f64)>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let demo = Demo::start(dir.path()).await.map_err(|e| e.to_string())?;
    // Let the demo's first snapshot exist, as on a console that has been running.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let script = format!(
        "const m = performance.getEntriesByName('{GRAPH_DRAWN_MARK}')[0]; \
         if (!m) return null; \
         const got = performance.getEntriesByType('resource') \
             .filter(r => r.name.includes('/api/v1/history')).length; \
         return [m.startTime, got];"
    );
    let mut out = Vec::new();
    for _ in 0..PAGES {
        let browser = Browser::start().await.map_err(|e| e.to_string())?;
        browser
            .set_viewport(1600, 1000)
            .await
            .map_err(|e| e.to_string())?;
        browser
            .client
            .goto(&demo.url)
            .await
            .map_err(|e| e.to_string())?;
        let figures = poll("the first graph drawn", Duration::from_secs(60), || async {
            let value = browser.js(&script, vec![]).await?;
            Ok(value
                .as_array()
                .and_then(|pair| Some((pair.first()?.as_f64()?, pair.get(1)?.as_f64()?))))
        })
        .await
        .map_err(|e| e.to_string())?;
        let _ = browser.close().await;
        out.push(figures);
    }
    Ok(out)
}

/// `median (min–max)` of one figure over the pages.
fn spread(runs: &[PageFigures], figure: fn(&PageFigures) -> f64, decimals: usize) -> String {
    let mut values: Vec<f64> = runs.iter().map(figure).collect();
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    format!(
        "{median:.decimals$} ({:.decimals$}–{:.decimals$})",
        values[0],
        values[values.len() - 1]
    )
}

fn main() {
    // The figures are a release build's: prefer target/release/switchyard when it is there.
    if std::env::var_os("SWITCHYARD_BIN").is_none() {
        let release = switchyard_e2e::workspace_root().join("target/release/switchyard");
        if release.is_file() {
            std::env::set_var("SWITCHYARD_BIN", release);
        }
    }
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
    // What the page does instead when the refresh brought the same nodes.
    let (min, median) = time(20, || placed.hold_for(&refreshed));
    println!(
        "the page's check that the places hold (native, {}): min {min:.2} ms, median {median:.2} ms",
        if placed.hold_for(&refreshed) { "they do" } else { "they DO NOT" }
    );
    let mut grown = built.clone();
    grown.nodes.retain(|n| !n.id.ends_with("svc0100-v2"));
    let partial = layout::layout(&empty, &grown);
    let (min, median) = time(20, || layout::layout(&partial, &built));
    println!("layout with one new node (native):         min {min:.2} ms, median {median:.2} ms");

    // The drawing's own work per snapshot, without the browser: the scene, its markup, and the
    // patches a refresh of every rate makes.
    let scene_of = |graph: &Graph, positions: &layout::Positions| {
        Scene::build(&SceneInput {
            graph,
            positions,
            mode: LabelMode::Distribution,
            selected: None,
            new_subset: Some("new"),
            hidden: &HashSet::new(),
            query: "",
            groups: &BTreeMap::new(),
        })
    };
    let (min, median) = time(20, || scene_of(&built, &placed));
    println!("scene of a snapshot (native):              min {min:.2} ms, median {median:.2} ms");
    let scene = scene_of(&built, &placed);
    let (min, median) = time(20, || scene.markup(true));
    println!("its markup with text (native):             min {min:.2} ms, median {median:.2} ms");
    let after = scene_of(&refreshed, &placed);
    let (min, median) = time(20, || patches(&scene, &after));
    let count = patches(&scene, &after).map_or(0, |p| p.len());
    println!(
        "patches of a refresh (native, {count} patches):  min {min:.2} ms, median {median:.2} ms"
    );

    let sizes: Vec<usize> = std::env::var("GRAPH_BENCH_SIZES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![100, 300, 1000, 3000]);
    println!(
        "browser (headless Chromium, the page's own probe at /?bench=N, {PAGES} fresh pages per \
         size, median (min–max); binary {}):",
        std::env::var("SWITCHYARD_BIN").unwrap_or_else(|_| "target/debug/switchyard".into())
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(browser_figures(&sizes)) {
        Ok(all) => {
            println!(
                "{:>13} | {:>22} | {:>18} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>8}",
                "nodes/edges",
                "render ms",
                "layout (wasm) ms",
                "refresh every edge ms",
                "its frame ms",
                "its script ms",
                "label switch ms",
                "zoom+pan fps",
                "worst frame ms",
                "sharp redraw ms",
                "SVG els"
            );
            for (nodes, runs) in all {
                println!(
                    "{:>13} | {:>22} | {:>18} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>20} | {:>8}",
                    format!("{nodes}/{}", nodes * 3),
                    spread(&runs, |f| f.render, 1),
                    spread(&runs, |f| f.layout, 1),
                    spread(&runs, |f| f.refresh, 1),
                    spread(&runs, |f| f.refresh_frame, 1),
                    spread(&runs, |f| f.refresh_work, 1),
                    spread(&runs, |f| f.label, 1),
                    spread(&runs, |f| f.fps, 1),
                    spread(&runs, |f| f.worst_frame, 1),
                    spread(&runs, |f| f.settle, 1),
                    spread(&runs, |f| f.elements, 0),
                );
            }
        }
        Err(error) => {
            eprintln!("browser render: {error}");
            std::process::exit(1);
        }
    }
    match runtime.block_on(navigation_figures()) {
        Ok(runs) => {
            let mut drawn: Vec<f64> = runs.iter().map(|r| r.0).collect();
            drawn.sort_by(f64::total_cmp);
            let history = runs.iter().map(|r| r.1).fold(0.0, f64::max);
            println!(
                "navigation → graph drawn on the demo ({PAGES} fresh pages): {:.0} ms ({:.0}–{:.0}); \
                 /api/v1/history fetched at most {history:.0}× per load",
                drawn[drawn.len() / 2],
                drawn[0],
                drawn[drawn.len() - 1]
            );
        }
        Err(error) => {
            eprintln!("navigation: {error}");
            std::process::exit(1);
        }
    }
}
