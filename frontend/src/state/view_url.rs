//! The graph view's state lives in the URL query, so a link shows a colleague the same view:
//! `?mode=rate&select=svc:hands-on:review&ns=hands-on&window=300`. [`parse`] and [`format`] are pure and
//! unit-tested natively; [`provide_view`] reads the query once on load and writes every change
//! back without a reload: a change of the selection is a new history entry (`pushState`), so
//! Back returns to the previous selection instead of leaving the app; other changes (label mode,
//! namespace) replace the current entry. Back and Forward (`popstate`) restore the view they
//! reach, and Esc clears the selection.
//!
//! The graph's viewport and its find/hide state are kept too: `at=CX,CY,K` (the world point in
//! the middle of the panel and the zoom; absent while the graph is fitted), `q=` (the search),
//! `weighted`, `errors=N` and `p95=N` (the hide filters), `collapse=ns:NS,app:NS:APP` (collapsed
//! groups) and `list` (the list view instead of the drawing). They replace the current entry.
//!
//! `bench=N` asks for the render benchmark: the page draws a synthetic graph of N nodes instead
//! of the live one (see `graph_view::bench_probe`). `kiosk` (no value) is the wall display: no
//! controls, large type, the graph fitted to the screen; it stays in the URL so a reload keeps it.

use crate::graph_view::label::{fixed, LabelMode};
use leptos::prelude::*;

/// What the graph shows; the defaults are left out of the URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    pub mode: LabelMode,
    /// The selected node's id (a service), whose weight controls open beside the graph.
    pub select: Option<String>,
    /// Only this namespace's nodes (entry and unknown always show); all when `None`.
    pub namespace: Option<String>,
    /// Render benchmark: synthetic graph with this many nodes.
    pub bench: Option<usize>,
    /// Wall display: `?kiosk`.
    pub kiosk: bool,
    /// The rate window in seconds (`?window=300`); the server's default when `None`.
    pub window: Option<u32>,
    /// The viewport: the world point in the middle of the panel and the zoom; `None` = fitted.
    pub at: Option<(f64, f64, f64)>,
    /// The search (find) text.
    pub query: String,
    /// Hide every service without a weighted route.
    pub weighted: bool,
    /// Hide every service whose errors are not above this percent.
    pub errors_above: Option<f64>,
    /// Hide every service whose p95 is not above this many ms.
    pub p95_above: Option<f64>,
    /// Collapsed groups, as `ns:NS` or `app:NS:APP`.
    pub collapse: Vec<String>,
    /// The list view instead of the drawing.
    pub list: bool,
}

/// A non-negative finite number.
fn number(value: &str) -> Option<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn viewport(value: &str) -> Option<(f64, f64, f64)> {
    let mut parts = value
        .split(',')
        .map(|p| p.parse::<f64>().ok().filter(|v| v.is_finite()));
    let (x, y, k) = (parts.next()??, parts.next()??, parts.next()??);
    (parts.next().is_none() && k > 0.0).then_some((x, y, k))
}

/// Reads a query string (with or without the leading `?`). Unknown keys and bad values are
/// ignored: a stale link still opens the page.
pub fn parse(query: &str) -> ViewState {
    let mut view = ViewState::default();
    for pair in query.trim_start_matches('?').split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value);
        match key {
            "mode" => view.mode = LabelMode::parse(&value).unwrap_or_default(),
            "select" if !value.is_empty() => view.select = Some(value),
            "ns" if !value.is_empty() => view.namespace = Some(value),
            "bench" => view.bench = value.parse().ok().filter(|&n| n > 0),
            "kiosk" => view.kiosk = true,
            "window" => view.window = value.parse().ok().filter(|&s| s > 0),
            "at" => view.at = viewport(&value),
            "q" if !value.trim().is_empty() => view.query = value,
            "weighted" => view.weighted = true,
            "errors" => view.errors_above = number(&value),
            "p95" => view.p95_above = number(&value),
            "collapse" => {
                view.collapse = value
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "list" => view.list = true,
            _ => {}
        }
    }
    view
}

