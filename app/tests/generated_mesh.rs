//! The generated mesh end to end: `switchyard demo --mesh services=340,versions=1..3` (the binary)
//! reaches about 1,000 graph nodes with traffic on nearly all of them; and on a generated mesh the
//! event stream's `graph_delta` events rebuild, on the page's side, exactly the graphs the
//! refresher published. Simulated cluster only: the generated mesh and its load are the
//! simulator's (a real API server has no data plane here).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use switchyard::SimulatedSource;
use switchyard_protocol::{Graph, ServerEvent};
use switchyard_sim::generate::{MeshSpec, ENTRY};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

mod support;

#[tokio::test]
async fn the_mesh_demo_reaches_a_thousand_nodes_with_traffic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["demo", "--mesh", "services=340,versions=1..3"])
        .args(["--listen", "127.0.0.1:0", "--refresh", "1s", "--rps", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the switchyard binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("a line within 120 s")
        .expect("stdout readable")
        .expect("one line before exit");
    let base = line
        .strip_prefix("switchyard demo listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let graph = loop {
        let graph: Graph = http
            .get(format!("{base}/api/v1/graph"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let busy = graph.nodes.iter().filter(|n| n.rate_in > 0.0).count();
        // Nodes without traffic: workloads behind a route at weight 0 (and the v3s at 10 % may
        // take a refresh or two).
        if graph.nodes.len() >= 1000 && busy * 10 >= graph.nodes.len() * 8 {
            break graph;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "after 90 s: {} nodes, {busy} with traffic",
            graph.nodes.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let spec: MeshSpec = "services=340,versions=1..3".parse().unwrap();
    // Every service and workload, and the entry.
    assert_eq!(graph.nodes.len(), 340 + spec.workloads() + 1);
    assert!(graph.edges.len() > 1000, "{} edges", graph.edges.len());
    let routed = spec.services().iter().filter(|s| s.versions > 1).count();
    assert_eq!(graph.splits.len(), routed);
    let routes: switchyard_protocol::RoutesResponse = http
        .get(format!("{base}/api/v1/routes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(routes.virtual_services.len(), routed);
    let _ = child.kill().await;
}

/// Reads SSE messages as (event name, data) from a streaming response.
struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
    /// Bytes read per event name.
    bytes: BTreeMap<String, Vec<usize>>,
}

impl Sse {
    async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                    let message: Vec<u8> = self.buffer.drain(..end + 2).collect();
                    let message = String::from_utf8(message).expect("UTF-8 events");
                    let mut name = String::new();
                    let mut data = String::new();
                    for line in message.lines() {
                        if let Some(n) = line.strip_prefix("event:") {
                            name = n.trim().to_owned();
                        } else if let Some(d) = line.strip_prefix("data:") {
                            data.push_str(d.trim_start());
                        }
                    }
                    if data.is_empty() {
                        continue;
                    }
                    self.bytes
                        .entry(name.clone())
                        .or_default()
                        .push(message.len());
                    return (name, data);
                }
                let chunk = self.response.chunk().await.unwrap().expect("stream open");
                self.buffer.extend_from_slice(&chunk);
            }
        })
        .await
        .expect("an event within 30 s")
    }
}

/// What the page holds after a graph went through JSON (serde_json's float parsing may differ
/// from the original in the last bit, the same way for the whole graph and for a delta).
fn as_page_reads(graph: &Graph) -> Graph {
    serde_json::from_str(&serde_json::to_string(graph).unwrap()).unwrap()
}

#[tokio::test]
async fn graph_deltas_rebuild_every_published_graph_of_a_generated_mesh() {
    let spec: MeshSpec = "services=60,versions=1..3".parse().unwrap();
    let kube = support::TestCluster::start_with_manifest(
        support::Kind::Simulated,
        0.0,
        Some(&spec.manifest()),
    )
    .await;
    let mesh = kube.sim.as_ref().expect("simulated").mesh.clone();
    // The load the demo would send, into the generated mesh's entry.
    let load = tokio::spawn(switchyard_sim::mesh::run_load(
        mesh.clone(),
        switchyard_sim::mesh::LoadConfig {
            entry: ENTRY.to_owned(),
            rps: 50.0,
            ..Default::default()
        },
        std::future::pending(),
    ));
    let c = support::attach(
        Arc::new(kube),
        support::Options {
            source: Some(SimulatedSource::new(mesh).into_source()),
            refresh: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    let mut published = c.live.subscribe();
    let response = c
        .http
        .get(format!("{}/api/v1/events", c.base))
        .send()
        .await
        .unwrap();
    let mut sse = Sse {
        response,
        buffer: Vec::new(),
        bytes: BTreeMap::new(),
    };
    // What the refresher published, by time, as the page would read it whole.
    let mut by_time: BTreeMap<u64, Graph> = BTreeMap::new();
    let mut shown: Option<Graph> = None;
    let mut rebuilt = 0;
    while rebuilt < 6 {
        while let Ok(event) = published.try_recv() {
            if let ServerEvent::Graph(g) = event {
                let g = as_page_reads(&g);
                by_time.insert(g.generated_at.to_bits(), g);
            }
        }
        let (name, data) = sse.next().await;
        let event: ServerEvent = serde_json::from_str(&data).unwrap();
        assert_eq!(switchyard_protocol::events::name(&event), name);
        match event {
            ServerEvent::Graph(g) => shown = Some(g),
            ServerEvent::GraphDelta(delta) => {
                let base = shown.as_ref().expect("a whole graph comes first");
                let next = delta.apply(base).expect("the delta fits the last graph");
                // The refresher's copy may still be on its way to our receiver.
                let mut waited = 0;
                while !by_time.contains_key(&next.generated_at.to_bits()) && waited < 50 {
                    match tokio::time::timeout(Duration::from_millis(100), published.recv()).await {
                        Ok(Ok(ServerEvent::Graph(g))) => {
                            // Keyed as read from JSON, as the delta's time is.
                            let g = as_page_reads(&g);
                            by_time.insert(g.generated_at.to_bits(), g);
                        }
                        _ => waited += 1,
                    }
                }
                let whole = by_time
                    .get(&next.generated_at.to_bits())
                    .unwrap_or_else(|| {
                        panic!(
                            "the graph of {} (base {}) was not published: {:?}",
                            next.generated_at,
                            delta.base,
                            by_time.values().map(|g| g.generated_at).collect::<Vec<_>>()
                        )
                    });
                assert_eq!(&next, whole, "delta {rebuilt} rebuilds the published graph");
                rebuilt += 1;
                shown = Some(next);
            }
            _ => {}
        }
    }
    let shown = shown.unwrap();
    assert!(shown.nodes.len() > 60 && shown.edges.iter().any(|e| e.rate > 0.0));
    let mean = |v: &Vec<usize>| v.iter().sum::<usize>() / v.len().max(1);
    eprintln!(
        "{} nodes: whole graph events {:?} B, deltas {:?} B (mean {} B)",
        shown.nodes.len(),
        sse.bytes.get("graph"),
        sse.bytes.get("graph_delta").map(|v| v.len()),
        sse.bytes.get("graph_delta").map_or(0, mean)
    );
    load.abort();
}
