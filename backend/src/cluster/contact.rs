//! The console's notion of "last successful contact with the API server": every watch event and
//! list counts, and a cheap probe (`GET /version` with the console's own client, every
//! [`PROBE_INTERVAL`]) keeps an idle but healthy cluster from looking stale. A probe that
//! answers after one that failed is a *recovery*: the watch loops re-list on it (the API server
//! may have come back with a fresh etcd whose resourceVersions are behind the cache's). Also which
//! caches are (re-)listing, for `/readyz`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_protocol::Contact;
use tokio::sync::{broadcast, watch};

use super::Change;

/// How often the probe asks the API server for its version.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long the probe waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Contact older than this is stale: a few probes in a row went unanswered.
pub const STALE_AFTER: Duration = Duration::from_secs(4);

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Mutex<State>>,
    /// Bumped at every recovery; the watch loops re-list when it changes.
    recoveries: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    last_contact: Option<f64>,
    /// Why the last probe failed (cleared by the next contact).
    error: Option<String>,
    /// A probe failed since the last successful one.
    down: bool,
    /// Caches that have not finished their current list (`namespace/resource`).
    listing: BTreeSet<String>,
    /// Whether the last published contact was stale, to announce flips.
    announced_stale: Option<bool>,
}

/// Unix seconds now.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            inner: Arc::default(),
            recoveries: watch::channel(0).0,
        }
    }
}

impl Tracker {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent: take it anyway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The API server answered something (a watch event, a list, the probe).
    pub fn contacted(&self) {
        let mut state = self.state();
        state.last_contact = Some(now());
        state.error = None;
    }

    /// The probe answered: contact, and a recovery if the previous probe had failed.
    fn probe_answered(&self) {
        let recovered = {
            let mut state = self.state();
            state.last_contact = Some(now());
            state.error = None;
            std::mem::take(&mut state.down)
        };
        if recovered {
            tracing::info!("the API server answers again; the caches re-list");
            self.recoveries.send_modify(|n| *n += 1);
        }
    }

    fn probe_failed(&self, error: String) {
        let mut state = self.state();
        state.down = true;
        state.error = Some(error);
    }

    /// A receiver that changes at every recovery.
    pub fn recoveries(&self) -> watch::Receiver<u64> {
        self.recoveries.subscribe()
    }

    /// `cache` (`namespace/resource`) started a list.
    pub fn listing(&self, cache: &str) {
        self.state().listing.insert(cache.to_owned());
    }

    /// `cache` finished its list.
    pub fn listed(&self, cache: &str) {
        self.state().listing.remove(cache);
    }

    /// The contact as the wire shows it, at `now`.
    pub fn contact(&self, now: f64) -> Contact {
        let state = self.state();
        contact_at(state.last_contact, state.error.clone(), now)
    }

    /// `Ok` when the API server answered recently and no cache is listing; else why not.
    pub fn readiness(&self) -> Result<(), String> {
        let now = now();
        let state = self.state();
        let contact = contact_at(state.last_contact, state.error.clone(), now);
        if contact.stale {
            return Err(match (contact.last_contact, contact.error) {
                (None, Some(e)) => format!("the API server has not answered yet: {e}"),
                (None, None) => "the API server has not answered yet".to_owned(),
                (Some(at), e) => format!(
                    "no answer from the API server for {:.0} s (more than {} s){}",
                    now - at,
                    STALE_AFTER.as_secs(),
                    e.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            });
        }
        if !state.listing.is_empty() {
            let caches: Vec<&str> = state.listing.iter().map(String::as_str).collect();
            return Err(format!(
                "caches not synced yet (listing): {}",
                caches.join(", ")
            ));
        }
        Ok(())
    }

    /// Whether the contact is stale now and was not when last announced (or the reverse).
    fn flipped(&self) -> bool {
        let now = now();
        let mut state = self.state();
        let stale = contact_at(state.last_contact, state.error.clone(), now).stale;
        let flipped = state.announced_stale != Some(stale);
        state.announced_stale = Some(stale);
        flipped
    }
}

fn contact_at(last_contact: Option<f64>, error: Option<String>, now: f64) -> Contact {
    let stale_after = STALE_AFTER.as_secs_f64();
    Contact {
        last_contact,
        stale: last_contact.is_none_or(|at| now - at > stale_after),
        stale_after_seconds: stale_after,
        error,
    }
}

/// Probes the API server every [`PROBE_INTERVAL`] for as long as the process runs, and announces
/// `Change::Freshness` whenever the contact turns stale or fresh.
pub(super) async fn probe(
    client: kube::Client,
    tracker: Tracker,
    changes: broadcast::Sender<Change>,
) {
    let mut ticker = tokio::time::interval(PROBE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
            Ok(Ok(_)) => tracker.probe_answered(),
            Ok(Err(e)) => tracker.probe_failed(e.to_string()),
            Err(_) => tracker.probe_failed(format!(
                "the API server did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            )),
        }
        if tracker.flipped() {
            let _ = changes.send(Change::Freshness);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_turns_stale_after_the_threshold_and_without_any() {
        let limit = STALE_AFTER.as_secs_f64();
        assert!(contact_at(None, None, 100.0).stale);
        assert!(!contact_at(Some(100.0), None, 100.0 + limit).stale);
        assert!(contact_at(Some(100.0), None, 100.0 + limit + 0.1).stale);
    }

    #[test]
    fn a_probe_answer_after_a_failure_is_a_recovery_and_readiness_follows() {
        let tracker = Tracker::default();
        let recoveries = tracker.recoveries();
        assert!(tracker.readiness().is_err(), "no contact yet");
        tracker.probe_answered();
        assert_eq!(*recoveries.borrow(), 0, "a first answer is no recovery");
        assert_eq!(tracker.readiness(), Ok(()));
        tracker.listing("hands-on/virtualservices");
        assert!(tracker
            .readiness()
            .unwrap_err()
            .contains("hands-on/virtualservices"));
        tracker.listed("hands-on/virtualservices");
        tracker.probe_failed("connection refused".into());
        tracker.probe_answered();
        assert_eq!(*recoveries.borrow(), 1);
        tracker.probe_answered();
        assert_eq!(
            *recoveries.borrow(),
            1,
            "only the first answer after a failure"
        );
    }
}
