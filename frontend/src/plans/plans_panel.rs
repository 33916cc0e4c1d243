//! The release plans panel: the editor and one live card per plan, newest last.

use super::{plan_card::PlanCard, plan_editor::PlanEditor, store::PlansStore, test_ids};
use leptos::prelude::*;

#[component]
pub fn PlansPanel(store: PlansStore) -> impl IntoView {
    view! {
        <section id="plans" class="plans-panel" data-testid=test_ids::PLANS aria-labelledby="plans-heading">
            <h2 id="plans-heading" tabindex="-1">"Release plans"</h2>
            <For each=move || store.plans.with(|ps| ps.iter().map(|p| p.id.clone()).collect::<Vec<_>>())
                key=|id| id.clone() let:id>
                <PlanCard store=store id=id />
            </For>
            <PlanEditor store=store />
        </section>
    }
}
