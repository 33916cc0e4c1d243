//! The four edge-label modes (as in Kiali): requests distribution, request rate, response time
//! (p95), error rate. A toggle group; the choice is kept in the URL.

use super::{label::LabelMode, test_ids};
use crate::state::view_url::use_view;
use leptos::prelude::*;

#[component]
pub fn LabelModeSelector() -> impl IntoView {
    let view = use_view();
    let buttons = LabelMode::ALL
        .into_iter()
        .map(|mode| {
            let pressed = move || view.0.with(|v| v.mode == mode);
            view! {
                <button
                    type="button"
                    class=move || if pressed() { "label-mode is-active" } else { "label-mode" }
                    data-testid=test_ids::label_mode(mode.as_str())
                    aria-pressed=move || pressed().to_string()
                    on:click=move |_| view.0.update(|v| v.mode = mode)
                >
                    {mode.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="label-modes" role="group" aria-label="edge labels">
            {buttons}
        </div>
    }
}
