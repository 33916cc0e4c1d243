//! Release plans: several routes moved together through steps of the new version's weight, each
//! held and judged by gates on the new version's metrics, waiting for approvals, aborting by
//! themselves — stored in the cluster as ReleasePlan objects (`cluster/plans.rs`), driven by
//! exactly one replica (the holder of a Lease), shown live to every viewer.
//!
//! | file | job |
//! |---|---|
//! | `model.rs` | pure: a plan request checked, and the spec stored for it |
//! | `gates.rs` | pure: which versions a target's metrics are read from, and a gate evaluation |
//! | `decide.rs` | pure: the plan state machine (what the next status is) |
//! | `leader.rs` | the Lease election: which replica drives |
//! | `driver.rs` | the driving replica's loop: decide, save, write the weights, record the evidence |
//!
//! Every replica also publishes each plan to its viewers (on every change, and with the gate
//! values as they accrue at every metrics refresh).

pub mod decide;
mod driver;
pub mod gates;
mod leader;
pub mod model;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_protocol::plans::{Evaluation, PlanPhase};
use switchyard_protocol::{Backends, Plan, ServerEvent, Subsets};
use tokio::sync::{broadcast, watch};
use tokio::task::AbortHandle;

use crate::cluster::plan_object::PlanObject;
use crate::cluster::{Change, Cluster, OldNewNames};
use crate::live::Live;

/// How plans are driven.
#[derive(Clone, Debug)]
pub struct PlansConfig {
    /// This replica's name in the Lease.
    pub identity: String,
    /// Where the Lease lives (the console's own namespace) and its name.
    pub lease_namespace: String,
    pub lease_name: String,
    /// How long a Lease holds without renewal (≤ 15 s: the takeover bound).
    pub lease_duration: Duration,
    /// How often the Lease is renewed, or tried.
    pub retry: Duration,
    /// How often the driver looks at its plans.
    pub tick: Duration,
    /// The old and new subset names every plan moves between (VirtualService targets).
    pub subsets: Subsets,
    /// The suffixes of an HTTPRoute target's old and new backend Services (`{service}-v1`,
    /// `{service}-v2`), as bulk shift and rollback use them.
    pub backends: Backends,
}

/// The Lease's name (one per console installation).
pub const LEASE_NAME: &str = "switchyard-plan-driver";

impl PlansConfig {
    /// The defaults: a 10 s lease renewed every 2 s (a dead driver is replaced within 12 s), a
    /// driver tick of 1 s, the Lease in `lease_namespace`, this replica named after its host and
    /// a random suffix; old and new are `subsets` in VirtualServices and `backends` in
    /// HTTPRoutes (the console's `--old-subset`… and `--old-backend-suffix`…).
    pub fn new(lease_namespace: &str, subsets: Subsets, backends: Backends) -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "switchyard".to_owned());
        PlansConfig {
            identity: format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
            lease_namespace: lease_namespace.to_owned(),
            lease_name: LEASE_NAME.to_owned(),
            lease_duration: Duration::from_secs(10),
            retry: Duration::from_secs(2),
            tick: Duration::from_secs(1),
            subsets,
            backends,
        }
    }
}

/// Handle on this replica's plans: cheap to clone.
#[derive(Clone)]
pub struct Plans {
    cluster: Cluster,
    live: Live,
    config: Arc<PlansConfig>,
    leading: watch::Receiver<bool>,
    /// The election's and the driver's tasks, for [`Plans::kill`].
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Plans {
    /// Starts this replica's part: the election, the driver (acting only while elected) and
    /// the publisher of plans to viewers.
    pub fn start(cluster: Cluster, live: Live, config: PlansConfig) -> Plans {
        let (leading_tx, leading) = watch::channel(false);
        let plans = Plans {
            cluster: cluster.clone(),
            live,
            config: Arc::new(config),
            leading,
            tasks: Arc::default(),
        };
        let election = tokio::spawn(leader::run(cluster, plans.config.clone(), leading_tx));
        let driver = tokio::spawn(driver::run(plans.clone()));
        tokio::spawn(publish(plans.clone()));
        plans
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend([election.abort_handle(), driver.abort_handle()]);
        plans
    }

    /// Whether this replica drives the plans now.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// This replica's name in the Lease.
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// The subset names plans move between.
    pub fn subsets(&self) -> &Subsets {
        &self.config.subsets
    }

    /// The names old and new go by in both kinds of target: the subsets of VirtualServices and
    /// the backend suffixes of HTTPRoutes.
    pub fn names(&self) -> OldNewNames<'_> {
        OldNewNames {
            subsets: &self.config.subsets,
            backends: &self.config.backends,
        }
    }

