#!/usr/bin/env bash
# Installs what building and testing Switchyard needs on a fresh Debian machine, idempotently:
# the wasm32 Rust target, Debian's chromium + chromium-driver (browser tests) and prometheus
# (integration tests), and npm's binaryen (wasm-opt). kubectl and Go (>= 1.26, for the real
# kube-apiserver the tests build from source) must already be on the machine.
#   scripts/install-deps.sh          everything (tests)
#   scripts/install-deps.sh --build  only what building the binary needs (demo)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# rust-toolchain.toml names the toolchain and the wasm32 target; this makes rustup fetch both.
(cd "$root" && rustup show active-toolchain >/dev/null && rustup target add wasm32-unknown-unknown >/dev/null)

"$root/scripts/setup-tools.sh"

[[ "${1:-}" == "--build" ]] && exit 0

missing=()
# scripts/real-cluster.sh: a CA-less key for service accounts, readiness polls, free ports.
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
# scripts/fuzz-api.sh: a venv for schemathesis (Debian splits venv/ensurepip out of python3).
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v prometheus >/dev/null || missing+=(prometheus)
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]} from Debian"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system Prometheus on :9090 on some machines; tests start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    sudo_if_needed systemctl stop prometheus || true
fi
# scripts/build-k8s.sh builds kube-apiserver and etcd from the Go module proxy.
if ! command -v go >/dev/null; then
    echo "install-deps: Go (>= 1.26) is not installed; the real-API-server tests build kube-apiserver with it" >&2
    exit 1
fi
if ! command -v kubectl >/dev/null; then
    echo "install-deps: kubectl is not installed; the kubectl compatibility tests need it" >&2
    exit 1
fi
