//! Generic widgets used across pages.

pub mod connection_banner;
