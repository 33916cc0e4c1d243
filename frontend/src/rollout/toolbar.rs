//! The toolbar that stays at the top of the window at any scroll position (sticky): the
//! rollback, one click from anywhere (it opens the same question as the rollback section), and a
//! jump to the history.

use super::{rollback_button::use_rollback_request, test_ids};
use crate::state::settings::use_settings;
use leptos::prelude::*;

#[component]
pub fn Toolbar() -> impl IntoView {
    let rollback = use_rollback_request();
    let settings = use_settings();
    let to_history = move |_| {
        let Some(section) = document().get_element_by_id("history") else {
            return;
        };
        section.scroll_into_view();
        // Keyboard users land on the heading, not back at the top.
        if let Some(heading) = document().get_element_by_id("history-title") {
            if let Ok(heading) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(heading) {
                let _ = heading.focus();
            }
        }
    };
    view! {
        <nav class="toolbar" aria-label="actions" data-testid=test_ids::TOOLBAR>
            <button
                type="button"
                class="danger-button toolbar-rollback"
                data-testid=test_ids::TOOLBAR_ROLLBACK
                prop:disabled=move || settings.subsets.with(Option::is_none)
                on:click=move |_| rollback.ask()
            >
                "Roll back…"
            </button>
            <button
                type="button"
                class="link-button toolbar-history"
                data-testid=test_ids::TOOLBAR_HISTORY
                on:click=to_history
            >
                "History"
            </button>
        </nav>
    }
}
