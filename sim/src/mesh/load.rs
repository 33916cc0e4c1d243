//! The load generator, like Siege: requests into an entry service at a fixed rate, a share of them
//! carrying `X-group: test`. The request sequence depends only on the seed; the real-time driver
//! only decides when to send.

use super::{Mesh, Outcome};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::future::Future;
use std::time::Duration;

/// The header (and value) that marks test traffic in the demo's VirtualServices.
pub const TEST_HEADER: (&str, &str) = ("X-group", "test");

#[derive(Clone, Debug, PartialEq)]
pub struct LoadConfig {
    pub namespace: String,
    pub entry: String,
    /// Requests per second of the real-time driver.
    pub rps: f64,
    /// Share (0..=1) of requests sent with `X-group: test`.
    pub test_header_share: f64,
    pub seed: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            namespace: "hands-on".to_owned(),
            entry: "product-composite".to_owned(),
            rps: 20.0,
            test_header_share: 0.0,
            seed: 1,
        }
    }
}

/// Generates and sends requests deterministically from a seed.
pub struct LoadGenerator {
    config: LoadConfig,
    rng: SmallRng,
    plain: Vec<(String, String)>,
    test: Vec<(String, String)>,
}

impl LoadGenerator {
    pub fn new(config: LoadConfig) -> Self {
        LoadGenerator {
            rng: SmallRng::seed_from_u64(config.seed),
            plain: Vec::new(),
            test: vec![(TEST_HEADER.0.to_owned(), TEST_HEADER.1.to_owned())],
            config,
        }
    }

    pub fn config(&self) -> &LoadConfig {
        &self.config
    }

    /// Sends the next request of the sequence.
    pub fn send_next(&mut self, mesh: &Mesh) -> Outcome {
        let share = self.config.test_header_share;
        let headers = if share > 0.0 && self.rng.random::<f64>() < share {
            &self.test
        } else {
            &self.plain
        };
        mesh.send(
            &self.config.namespace,
            &self.config.entry,
            headers,
            &mut self.rng,
        )
    }
}

/// How often the driver wakes up; requests due since the last wake-up are sent together, so the
/// rate holds above the timer's resolution.
const TICK: Duration = Duration::from_millis(10);

/// Drives load in real time at `config.rps` until `shutdown` completes. If the driver falls
/// behind by more than a second of requests (a stalled runtime), the backlog is dropped rather
/// than sent as a burst, as an open-loop load generator that missed its slots would.
pub async fn run_load(mesh: Mesh, config: LoadConfig, shutdown: impl Future<Output = ()>) {
    let rps = if config.rps.is_finite() && config.rps > 0.0 {
        config.rps
    } else {
        0.0
    };
    let mut generator = LoadGenerator::new(config);
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = tokio::time::Instant::now();
    let mut sent: u64 = 0;
    let max_backlog = rps.ceil().max(1.0) as u64;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = interval.tick() => {}
        }
        let due = (start.elapsed().as_secs_f64() * rps) as u64;
        if due.saturating_sub(sent) > max_backlog {
            sent = due - max_backlog;
        }
        while sent < due {
            generator.send_next(&mesh);
            sent += 1;
        }
    }
}
