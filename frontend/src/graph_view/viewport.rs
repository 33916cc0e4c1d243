//! Pure viewport geometry of the graph panel: where the drawing sits on screen (`screen = world
//! × k + (x, y)`), fitting it to the panel, zooming about a point, centring on a node, and the
//! level of detail a zoom allows (labels only where they are legible). No DOM: the panel
//! (`graph_canvas.rs`) applies a [`Viewport`] as one CSS transform.

/// Closest and farthest zoom.
pub const MIN_ZOOM: f64 = 0.02;
pub const MAX_ZOOM: f64 = 4.0;
/// Zoom when jumping to one node: its labels at their designed size.
pub const NODE_ZOOM: f64 = 1.0;
/// Room kept around a fitted drawing, in screen pixels.
pub const FIT_PADDING: f64 = 12.0;

/// A pan and a zoom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            x: 0.0,
            y: 0.0,
            k: 1.0,
        }
    }
}

/// How much of the drawing's text is drawn at a zoom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Shapes and lines only: names would be under 4 px.
    Shapes,
    /// Node names, no captions, edge labels or split badges.
    Names,
    /// Everything.
    Full,
}

impl Detail {
    /// Text of 11–12.5 px is legible from a little under half its size (the demo's five layers
    /// fit a 1,200 px window's graph column at 0.49); names (the larger, bolder text) earlier
    /// than the rest.
    pub fn at(k: f64) -> Detail {
        if k >= 0.45 {
            Detail::Full
        } else if k >= 0.32 {
            Detail::Names
        } else {
            Detail::Shapes
        }
    }

    /// The class on the `<svg>` that `style/graph.css` hides text by.
    pub fn class(self) -> &'static str {
        match self {
            Detail::Shapes => "lod-shapes",
            Detail::Names => "lod-names",
            Detail::Full => "lod-full",
        }
    }
}

impl Viewport {
    /// The whole drawing (`content`, world pixels) centred in the panel (`panel`, screen pixels),
    /// as large as fits but never above `max_k`.
    pub fn fit(content: (f64, f64), panel: (f64, f64), max_k: f64) -> Viewport {
        let (cw, ch) = (content.0.max(1.0), content.1.max(1.0));
        let (pw, ph) = (
            (panel.0 - 2.0 * FIT_PADDING).max(1.0),
            (panel.1 - 2.0 * FIT_PADDING).max(1.0),
        );
        let k = (pw / cw).min(ph / ch).min(max_k).clamp(MIN_ZOOM, MAX_ZOOM);
        Viewport {
            x: (panel.0 - cw * k) / 2.0,
            y: (panel.1 - ch * k) / 2.0,
            k,
        }
    }

