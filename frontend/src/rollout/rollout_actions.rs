//! The team's rollout actions above the cards: the rollback button beside the bulk shift.

use super::{bulk_shift::BulkShift, rollback_button::RollbackButton};
use leptos::prelude::*;

#[component]
pub fn RolloutActions() -> impl IntoView {
    view! {
        <div class="rollout-actions">
            <BulkShift />
            <RollbackButton />
        </div>
    }
}
