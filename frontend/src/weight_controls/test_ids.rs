//! The `data-testid` values the page puts on its elements, in one place so the browser tests and
//! the components cannot drift apart. `tests/README.md` lists them for people.
//!
//! `{key}` is a destination's subset, or its host when it has no subset (the weight API's key).

/// The card of one VirtualService: `vs-{ns}-{name}`.
pub fn virtual_service(namespace: &str, name: &str) -> String {
    format!("vs-{namespace}-{name}")
}

/// The card of one HTTPRoute: `httproute-{ns}-{name}`.
pub fn http_route(namespace: &str, name: &str) -> String {
    format!("httproute-{namespace}-{name}")
}

/// The `{name}` of every id inside a route object's card (routes, sliders, presets, Apply…)
/// and of its bulk-shift rows: a VirtualService's name as it is, an HTTPRoute's as
/// `httproute-{name}` (so `apply-httproute-review-1`), which keeps an HTTPRoute and a
/// VirtualService of the same name apart.
pub fn name_for(kind: switchyard_protocol::RouteKind, name: &str) -> String {
    match kind {
        switchyard_protocol::RouteKind::VirtualService => name.to_owned(),
        switchyard_protocol::RouteKind::HTTPRoute => format!("httproute-{name}"),
    }
}

/// The card's kind, in words (`VirtualService`, `HTTPRoute`): `kind-{name}` with the `{name}`
/// of [`name_for`], e.g. `kind-httproute-review`.
pub fn kind_badge(name: &str) -> String {
    format!("kind-{name}")
}

/// One route inside a card (weighted or read-only): `route-{name}-{index}`.
pub fn route(name: &str, index: usize) -> String {
    format!("route-{name}-{index}")
}

/// The slider (`<input type=range>`): `weight-{name}-{index}-{key}`.
pub fn weight_range(name: &str, index: usize, key: &str) -> String {
    format!("weight-{name}-{index}-{key}")
}

/// The number field bound to the slider: `weight-number-{name}-{index}-{key}`.
pub fn weight_number(name: &str, index: usize, key: &str) -> String {
    format!("weight-number-{name}-{index}-{key}")
}

/// Why what was typed into the number field is not a weight (shown while it is not):
/// `weight-error-{name}-{index}-{key}`.
pub fn weight_error(name: &str, index: usize, key: &str) -> String {
    format!("weight-error-{name}-{index}-{key}")
}

/// "requested X%" from the server: `requested-{name}-{index}-{key}`.
pub fn requested(name: &str, index: usize, key: &str) -> String {
    format!("requested-{name}-{index}-{key}")
}

/// "observed Y%" when the server has traffic numbers: `observed-{name}-{index}-{key}`.
pub fn observed(name: &str, index: usize, key: &str) -> String {
    format!("observed-{name}-{index}-{key}")
}

/// A preset button of a two-way route: `preset-{name}-{index}-{first}-{second}`, e.g.
/// `preset-review-1-80-20`.
pub fn preset(name: &str, index: usize, first: u32, second: u32) -> String {
    format!("preset-{name}-{index}-{first}-{second}")
}

/// The Apply button: `apply-{name}-{index}`.
pub fn apply(name: &str, index: usize) -> String {
    format!("apply-{name}-{index}")
}

/// The result or error of the last Apply, in words (aria-live): `status-{name}-{index}`.
pub fn status(name: &str, index: usize) -> String {
    format!("status-{name}-{index}")
}

/// "changed on the server (now …)" next to an unsaved draft: `server-change-{name}-{index}`.
pub fn server_change(name: &str, index: usize) -> String {
    format!("server-change-{name}-{index}")
}

/// "weights sum to 90; Istio sends 77.8 % / 22.2 %" under a route whose weights in the cluster do
/// not add up to 100: `sum-note-{name}-{index}`.
pub fn sum_note(name: &str, index: usize) -> String {
    format!("sum-note-{name}-{index}")
}

/// On a card whose routes another controller manages, the warning naming it:
/// `ownership-warning-{name}`.
pub fn ownership_warning(name: &str) -> String {
    format!("ownership-warning-{name}")
}

/// The buttons of the question Apply asks first on such a card: `ownership-confirm-{name}-{index}`
/// and `ownership-cancel-{name}-{index}`.
pub fn ownership_confirm(name: &str, index: usize) -> String {
    format!("ownership-confirm-{name}-{index}")
}
pub fn ownership_cancel(name: &str, index: usize) -> String {
    format!("ownership-cancel-{name}-{index}")
}

/// The "discard my draft" button: `discard-{name}-{index}`.
pub fn discard(name: &str, index: usize) -> String {
    format!("discard-{name}-{index}")
}

/// The "connection lost — reconnecting" banner.
pub const CONNECTION_BANNER: &str = "connection-banner";

/// An element id (for `<label for>`) that is unique on the page, unlike test ids which omit the
/// namespace: anything outside `[A-Za-z0-9-]` becomes `_`.
pub fn element_id(parts: &[&str]) -> String {
    parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_documented_shapes() {
        assert_eq!(virtual_service("hands-on", "review"), "vs-hands-on-review");
        assert_eq!(weight_range("review", 1, "old"), "weight-review-1-old");
        assert_eq!(
            weight_number("review", 1, "new"),
            "weight-number-review-1-new"
        );
        assert_eq!(preset("review", 1, 80, 20), "preset-review-1-80-20");
        assert_eq!(apply("review", 1), "apply-review-1");
        assert_eq!(status("review", 1), "status-review-1");
        use switchyard_protocol::RouteKind;
        assert_eq!(
            http_route("hands-on-gateway", "review"),
            "httproute-hands-on-gateway-review"
        );
        let name = name_for(RouteKind::HTTPRoute, "review");
        assert_eq!(apply(&name, 1), "apply-httproute-review-1");
        assert_eq!(
            weight_range(&name, 1, "review-v2"),
            "weight-httproute-review-1-review-v2"
        );
        assert_eq!(name_for(RouteKind::VirtualService, "review"), "review");
        assert_eq!(kind_badge(&name), "kind-httproute-review");
        assert_eq!(
            element_id(&["w", "hands-on", "a.b", "1"]),
            "w-hands-on-a_b-1"
        );
    }
}
