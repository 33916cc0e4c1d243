//! The wiring of the `switchyard` binary: its command line, the adapters that join the console
//! to the simulated cluster for `switchyard demo`, and the kube-rs feeder of the simulated mesh
//! for `switchyard mesh`. The console (`switchyard-console`) and the
//! simulator (`switchyard-sim`) know nothing of each other; only this crate depends on both.

pub mod config;
pub mod mesh_feed;
pub mod sim_metrics;

pub use sim_metrics::SimulatedSource;

impl From<&config::TrafficArgs> for switchyard_sim::Traffic {
    fn from(args: &config::TrafficArgs) -> Self {
        switchyard_sim::Traffic {
            rps: args.rps,
            test_share: args.test_share,
            seed: args.seed,
        }
    }
}

/// What the demo loads into its namespace and where its load enters: `--mesh` (generated, also
/// written to `--mesh-manifest-out`), `--manifest`, or the built-in demo/hands-on.yaml.
pub fn demo_manifest(args: &config::DemoArgs) -> anyhow::Result<(String, String)> {
    use anyhow::Context;
    use switchyard_sim::simulation::{DEMO_ENTRY, DEMO_MANIFEST};
    if let Some(spec) = &args.mesh {
        let manifest = spec.manifest();
        if let Some(path) = &args.mesh_manifest_out {
            std::fs::write(path, &manifest)
                .with_context(|| format!("writing the generated manifest {}", path.display()))?;
        }
        tracing::info!(
            spec = %spec.to_spec(),
            services = spec.services,
            workloads = spec.workloads(),
            "generated mesh"
        );
        return Ok((manifest, switchyard_sim::generate::ENTRY.to_owned()));
    }
    let manifest = match &args.manifest {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the manifest {}", path.display()))?,
        None => DEMO_MANIFEST.to_owned(),
    };
    Ok((manifest, DEMO_ENTRY.to_owned()))
}