    /// Zoomed by `factor` about the screen point `at`, which stays where it is.
    pub fn zoom_at(self, at: (f64, f64), factor: f64) -> Viewport {
        let k = (self.k * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let f = k / self.k;
        Viewport {
            x: at.0 - (at.0 - self.x) * f,
            y: at.1 - (at.1 - self.y) * f,
            k,
        }
    }

    /// Moved by a screen distance.
    pub fn pan(self, dx: f64, dy: f64) -> Viewport {
        Viewport {
            x: self.x + dx,
            y: self.y + dy,
            k: self.k,
        }
    }

    /// The world point `point` in the middle of the panel at zoom `k`.
    pub fn centred_on(point: (f64, f64), k: f64, panel: (f64, f64)) -> Viewport {
        let k = k.clamp(MIN_ZOOM, MAX_ZOOM);
        Viewport {
            x: panel.0 / 2.0 - point.0 * k,
            y: panel.1 / 2.0 - point.1 * k,
            k,
        }
    }

    /// The world point at the middle of the panel.
    pub fn centre(self, panel: (f64, f64)) -> (f64, f64) {
        (
            (panel.0 / 2.0 - self.x) / self.k,
            (panel.1 / 2.0 - self.y) / self.k,
        )
    }

    /// Whether a world point lies in the panel, at least `margin` screen pixels inside it.
    pub fn shows(self, point: (f64, f64), panel: (f64, f64), margin: f64) -> bool {
        let (sx, sy) = (point.0 * self.k + self.x, point.1 * self.k + self.y);
        sx >= margin && sy >= margin && sx <= panel.0 - margin && sy <= panel.1 - margin
    }

    /// The CSS transform that puts the drawing there.
    pub fn css(self) -> String {
        format!(
            "transform: translate({}px, {}px) scale({})",
            round3(self.x),
            round3(self.y),
            round5(self.k)
        )
    }
}

/// The panel's height for a drawing of `content` in a panel `width` wide in a window
/// `window_height` tall: the fitted drawing's own height (at most `max_k`, as [`Viewport::fit`]),
/// between 16 rem and `share` of the window, so a small mesh takes little room and a large one
/// never grows the page.
pub fn panel_height(
    content: (f64, f64),
    width: f64,
    window_height: f64,
    max_k: f64,
    share: f64,
) -> f64 {
    let k = ((width - 2.0 * FIT_PADDING).max(1.0) / content.0.max(1.0)).min(max_k);
    let wanted = content.1 * k + 2.0 * FIT_PADDING;
    let most = (window_height * share).max(256.0);
    wanted.clamp(256.0, most)
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn round5(v: f64) -> f64 {
    (v * 100_000.0).round() / 100_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn fit_centres_and_never_grows_past_its_limit() {
        let v = Viewport::fit((1000.0, 500.0), (524.0, 1000.0), 1.0);
        assert!(close(v.k, 0.5));
        assert!(close(v.x, 12.0));
        assert!(close(v.y, (1000.0 - 250.0) / 2.0));
        let small = Viewport::fit((100.0, 50.0), (1000.0, 1000.0), 1.0);
        assert!(close(small.k, 1.0));
        let wall = Viewport::fit((100.0, 50.0), (1024.0, 1000.0), 4.0);
        assert!(close(wall.k, 4.0));
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer() {
        let v = Viewport {
            x: 30.0,
            y: -40.0,
            k: 0.5,
        };
        let at = (200.0, 150.0);
        let world = ((at.0 - v.x) / v.k, (at.1 - v.y) / v.k);
        let z = v.zoom_at(at, 1.7);
        assert!(close(z.k, 0.85));
        assert!(close(world.0 * z.k + z.x, at.0) && close(world.1 * z.k + z.y, at.1));
        assert!(close(v.zoom_at(at, 1e9).k, MAX_ZOOM));
        assert!(close(v.zoom_at(at, 1e-9).k, MIN_ZOOM));
    }

    #[test]
    fn centring_on_a_node_puts_it_mid_panel() {
        let panel = (800.0, 600.0);
        let v = Viewport::centred_on((1234.0, 5678.0), 1.0, panel);
        let (cx, cy) = v.centre(panel);
        assert!(close(cx, 1234.0) && close(cy, 5678.0));
        assert!(v.shows((1234.0, 5678.0), panel, 100.0));
        assert!(!v.shows((0.0, 0.0), panel, 0.0));
        assert_eq!(v.pan(10.0, -5.0).x, v.x + 10.0);
    }

    #[test]
    fn labels_only_where_legible() {
        assert_eq!(Detail::at(1.0), Detail::Full);
        assert_eq!(Detail::at(0.6), Detail::Full);
        assert_eq!(Detail::at(0.4), Detail::Names);
        assert_eq!(Detail::at(0.17), Detail::Shapes);
        assert_eq!(Detail::at(0.17).class(), "lod-shapes");
    }

    #[test]
    fn the_panel_grows_with_a_small_graph_and_stops_for_a_large_one() {
        assert_eq!(
            panel_height((1000.0, 500.0), 1024.0, 1000.0, 1.0, 0.75),
            524.0
        );
        assert_eq!(
            panel_height((3000.0, 40000.0), 1024.0, 1000.0, 1.0, 0.75),
            750.0
        );
        assert_eq!(
            panel_height((1000.0, 50.0), 1024.0, 1000.0, 1.0, 0.75),
            256.0
        );
    }

    #[test]
    fn css_is_compact() {
        let v = Viewport {
            x: 1.0 / 3.0,
            y: 2.0,
            k: 0.123456789,
        };
        assert_eq!(v.css(), "transform: translate(0.333px, 2px) scale(0.12346)");
    }
}
