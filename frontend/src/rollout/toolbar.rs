//! The toolbar that stays at the top of the window at any scroll position (sticky): the
//! rollback, one click from anywhere (it opens the same question as the rollback section), and
//! jumps to the release plans and to the history (the plans panel sits at the end of the
//! controls column, which scrolls on its own on wide screens).

use super::{rollback_button::use_rollback_request, test_ids};
use crate::state::settings::use_settings;
use leptos::prelude::*;

#[component]
pub fn Toolbar() -> impl IntoView {
    let rollback = use_rollback_request();
    let settings = use_settings();
    // Brings a section into view and puts keyboard users on its heading, not back at the top.
    let jump = |section: &'static str, heading: &'static str| {
        move |_| {
            let Some(section) = document().get_element_by_id(section) else {
                return;
            };
            section.scroll_into_view();
            if let Some(heading) = document().get_element_by_id(heading) {
                if let Ok(heading) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(heading)
                {
                    let _ = heading.focus();
                }
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
                class="link-button toolbar-plans"
                data-testid=test_ids::TOOLBAR_PLANS
                on:click=jump("plans", "plans-heading")
            >
                "Release plans"
            </button>
            <button
                type="button"
                class="link-button toolbar-history"
                data-testid=test_ids::TOOLBAR_HISTORY
                on:click=jump("history", "history-title")
            >
                "History"
            </button>
        </nav>
    }
}
