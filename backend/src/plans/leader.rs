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

/// What is worth a log line about the lease's reads and writes.
#[derive(Debug, PartialEq)]
enum Report {
    /// A failure, the first or one worded differently from the last (a namespace without the
    /// RBAC for Leases fails the same way every retry: once is enough).
    Failing(String),
    /// The first success after failures.
    Recovered,
}

/// Remembers the last failure in `failing`; says what to log for this attempt's `error`.
fn report(failing: &mut Option<String>, error: Option<String>) -> Option<Report> {
    match error {
        Some(e) if failing.as_deref() == Some(e.as_str()) => None,
        Some(e) => {
            *failing = Some(e.clone());
            Some(Report::Failing(e))
        }
        None => failing.take().map(|_| Report::Recovered),
    }
}

/// Runs the election for as long as the process lives, publishing on `leading` whether this
/// replica drives the plans.
pub(super) async fn run(cluster: Cluster, config: Arc<PlansConfig>, leading: watch::Sender<bool>) {
    let mut observed: Observed = None;
    let mut renewed: Option<Instant> = None;
    let deadline = config.lease_duration * 2 / 3;
    let mut failing: Option<String> = None;
    loop {
        let outcome = attempt(&cluster, &config, &mut observed).await;
        match report(
            &mut failing,
            outcome.as_ref().err().map(ToString::to_string),
        ) {
            Some(Report::Failing(e)) => tracing::warn!(
                error = %e,
                "the plan driver's lease could not be read or written (tried again every {:?}, logged again when the error changes)",
                config.retry
            ),
            Some(Report::Recovered) => {
                tracing::info!("the plan driver's lease can be read and written again")
            }
            None => {}
        }
        match outcome {
            Ok(true) => renewed = Some(Instant::now()),
            Ok(false) => renewed = None,
            Err(_) => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_repeating_every_retry_is_reported_once_then_its_recovery() {
        let mut failing = None;
        let forbidden = || Some("leases is forbidden".to_owned());
        assert_eq!(report(&mut failing, None), None);
        assert_eq!(
            report(&mut failing, forbidden()),
            Some(Report::Failing("leases is forbidden".into()))
        );
        assert_eq!(report(&mut failing, forbidden()), None);
        assert_eq!(report(&mut failing, forbidden()), None);
        assert_eq!(
            report(&mut failing, Some("connection refused".into())),
            Some(Report::Failing("connection refused".into()))
        );
        assert_eq!(report(&mut failing, None), Some(Report::Recovered));
        assert_eq!(report(&mut failing, None), None);
    }
}
