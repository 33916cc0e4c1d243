//! Says when the live event stream is down and the page may be out of date, and when an update
//! could not be read. Absent while all is well.

use crate::api::events::{use_connection, ConnectionState};
use crate::weight_controls::test_ids::CONNECTION_BANNER;
use leptos::prelude::*;

/// "0.5 s", "2 s": milliseconds in words, without float formatting (it costs wasm size).
fn seconds(ms: u32) -> String {
    match (ms / 1000, ms % 1000 / 100) {
        (whole, 0) => format!("{whole} s"),
        (whole, tenths) => format!("{whole}.{tenths} s"),
    }
}

#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let connection = use_connection();
    let lost = move || {
        match connection.state.get() {
        ConnectionState::Reconnecting {
            attempt,
            retry_in_ms,
        } => Some(format!(
            "connection lost — reconnecting (attempt {attempt}, next try in {}); changes made elsewhere are not shown until then",
            seconds(retry_in_ms)
        )),
        ConnectionState::Connecting | ConnectionState::Live => None,
    }
    };
    view! {
        // The live region stays in the page so screen readers announce the text when it appears.
        <div class="connection-banner-region" role="status" aria-live="polite">
            {move || {
                lost()
                    .map(|text| {
                        view! {
                            <p class="connection-banner" data-testid=CONNECTION_BANNER>
                                {text}
                            </p>
                        }
                    })
            }}
            {move || {
                connection
                    .problem
                    .get()
                    .map(|text| view! { <p class="connection-banner is-problem">{text}</p> })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_delays_read_as_seconds() {
        assert_eq!(super::seconds(500), "0.5 s");
        assert_eq!(super::seconds(2000), "2 s");
        assert_eq!(super::seconds(15_000), "15 s");
    }
}
