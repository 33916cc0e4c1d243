//! Generic widgets used across pages.

pub mod connection_banner;
pub mod stale_banner;
