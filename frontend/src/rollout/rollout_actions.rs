//! The team's rollout actions above the cards: the rollback button beside the bulk shift, sharing
//! the bulk panel's choice of services.

use super::{
    bulk_shift::{provide_bulk_choice, BulkShift},
    rollback_button::RollbackButton,
};
use leptos::prelude::*;

#[component]
pub fn RolloutActions() -> impl IntoView {
    provide_bulk_choice();
    view! {
        <div class="rollout-actions">
            <BulkShift />
            <RollbackButton />
        </div>
    }
}
