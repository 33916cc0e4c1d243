#!/usr/bin/env bash
# Runs every check and test of Switchyard, installing what they need first: formatting, clippy
# (native and wasm32), unit and integration tests (kube-rs and real kubectl against the simulated
# cluster, real Prometheus), and the browser tests in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh"

step() { echo; echo "== $* ($(date +%T))"; }

step "format"
cargo fmt --all -- --check

step "clippy (native; the UI is not needed to lint the server)"
SWITCHYARD_SKIP_UI=1 cargo clippy --workspace --all-targets -- -D warnings
step "clippy (wasm32 frontend and protocol)"
cargo clippy -p switchyard-frontend -p switchyard-protocol --target wasm32-unknown-unknown -- -D warnings

step "build the switchyard binary with the UI embedded"
cargo build -p switchyard

step "tests"
cargo test --workspace --no-fail-fast
