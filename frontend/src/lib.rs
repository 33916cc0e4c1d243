//! Switchyard's browser app: a Leptos client-side-rendered page listing every weighted Istio
//! route, with linked sliders to shift traffic between destinations and live updates from the
//! server.
//!
//! Components live in this lib and `main.rs` only mounts [`App`]: cargo skips LTO for cdylib
//! crates, and the bin target is what gets fat LTO under the `wasm-release` profile. Everything
//! compiles natively too, so the pure modules (`split`, `route_draft`, …) are unit-tested with a
//! plain `cargo test -p switchyard-frontend --lib`.

pub mod api;
pub mod app;
pub mod components;
pub mod graph_view;
pub mod pages;
pub mod plans;
pub mod rollout;
pub mod state;
pub mod weight_controls;

pub use app::App;

/// Mounts the app on `<body>`; panics are reported on the browser console with their message.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
