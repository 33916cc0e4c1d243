//! Generic widgets used across pages.

pub mod connection_banner;
pub mod copy_link;
pub mod stale_banner;
pub mod theme_toggle;
pub mod window_selector;
