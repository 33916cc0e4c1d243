//! One-click splits for a two-way route (100/0, 80/20, 50/50, 0/100): the common steps of a
//! canary rollout and its rollback.

use super::test_ids;
use leptos::prelude::*;
use switchyard_protocol::weights::PRESETS;

#[component]
pub fn PresetButtons(
    name: String,
    index: usize,
    /// The keys of the two destinations, in route order.
    first: String,
    second: String,
    #[prop(into)] disabled: Signal<bool>,
    /// Called with (first, second) weights.
    on_pick: Callback<(u32, u32)>,
) -> impl IntoView {
    let buttons = PRESETS
        .iter()
        .map(|&(a, b)| {
            view! {
                <button
                    type="button"
                    class="preset-button"
                    data-testid=test_ids::preset(&name, index, a, b)
                    title=format!("set {first} {a}, {second} {b}")
                    prop:disabled=move || disabled.get()
                    on:click=move |_| on_pick.run((a, b))
                >
                    {format!("{a} / {b}")}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="preset-buttons" role="group" aria-label=format!("presets, {first} / {second}")>
            {buttons}
        </div>
    }
}
