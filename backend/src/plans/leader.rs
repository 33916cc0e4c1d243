//! Which replica drives the plans: leader election on one `coordination.k8s.io/v1` Lease per
//! console installation, written on kube-rs (`cluster/lease.rs`) with resourceVersion
//! preconditions, so two replicas can never both acquire or renew it. As client-go's
//! `leaderelection` does, a candidate judges a lease abandoned by its own clock: when the lease's
//! resourceVersion has not changed for the holder's declared `leaseDurationSeconds` since this
//! replica first saw it (so clocks that disagree do not matter). The holder renews every
//! `retry`; it stops driving when it has not renewed within two thirds of the lease duration,
//! before any other replica may take over. A replica that dies is replaced within the lease
//! duration plus one retry (`docs/release-plans.md`).

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::PlansConfig;
use crate::cluster::{Cluster, Error, LeaseState, LeaseWrite};

/// What the candidate remembers of a lease it does not hold: its resourceVersion, and when this
/// replica first saw it at that version.
type Observed = Option<(String, Instant)>;

/// One round: holds (or now holds) the lease?
async fn attempt(
    cluster: &Cluster,
    config: &PlansConfig,
    observed: &mut Observed,
) -> Result<bool, Error> {
    let duration = i32::try_from(config.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
    let held = |w: LeaseWrite| matches!(w, LeaseWrite::Held(_));
    let lease = cluster
        .read_lease(&config.lease_namespace, &config.lease_name)
        .await?;
    let Some(lease) = lease else {
        return Ok(held(
            cluster
                .create_lease(
                    &config.lease_namespace,
                    &config.lease_name,
                    &config.identity,
                    duration,
                )
                .await?,
        ));
    };
    if lease.holder.as_deref() == Some(config.identity.as_str()) {
        *observed = None;
        return Ok(held(
            cluster
                .update_lease(&config.lease_namespace, &lease, &config.identity, duration)
                .await?,
        ));
    }
    if !abandoned(&lease, observed, Instant::now()) {
        return Ok(false);
    }
    let taken = held(
        cluster
            .update_lease(&config.lease_namespace, &lease, &config.identity, duration)
            .await?,
    );
    if taken {
        tracing::info!(identity = %config.identity, previous = ?lease.holder, "took over the plan driver's lease");
        *observed = None;
    }
    Ok(taken)
}

/// Whether a lease held by someone else may be taken: nobody holds it, or its resourceVersion
/// has not moved for its duration since this replica first saw it.
fn abandoned(lease: &LeaseState, observed: &mut Observed, now: Instant) -> bool {
    if lease.holder.is_none() {
        return true;
    }
    let seen_at = match observed {
        Some((rv, at)) if *rv == lease.resource_version => *at,
        _ => {
            *observed = Some((lease.resource_version.clone(), now));
            now
        }
    };
    let duration = Duration::from_secs(u64::try_from(lease.duration_seconds.max(1)).unwrap_or(1));
    now.duration_since(seen_at) >= duration
}

/// Runs the election for as long as the process lives, publishing on `leading` whether this
/// replica drives the plans.
pub(super) async fn run(cluster: Cluster, config: Arc<PlansConfig>, leading: watch::Sender<bool>) {
    let mut observed: Observed = None;
    let mut renewed: Option<Instant> = None;
    let deadline = config.lease_duration * 2 / 3;
    loop {
        match attempt(&cluster, &config, &mut observed).await {
            Ok(true) => renewed = Some(Instant::now()),
            Ok(false) => renewed = None,
            Err(e) => {
                tracing::warn!(error = %e, "the plan driver's lease could not be read or written")
            }
        }
        let lead = renewed.is_some_and(|at| at.elapsed() < deadline);
        leading.send_if_modified(|was| {
            let changed = *was != lead;
            if changed {
                tracing::info!(identity = %config.identity, leading = lead, "plan driver");
            }
            *was = lead;
            changed
        });
        tokio::time::sleep(config.retry).await;
    }
}
