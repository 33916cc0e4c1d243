//! Says when the graph's metrics are stale: the server's last metrics refresh failed, so rates
//! are from an earlier successful one (or absent). The connection banner covers the stream.

use super::test_ids;
use crate::state::graph::{clock_time, use_graph};
use leptos::prelude::*;
use switchyard_protocol::MetricsStatus;

/// The banner's sentence, or `None` while metrics are fresh.
pub fn stale_text(metrics: &MetricsStatus) -> Option<String> {
    if metrics.fresh {
        return None;
    }
    let why = metrics
        .error
        .as_deref()
        .unwrap_or("the last refresh failed");
    Some(match metrics.last_success {
        Some(at) => format!("metrics stale since {} UTC: {why}", clock_time(at)),
        None => format!("no metrics yet: {why}"),
    })
}

#[component]
pub fn MetricsBanner() -> impl IntoView {
    let store = use_graph();
    let text = move || {
        store
            .graph
            .with(|g| g.as_ref().and_then(|g| stale_text(&g.metrics)))
    };
    view! {
        <div class="metrics-banner-region" role="status" aria-live="polite">
            {move || {
                text().map(|text| view! { <p class="metrics-banner" data-testid=test_ids::METRICS_BANNER>{text}</p> })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_metrics_say_since_when_and_why() {
        let fresh = MetricsStatus {
            fresh: true,
            last_success: Some(0.0),
            error: None,
        };
        assert_eq!(stale_text(&fresh), None);
        let stale = MetricsStatus {
            fresh: false,
            last_success: Some(3600.0 + 61.0),
            error: Some("prometheus did not answer within 5s".into()),
        };
        assert_eq!(
            stale_text(&stale).as_deref(),
            Some("metrics stale since 01:01:01 UTC: prometheus did not answer within 5s")
        );
        let never = MetricsStatus {
            fresh: false,
            last_success: None,
            error: None,
        };
        assert_eq!(
            stale_text(&never).as_deref(),
            Some("no metrics yet: the last refresh failed")
        );
    }
}
