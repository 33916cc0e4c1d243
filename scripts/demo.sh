#!/usr/bin/env bash
# Builds Switchyard (UI embedded) and runs the demo: the console on a simulated cluster with live
# traffic, at http://127.0.0.1:8080/, with the gateway demo's namespace too (HTTPRoutes; pass other
# `switchyard demo` flags through, e.g. --listen).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" --build
cd "$root"
cargo build --release -p switchyard
exec "$root/target/release/switchyard" demo --gateway-demo --kubeconfig-out "$root/target/demo.kubeconfig" "$@"
