//! The `switchyard` binary: parses the command line and runs the console, the demo or the simulator.
fn main() {}