    /// Stops this replica's election and driver at once, as a crash would: the Lease is not
    /// given up, so another replica takes over only when it runs out. (Tests of the takeover.)
    pub fn kill(&self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }

    /// Every plan in scope as viewers see it, with its gate values as they accrue.
    pub fn views(&self) -> Vec<Plan> {
        self.cluster.plans().iter().map(|p| self.view(p)).collect()
    }

    /// A plan as viewers see it, with its gate values over the current window so far while it
    /// holds a step.
    pub fn view(&self, plan: &PlanObject) -> Plan {
        let mut view = plan.view();
        if matches!(view.phase, PlanPhase::Running | PlanPhase::Waiting)
            && plan.status.pending.is_none()
        {
            if let (Some(since), Some(weight)) = (plan.status.window_start, plan.status.weight) {
                let now = driver::now();
                view.accruing = Some(self.evaluation(plan, since, plan.status.step, weight, now));
            }
        }
        view
    }

    /// The gate evaluation of `plan`'s targets over the window from `since` to the latest
    /// gate counters (inconclusive when the metrics source has not answered lately).
    pub fn evaluation(
        &self,
        plan: &PlanObject,
        since: f64,
        step: usize,
        weight: u32,
        now: f64,
    ) -> Evaluation {
        let targets = gates::versions(&self.cluster.topology(), &plan.spec.targets, self.names());
        let counters = self.live.gate_counters();
        let window = counters.window(since);
        let stale_after = 3.0 * self.live.interval().as_secs_f64().max(1.0);
        let unavailable = match counters.latest_at() {
            Some(at) if now - at > stale_after => Some(format!(
                "the metrics source has not answered for {:.0} s",
                now - at
            )),
            _ => None,
        };
        gates::evaluate(
            &targets,
            window.as_ref().map(|w| gates::Window {
                base_at: w.base_at,
                base: &w.base,
                latest_at: w.latest_at,
                latest: &w.latest,
            }),
            &plan.spec.gates,
            step,
            weight,
            now,
            unavailable.as_deref(),
        )
    }
}

/// Publishes plans to every viewer: each change as the watch sees it, each piece of evidence,
/// and every active plan again at each metrics refresh (its gate values accrue).
async fn publish(plans: Plans) {
    let mut changes = plans.cluster.subscribe();
    let mut tick = tokio::time::interval(plans.live.interval().max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let all = |active_only: bool| {
        for plan in plans.cluster.plans() {
            if !active_only || plan.active() {
                plans
                    .live
                    .publish(ServerEvent::Plan(Box::new(plans.view(&plan))));
            }
        }
    };
    loop {
        tokio::select! {
            _ = tick.tick() => all(true),
            change = changes.recv() => match change {
                Ok(Change::PlanChanged(plan)) => {
                    let view = plans
                        .cluster
                        .plans()
                        .into_iter()
                        .find(|p| p.namespace == plan.namespace && p.name == plan.id)
                        .map_or(*plan, |p| plans.view(&p));
                    plans.live.publish(ServerEvent::Plan(Box::new(view)));
                }
                Ok(Change::PlanDeleted { namespace, id }) => {
                    plans.live.publish(ServerEvent::PlanDeleted { namespace, id });
                }
                Ok(Change::PlanRecorded(record)) => {
                    plans.live.publish(ServerEvent::PlanEvent(record));
                }
                Ok(Change::Resynced) | Err(broadcast::error::RecvError::Lagged(_)) => all(false),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
