#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd the tests run against, from the Go module proxy, into a
# cache keyed by version and by the pinned go.sum, and reuses them when they are already there.
#   scripts/build-k8s.sh          build what is missing, then print the cache directory
# The Go modules are realk8s/apiserver (k8s.io/kubernetes with its staging modules replaced by the
# published v0.37.x) and realk8s/etcd (go.etcd.io/etcd/server/v3), each with its go.sum committed.
# Also copies the Istio and Gateway API CRDs from the Go module cache (istio.io/api,
# sigs.k8s.io/gateway-api) into the cache directory. Nothing is downloaded but Go modules.
# Environment: SWITCHYARD_K8S_CACHE (default ~/.cache/switchyard/k8s).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
ISTIO_API_VERSION=v1.32.0
GATEWAY_API_VERSION=v1.6.3

if ! command -v go >/dev/null; then
    echo "build-k8s: Go is not installed (needs Go >= 1.26)" >&2
    exit 1
fi

# The key is the content of go.mod and go.sum (not their paths: every checkout shares the cache).
key() { cat "$root/realk8s/$1/go.mod" "$root/realk8s/$1/go.sum" | sha256sum | cut -c1-12; }
cache_root="${SWITCHYARD_K8S_CACHE:-$HOME/.cache/switchyard/k8s}"
cache="$cache_root/kube-$KUBE_VERSION-$(key apiserver)-etcd-$ETCD_VERSION-$(key etcd)"
mkdir -p "$cache"
export GOFLAGS="-mod=readonly -trimpath"
export CGO_ENABLED=0

# go build with the peak memory and wall time on stderr (GNU time when present).
timed_build() {
    local name=$1
    shift
    local started=$SECONDS
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f "build-k8s: $name built in %e s, peak memory %M KiB" go build "$@"
    else
        go build "$@"
        echo "build-k8s: $name built in $((SECONDS - started)) s"
    fi >&2
}

if [[ ! -x "$cache/kube-apiserver" ]]; then
    echo "build-k8s: building kube-apiserver $KUBE_VERSION (several minutes on a cold Go cache)" >&2
    minor="${KUBE_VERSION#v1.}"
    minor="${minor%%.*}"
    (cd "$root/realk8s/apiserver" && timed_build kube-apiserver -p 2 \
        -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
            -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
            -X k8s.io/component-base/version.gitTreeState=clean" \
        -o "$cache/kube-apiserver.partial" k8s.io/kubernetes/cmd/kube-apiserver)
    mv "$cache/kube-apiserver.partial" "$cache/kube-apiserver"
fi

if [[ ! -x "$cache/etcd" ]]; then
    echo "build-k8s: building etcd $ETCD_VERSION" >&2
    (cd "$root/realk8s/etcd" && timed_build etcd -p 2 -ldflags "-s -w" \
        -o "$cache/etcd.partial" go.etcd.io/etcd/server/v3)
    mv "$cache/etcd.partial" "$cache/etcd"
fi

crds="$cache/crds"
if [[ ! -f "$crds/.complete" ]]; then
    rm -rf "$crds"
    mkdir -p "$crds"
    istio_dir=$(go mod download -json "istio.io/api@$ISTIO_API_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    gateway_dir=$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    cp "$istio_dir/kubernetes/customresourcedefinitions.gen.yaml" "$crds/istio.yaml"
    # The standard channel's CRDs; the ValidatingAdmissionPolicy file beside them is not a CRD.
    for f in "$gateway_dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
        grep -q '^kind: CustomResourceDefinition' "$f" && cp "$f" "$crds/gateway-$(basename "$f")"
    done
    chmod u+w "$crds"/*
    touch "$crds/.complete"
fi

echo "$cache"