/// The query for a view: `""` for the default view, else `?key=value&…` in a fixed order.
pub fn format(view: &ViewState) -> String {
    let mut pairs = Vec::new();
    if view.mode != LabelMode::default() {
        pairs.push(format!("mode={}", view.mode.as_str()));
    }
    if let Some(select) = &view.select {
        pairs.push(format!("select={}", encode(select)));
    }
    if let Some(namespace) = &view.namespace {
        pairs.push(format!("ns={}", encode(namespace)));
    }
    if let Some(bench) = view.bench {
        pairs.push(format!("bench={bench}"));
    }
    if let Some(window) = view.window {
        pairs.push(format!("window={window}"));
    }
    if view.kiosk {
        pairs.push("kiosk".to_owned());
    }
    if let Some((x, y, k)) = view.at {
        pairs.push(format!(
            "at={},{},{}",
            fixed(x, 0),
            fixed(y, 0),
            fixed(k, 3)
        ));
    }
    if !view.query.is_empty() {
        pairs.push(format!("q={}", encode(&view.query)));
    }
    if view.weighted {
        pairs.push("weighted".to_owned());
    }
    if let Some(errors) = view.errors_above {
        pairs.push(format!("errors={}", trimmed(errors)));
    }
    if let Some(p95) = view.p95_above {
        pairs.push(format!("p95={}", trimmed(p95)));
    }
    if !view.collapse.is_empty() {
        let groups: Vec<String> = view.collapse.iter().map(|g| encode(g)).collect();
        pairs.push(format!("collapse={}", groups.join(",")));
    }
    if view.list {
        pairs.push("list".to_owned());
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// A number with up to two decimals and no trailing zeros: `5`, `0.5`.
fn trimmed(value: f64) -> String {
    let text = fixed(value, 2);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Percent-encodes a query value; `:` stays readable (it is allowed in a query).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` and `+`; a malformed escape is kept as written.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The view as a signal the whole page shares.
#[derive(Clone, Copy)]
pub struct View(pub RwSignal<ViewState>);

/// Reads the view from the page's URL and keeps the URL in step with it from then on.
pub fn provide_view() -> View {
    let search = window().location().search().unwrap_or_default();
    let view = View(RwSignal::new(parse(&search)));
    provide_context(view);
    Effect::new(move |previous: Option<ViewState>| {
        let current = view.0.get();
        let query = format(&current);
        let location = window().location();
        let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
        if location.search().unwrap_or_default() != query {
            if let Ok(history) = window().history() {
                let url = format!("{path}{query}");
                let null = wasm_bindgen::JsValue::NULL;
                let _ = if is_new_entry(previous.as_ref(), &current) {
                    history.push_state_with_url(&null, "", Some(&url))
                } else {
                    history.replace_state_with_url(&null, "", Some(&url))
                };
            }
        }
        current
    });
    // Back and Forward within the app: the URL they reach is the view to show.
    let popstate = window_event_listener(leptos::ev::popstate, move |_| {
        let search = window().location().search().unwrap_or_default();
        let reached = parse(&search);
        if view.0.with_untracked(|v| *v != reached) {
            view.0.set(reached);
        }
    });
    // Esc clears the selection, unless something on the page (a dialog) already used the key.
    let escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape"
            && !event.default_prevented()
            && view.0.with_untracked(|v| v.select.is_some())
        {
            view.0.update(|v| v.select = None);
        }
    });
    on_cleanup(move || {
        popstate.remove();
        escape.remove();
    });
    view
}

/// Whether going from `previous` to `current` deserves its own history entry: a change of the
/// selection does (Back should undo it); the first render and other changes do not.
fn is_new_entry(previous: Option<&ViewState>, current: &ViewState) -> bool {
    previous.is_some_and(|p| p.select != current.select)
}

pub fn use_view() -> View {
    expect_context::<View>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_new_selection_is_a_new_history_entry() {
        let review = parse("?select=svc:hands-on:review");
        let product = parse("?select=svc:hands-on:product");
        let rate = parse("?select=svc:hands-on:review&mode=rate");
        assert!(!is_new_entry(None, &review), "the first render replaces");
        assert!(is_new_entry(Some(&review), &product));
        assert!(is_new_entry(Some(&review), &ViewState::default()));
        assert!(!is_new_entry(Some(&review), &rate), "a label mode replaces");
    }

    #[test]
    fn the_documented_link_parses() {
        let view = parse("?mode=rate&select=svc:hands-on:review&ns=hands-on");
        assert_eq!(
            view,
            ViewState {
                mode: LabelMode::Rate,
                select: Some("svc:hands-on:review".into()),
                namespace: Some("hands-on".into()),
                bench: None,
                kiosk: false,
                ..ViewState::default()
            }
        );
        assert_eq!(parse("?window=300").window, Some(300));
        assert_eq!(
            format(&parse("?window=300&mode=rate")),
            "?mode=rate&window=300"
        );
        assert!(parse("?kiosk").kiosk);
        assert_eq!(format(&parse("?kiosk&mode=rate")), "?mode=rate&kiosk");
        assert_eq!(
            format(&view),
            "?mode=rate&select=svc:hands-on:review&ns=hands-on"
        );
    }

    #[test]
    fn viewport_and_find_state_round_trip() {
        let link = "?at=1234,567,0.8&q=svc0012%20v:v2&weighted&errors=0.5&p95=200&collapse=ns:bench,app:bench:svc0001&list";
        let view = parse(link);
        assert_eq!(view.at, Some((1234.0, 567.0, 0.8)));
        assert_eq!(view.query, "svc0012 v:v2");
        assert!(view.weighted && view.list);
        assert_eq!(view.errors_above, Some(0.5));
        assert_eq!(view.p95_above, Some(200.0));
        assert_eq!(view.collapse, ["ns:bench", "app:bench:svc0001"]);
        assert_eq!(format(&view), link.replace("0.8&", "0.800&"));
        assert_eq!(parse(&format(&view)), view);
        let bad = parse("?at=1,2&errors=-1&p95=x&q=%20&collapse=");
        assert_eq!(bad, ViewState::default());
        assert_eq!(parse("?at=1,2,0").at, None);
    }

    #[test]
    fn defaults_leave_the_url_clean() {
        assert_eq!(parse(""), ViewState::default());
        assert_eq!(parse("?"), ViewState::default());
        assert_eq!(format(&ViewState::default()), "");
        assert_eq!(format(&parse("?mode=distribution")), "");
    }

    #[test]
    fn bad_values_are_ignored() {
        let view = parse("?mode=nope&select=&ns=&bench=zero&other=1&justakey&Kiosk");
        assert_eq!(view, ViewState::default());
        assert_eq!(parse("bench=1000").bench, Some(1000));
        assert_eq!(parse("bench=0").bench, None);
        assert_eq!(parse("window=0").window, None);
        assert_eq!(parse("window=5m").window, None);
    }

    #[test]
    fn values_round_trip_through_encoding() {
        for select in [
            "svc:hands-on:review",
            "wl:a b:c&d=e",
            "100%",
            "ünïcode",
            "%zz",
        ] {
            let view = ViewState {
                select: Some(select.into()),
                mode: LabelMode::Errors,
                ..ViewState::default()
            };
            assert_eq!(parse(&format(&view)), view, "{select}");
        }
        assert_eq!(decode("a+b%20c%2"), "a b c%2");
        assert_eq!(decode("%"), "%");
    }
}
