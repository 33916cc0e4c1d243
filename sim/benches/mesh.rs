//! Throughput of the simulated mesh on one thread: simulated requests per second into the demo's
//! product-composite (each fans out to three services: 7 sidecar records per request), plus the
//! cost of a scrape and of recompiling the topology after an edit. Prints figures; asserts nothing.
//!
//! Run: `SWITCHYARD_SKIP_UI=1 cargo bench -p switchyard-sim --bench mesh`

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;
use switchyard_sim::api;
use switchyard_sim::mesh::{self, LoadConfig, LoadGenerator, Mesh};
use switchyard_sim::store::{Key, Store};

const NS: &str = "hands-on";

fn demo() -> Mesh {
    let store = Store::new();
    api::load_manifest(&store, NS, api::DEMO_MANIFEST).expect("demo manifest loads");
    mesh::reconcile_pods(&store);
    set_review_weights(&store, 80, 20);
    Mesh::new(store)
}

fn set_review_weights(store: &Store, old: u32, new: u32) {
    store
        .update(
            &Key::new("virtualservices.networking.istio.io", NS, "review"),
            |vs| {
                let mut vs = vs.clone();
                vs["spec"]["http"][1]["route"][0]["weight"] = json!(old);
                vs["spec"]["http"][1]["route"][1]["weight"] = json!(new);
                Ok(vs)
            },
        )
        .expect("weights set");
}

fn main() {
    let mesh = demo();
    let mut generator = LoadGenerator::new(LoadConfig {
        test_header_share: 0.1,
        seed: 1,
        ..LoadConfig::default()
    });
    // Warm-up: compiles the topology and creates every series.
    for _ in 0..20_000 {
        black_box(generator.send_next(&mesh));
    }

    let requests = 500_000;
    let start = Instant::now();
    for _ in 0..requests {
        black_box(generator.send_next(&mesh));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = requests as f64 / elapsed;
    println!(
        "mesh/send: {requests} simulated requests in {elapsed:.3} s = {rate:.0} requests/s on one thread \
         ({:.0} sidecar records/s, {:.2} µs per request)",
        rate * 7.0,
        elapsed * 1e6 / requests as f64
    );

    // The same without the load generator's header draw, with a plain seeded RNG.
    let mut rng = SmallRng::seed_from_u64(2);
    let start = Instant::now();
    for _ in 0..requests {
        black_box(mesh.send(NS, "product-composite", &[], &mut rng));
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "mesh/send (no headers): {:.0} requests/s",
        requests as f64 / elapsed
    );

    let series = mesh.snapshot().len();
    let scrapes = 200;
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..scrapes {
        bytes = black_box(mesh.render_metrics()).len();
    }
    let per_scrape = start.elapsed().as_secs_f64() / scrapes as f64;
    println!(
        "mesh/render_metrics: {series} series, {bytes} bytes, {:.3} ms per scrape",
        per_scrape * 1e3
    );

    // An edit makes the next request recompile the topology from the store.
    let edits = 200;
    let start = Instant::now();
    for i in 0..edits {
        set_review_weights(mesh.store().expect("in-process store"), 80 + (i % 2), 20);
        black_box(mesh.send(NS, "product-composite", &[], &mut rng));
    }
    let per_edit = start.elapsed().as_secs_f64() / edits as f64;
    println!(
        "mesh/edit+send: {:.3} ms per VirtualService edit followed by a request (recompile included)",
        per_edit * 1e3
    );
}
