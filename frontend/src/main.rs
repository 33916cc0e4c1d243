//! Mounts the Switchyard app. Kept tiny: this bin target exists so the wasm gets fat LTO.

fn main() {
    switchyard_frontend::mount();
}
