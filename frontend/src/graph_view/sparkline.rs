//! The observed share of a service's rollout version over the last minutes, as an SVG polyline
//! (0% at the bottom, 100% at the top), a dashed line at the requested share, and a vertical
//! marker at each weight change; an axis (100% / 0%) beside it and, under it, the current value
//! and the time it spans. The geometry and the caption are pure and unit-tested natively.

use super::{label::fixed, test_ids};
use crate::state::graph::{ChangeMark, ShareSample, HORIZON_SECONDS};
use leptos::prelude::*;

pub const WIDTH: f64 = 240.0;
pub const HEIGHT: f64 = 44.0;

/// Shortest time a sparkline spans, in seconds.
pub const MIN_SPAN: f64 = 60.0;

/// Seconds the sparkline spans: from its first sample to `end`, at least [`MIN_SPAN`] and at
/// most [`HORIZON_SECONDS`], so a page opened a minute ago does not squeeze its data into the
/// right-hand tenth.
pub fn span(samples: &[ShareSample], end: f64) -> f64 {
    samples
        .first()
        .map_or(MIN_SPAN, |first| end - first.at)
        .clamp(MIN_SPAN, HORIZON_SECONDS)
}

/// x of a time within `[end - span, end]`.
pub fn x_of(at: f64, end: f64, span: f64) -> f64 {
    let start = end - span;
    ((at - start) / span * WIDTH).clamp(0.0, WIDTH)
}

/// y of a share in percent.
pub fn y_of(percent: f64) -> f64 {
    HEIGHT - percent.clamp(0.0, 100.0) / 100.0 * HEIGHT
}

/// `points` attributes of the polylines: one per unbroken run of samples with traffic (a
/// sample without traffic breaks the line rather than drawing it at zero).
pub fn polylines(samples: &[ShareSample], end: f64) -> Vec<String> {
    let span = span(samples, end);
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for sample in samples {
        match sample.observed {
            Some(observed) => current.push(format!(
                "{},{}",
                fixed(x_of(sample.at, end, span), 1),
                fixed(y_of(observed), 1)
            )),
            None => {
                if !current.is_empty() {
                    lines.push(current.join(" "));
                    current.clear();
                }
            }
        }
    }
    if !current.is_empty() {
        lines.push(current.join(" "));
    }
    lines
}

/// "now 19% · last 3 min" (or "now no traffic · last 60 s"): the newest sample and the span.
pub fn caption(samples: &[ShareSample], end: f64) -> String {
    let now = match samples.last().and_then(|s| s.observed) {
        Some(observed) => super::label::short_percent(observed),
        None => "no traffic".to_owned(),
    };
    let span = span(samples, end);
    let span = if span < 120.0 {
        format!("{} s", fixed(span, 0))
    } else {
        format!("{} min", fixed(span / 60.0, 0))
    };
    format!("now {now} · last {span}")
}

