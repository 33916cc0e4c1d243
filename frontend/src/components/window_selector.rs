//! Chooses the rate window the graph, its splits and the weight cards' observed shares are
//! computed over, from those the server offers (`GET /api/v1/settings`); kept in the URL
//! (`?window=300`). The server reads every offered window on each refresh whoever looks, so a
//! choice here costs no query of its own.

use crate::state::{settings::use_settings, view_url::use_view};
use leptos::prelude::*;

/// `data-testid` of the `<select>`.
pub const WINDOW_SELECTOR: &str = "graph-window";

/// "30 s", "1 min", "15 min", "1 h 30 min": a window as people say it.
pub fn window_label(seconds: u32) -> String {
    match seconds {
        s if s < 60 || s % 60 != 0 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[component]
pub fn WindowSelector() -> impl IntoView {
    let settings = use_settings();
    let view = use_view();
    let windows = move || settings.windows.get();
    // The window in view: the URL's, else the server's default.
    let chosen = move || {
        view.0
            .with(|v| v.window)
            .or_else(|| windows().map(|w| w.default_seconds))
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    view! {
        <Show when=move || windows().is_some_and(|w| w.offered_seconds.len() > 1)>
            <label class="graph-namespace graph-window">
                <span>"Rate window"</span>
                <select
                    data-testid=WINDOW_SELECTOR
                    prop:value=chosen
                    on:change=move |event| {
                        let asked = event_target_value(&event).parse::<u32>().ok();
                        let default = windows().map(|w| w.default_seconds);
                        view.0.update(|v| v.window = asked.filter(|&s| Some(s) != default));
                    }
                >
                    {move || {
                        let chosen = chosen();
                        windows()
                            .map(|w| w.offered_seconds)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|s| {
                                let value = s.to_string();
                                let selected = value == chosen;
                                view! { <option value=value selected=selected>{window_label(s)}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_as_people_say_them() {
        let labels: Vec<String> = [30, 60, 90, 300, 900, 3600, 5400]
            .into_iter()
            .map(window_label)
            .collect();
        assert_eq!(
            labels,
            [
                "30 s",
                "1 min",
                "90 s",
                "5 min",
                "15 min",
                "1 h",
                "1 h 30 min"
            ]
        );
    }
}
