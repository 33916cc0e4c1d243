//! Mounts the Switchyard app.
fn main() {}
