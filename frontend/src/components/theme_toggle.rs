//! Light or dark: the page follows the system's `prefers-color-scheme` until the person picks one
//! with this toggle; the pick is remembered in localStorage and applied as `data-theme` on
//! `<html>` (the palettes are in `style/tokens.css`).

use leptos::prelude::*;

/// localStorage key of the chosen theme (`light` or `dark`); absent means "follow the system".
pub const STORAGE_KEY: &str = "switchyard-theme";
/// The toggle's test id.
pub const THEME_TOGGLE: &str = "theme-toggle";

fn stored() -> Option<String> {
    let storage = window().local_storage().ok().flatten()?;
    storage
        .get_item(STORAGE_KEY)
        .ok()
        .flatten()
        .filter(|t| t == "light" || t == "dark")
}

fn system_is_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

fn apply(theme: Option<&str>) {
    if let Some(root) = document().document_element() {
        let _ = match theme {
            Some(theme) => root.set_attribute("data-theme", theme),
            None => root.remove_attribute("data-theme"),
        };
    }
}

/// Applies a remembered choice at start-up, before anything is drawn.
pub fn restore() {
    apply(stored().as_deref());
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(stored().map_or_else(system_is_dark, |t| t == "dark"));
    let toggle = move |_| {
        let next = !dark.get_untracked();
        let theme = if next { "dark" } else { "light" };
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, theme);
        }
        apply(Some(theme));
        dark.set(next);
    };
    view! {
        <button
            type="button"
            class="theme-toggle secondary-button"
            data-testid=THEME_TOGGLE
            aria-pressed=move || dark.get().to_string()
            on:click=toggle
        >
            "Dark mode"
        </button>
    }
}
