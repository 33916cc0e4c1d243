#!/usr/bin/env bash
# Runs every check and test of Switchyard, installing what they need first: formatting, clippy
# (native and wasm32), unit and integration tests (kube-rs and real kubectl against the simulated
# cluster and against a real kube-apiserver + etcd built from source, real Prometheus), and the
# browser tests in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh"

# Each step prints the time and the free disk (a cold run's target dir grows to several GB).
step() { echo; echo "== $* ($(date +%T), $(df -h --output=avail . | tail -1 | tr -d ' ') free)"; }

step "format"
cargo fmt --all -- --check

step "clippy (native; the UI is not needed to lint the server)"
SWITCHYARD_SKIP_UI=1 cargo clippy --workspace --all-targets -- -D warnings
step "clippy (wasm32 frontend and protocol)"
cargo clippy -p switchyard-frontend -p switchyard-protocol --target wasm32-unknown-unknown -- -D warnings

step "build the switchyard binary with the UI embedded"
cargo build -p switchyard

step "real Kubernetes API server: build (cached by version) and start one for the whole run"
scripts/build-k8s.sh
real_out="$(mktemp)"
scripts/real-cluster.sh --parent $$ >"$real_out" &
real_pid=$!
trap 'kill -TERM $real_pid 2>/dev/null || true; wait $real_pid 2>/dev/null || true; rm -f "$real_out"' EXIT
for _ in $(seq 240); do
    grep -q '^KUBECONFIG=' "$real_out" && break
    kill -0 $real_pid 2>/dev/null || { echo "test.sh: the real cluster did not start" >&2; exit 1; }
    sleep 0.5
done
SWITCHYARD_REAL_KUBECONFIG="$(sed -n 's/^KUBECONFIG=//p' "$real_out")"
[[ -n "$SWITCHYARD_REAL_KUBECONFIG" ]] || { echo "test.sh: no kubeconfig from the real cluster" >&2; exit 1; }
export SWITCHYARD_REAL_KUBECONFIG

step "tests (simulated and real clusters)"
cargo test --workspace --no-fail-fast

step "tests done; target dir $(du -sh target 2>/dev/null | cut -f1)"
step "API fuzzing: schemathesis against the demo's OpenAPI document"; scripts/fuzz-api.sh
