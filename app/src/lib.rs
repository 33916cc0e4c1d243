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
