//! Writes the history: one Kubernetes Event per weight change, built by `history::event_for`.

use k8s_openapi::api::core::v1::Event;
use kube::api::PostParams;
use kube::Api;
use switchyard_protocol::ChangeRecord;

use super::history;

/// Writes the Event for one change. Every replica that sees the change tries; the Event's name is
/// derived from the change, so the first write wins and the others get AlreadyExists.
pub(super) async fn record(events: Api<Event>, record: ChangeRecord, uid: Option<String>) {
    let event = history::event_for(&record, uid.as_deref());
    let event: Event = match serde_json::from_value(event) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "could not build the history event");
            return;
        }
    };
    match events.create(&PostParams::default(), &event).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => {
            tracing::warn!(error = %e, vs = %record.virtual_service, "could not record the change in the history")
        }
    }
}