#[component]
pub fn Sparkline(
    service: String,
    #[prop(into)] samples: Signal<Vec<ShareSample>>,
    #[prop(into)] changes: Signal<Vec<ChangeMark>>,
    #[prop(into)] requested: Signal<Option<f64>>,
    #[prop(into)] end: Signal<f64>,
) -> impl IntoView {
    let lines = move || {
        polylines(&samples.get(), end.get())
            .into_iter()
            .map(|points| view! { <polyline class="sparkline-line" points=points /> })
            .collect_view()
    };
    // A lone point draws no line; a dot shows it.
    let last_dot = move || {
        samples.with(|s| {
            s.last().and_then(|last| {
                last.observed.map(|observed| {
                    view! {
                        <circle
                            class="sparkline-dot"
                            cx=fixed(x_of(last.at, end.get(), span(s, end.get())), 1)
                            cy=fixed(y_of(observed), 1)
                            r="2.5"
                        />
                    }
                })
            })
        })
    };
    let marker_id = test_ids::change_marker(&service);
    let markers = move || {
        let end = end.get();
        let span = samples.with(|s| span(s, end));
        changes
            .get()
            .into_iter()
            .map(|mark| {
                let x = fixed(x_of(mark.at, end, span), 1);
                view! {
                    <line class="sparkline-change" data-testid=marker_id.clone() x1=x.clone() x2=x y1="0" y2=HEIGHT.to_string()>
                        <title>{format!("weights changed to {}", mark.summary)}</title>
                    </line>
                }
            })
            .collect_view()
    };
    let requested_line = move || {
        requested.get().map(|r| {
            let y = fixed(y_of(r), 1);
            view! { <line class="sparkline-requested" x1="0" x2=WIDTH.to_string() y1=y.clone() y2=y /> }
        })
    };
    let caption_text = move || samples.with(|s| caption(s, end.get()));
    view! {
        <div class="sparkline-figure">
        <span class="sparkline-axis" aria-hidden="true"><span>"100%"</span><span>"0%"</span></span>
        <svg
            class="sparkline"
            data-testid=test_ids::sparkline(&service)
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            width=WIDTH.to_string()
            height=HEIGHT.to_string()
            role="img"
            aria-label=format!("observed share of {service}'s new version over the last minutes (up to 10); vertical lines mark weight changes")
            preserveAspectRatio="none"
        >
            <rect class="sparkline-frame" x="0" y="0" width=WIDTH.to_string() height=HEIGHT.to_string() />
            {requested_line}
            {markers}
            {lines}
            {last_dot}
        </svg>
        <p class="sparkline-caption" data-testid=test_ids::sparkline_caption(&service)>{caption_text}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_sample_is_at_the_right_and_shares_map_upwards() {
        assert_eq!(x_of(1000.0, 1000.0, HORIZON_SECONDS), WIDTH);
        assert_eq!(x_of(1000.0 - HORIZON_SECONDS, 1000.0, HORIZON_SECONDS), 0.0);
        assert_eq!(x_of(0.0, 1000.0, HORIZON_SECONDS), 0.0);
        assert_eq!(x_of(970.0, 1000.0, 60.0), WIDTH / 2.0);
        assert_eq!(y_of(0.0), HEIGHT);
        assert_eq!(y_of(100.0), 0.0);
        assert_eq!(y_of(150.0), 0.0);
    }

    #[test]
    fn the_span_grows_with_the_data_up_to_the_horizon() {
        let at = |at: f64| ShareSample { at, observed: None };
        assert_eq!(span(&[], 1000.0), MIN_SPAN);
        assert_eq!(span(&[at(990.0)], 1000.0), MIN_SPAN);
        assert_eq!(span(&[at(800.0), at(900.0)], 1000.0), 200.0);
        assert_eq!(span(&[at(0.0)], 1000.0), HORIZON_SECONDS);
    }

    #[test]
    fn the_caption_says_the_current_value_and_the_span() {
        let sample = |at: f64, observed: Option<f64>| ShareSample { at, observed };
        assert_eq!(caption(&[], 1000.0), "now no traffic · last 60 s");
        assert_eq!(
            caption(
                &[sample(800.0, Some(0.0)), sample(1000.0, Some(19.4))],
                1000.0
            ),
            "now 19% · last 3 min"
        );
    }

    #[test]
    fn gaps_without_traffic_break_the_line() {
        let sample = |at: f64, observed: Option<f64>| ShareSample { at, observed };
        let samples = [
            sample(400.0, Some(0.0)),
            sample(700.0, Some(50.0)),
            sample(800.0, None),
            sample(1000.0, Some(20.0)),
        ];
        assert_eq!(
            polylines(&samples, 1000.0),
            vec!["0.0,44.0 120.0,22.0".to_owned(), "240.0,35.2".to_owned()]
        );
        assert!(polylines(&[], 1000.0).is_empty());
    }
}
