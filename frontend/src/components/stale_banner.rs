//! Says when the console has lost touch with the API server, so the routes and the graph on the
//! page may be out of date: since when, and why. The stamp comes with every route list and graph
//! the server sends (`Freshness`); the banner goes away with the first fresh one. (Stale metrics
//! have the graph's own banner, `graph_view::metrics_banner`.)

use crate::api::events::use_freshness;
use crate::state::graph::clock_time;
use leptos::prelude::*;
use switchyard_protocol::Contact;

/// `data-testid` of the banner.
pub const STALE_CLUSTER_BANNER: &str = "stale-cluster-banner";

/// The banner's sentence for the API server's contact, or `None` while it is fresh.
pub fn stale_text(contact: &Contact) -> Option<String> {
    if !contact.stale {
        return None;
    }
    let why = contact
        .error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    Some(match contact.last_contact {
        Some(at) => format!(
            "The Kubernetes API server has not answered since {} UTC{why}: routes and graph may be out of date.",
            clock_time(at)
        ),
        None => format!(
            "The Kubernetes API server has not answered yet{why}: routes and graph may be out of date."
        ),
    })
}

#[component]
pub fn StaleBanner() -> impl IntoView {
    let freshness = use_freshness();
    let text = move || freshness.get().and_then(|f| stale_text(&f.cluster));
    view! {
        <div class="stale-banner-region" role="status" aria-live="polite">
            {move || {
                text()
                    .map(|text| {
                        view! {
                            <p class="connection-banner is-stale" data-testid=STALE_CLUSTER_BANNER>
                                {text}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_since_when_and_why_only_while_stale() {
        let mut contact = Contact {
            last_contact: Some(3661.0),
            stale: false,
            stale_after_seconds: 4.0,
            error: None,
        };
        assert_eq!(stale_text(&contact), None);
        contact.stale = true;
        contact.error = Some("connection refused".into());
        let text = stale_text(&contact).unwrap();
        assert!(text.contains("since 01:01:01 UTC"), "{text}");
        assert!(text.contains("connection refused"), "{text}");
        contact.last_contact = None;
        assert!(stale_text(&contact).unwrap().contains("not answered yet"));
    }
}
