#!/usr/bin/env bash
# Runs a real Kubernetes API server for tests and by hand: etcd and kube-apiserver (built from source
# by scripts/build-k8s.sh when missing) on free loopback ports, RBAC on, a token file whose users
# mirror the simulated cluster's, the real Istio and Gateway API CRDs, Switchyard's ReleasePlan CRD,
# and deploy/ plus demo/hands-on.yaml (namespace hands-on) and demo/hands-on-gateway.yaml
# (namespace hands-on-gateway, HTTPRoutes) applied with kubectl. Prints `KUBECONFIG=<path>` once the cluster is ready and
# runs until it is stopped; SIGTERM/SIGINT (or the death of the process given by --parent) stop
# everything it started and remove its files.
#   scripts/real-cluster.sh [--parent PID] [--dir DIR]
# The kubeconfig has the contexts real-admin (current), real-operator, real-viewer and
# real-switchyard (the console's service account identity). There is no controller manager:
# namespaces never finish deleting, no ServiceAccount tokens are minted, no garbage collection.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

parent=""
dir=""
while (($#)); do
    case "$1" in
        --parent) parent="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        *) echo "real-cluster: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { echo "real-cluster: $*" >&2; }

cache="$("$root/scripts/build-k8s.sh")"
if [[ -z "$dir" ]]; then
    dir="$(mktemp -d -t switchyard-real-cluster.XXXXXX)"
    owns_dir=1
else
    mkdir -p "$dir"
    owns_dir=0
fi

pids=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if ((owns_dir)); then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
etcd_port=$(free_port)
peer_port=$(free_port)
api_port=$(free_port)

# Users: the simulated cluster's three, plus the console's own service-account identity.
admin_token=$(openssl rand -hex 16)
operator_token=$(openssl rand -hex 16)
viewer_token=$(openssl rand -hex 16)
console_token=$(openssl rand -hex 16)
cat > "$dir/tokens.csv" <<EOF
$admin_token,admin,admin,"system:masters"
$operator_token,operator,operator,"switchyard:operators"
$viewer_token,viewer,viewer,"switchyard:viewers"
$console_token,system:serviceaccount:switchyard:switchyard,switchyard,"system:serviceaccounts,system:serviceaccounts:switchyard"
EOF
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null

"$cache/etcd" --data-dir="$dir/etcd" --name=switchyard-test \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="switchyard-test=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level=warn >"$dir/etcd.log" 2>&1 &
pids+=($!)

"$cache/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --cert-dir="$dir/certs" --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer="https://127.0.0.1:$api_port" --service-account-key-file="$dir/sa.key" \
    --service-account-signing-key-file="$dir/sa.key" --service-cluster-ip-range=10.96.0.0/12 \
    --disable-admission-plugins=ServiceAccount --anonymous-auth=false --endpoint-reconciler-type=none \
    --v=0 >"$dir/apiserver.log" 2>&1 &
pids+=($!)

# Stop with the process that started us (a test binary that panicked or was killed).
if [[ -n "$parent" ]]; then
    (while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -TERM $$ 2>/dev/null) &
    pids+=($!)
fi

url="https://127.0.0.1:$api_port"
started=$SECONDS
until curl -fsk -H "Authorization: Bearer $admin_token" "$url/readyz" >/dev/null 2>&1; do
    if ((SECONDS - started > 120)); then
        log "kube-apiserver not ready after 120 s; last log lines:"
        tail -n 20 "$dir/apiserver.log" >&2
        exit 1
    fi
    for pid in "${pids[@]:0:2}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "etcd or kube-apiserver exited; last log lines:"
            tail -n 20 "$dir/etcd.log" "$dir/apiserver.log" >&2
            exit 1
        fi
    done
    sleep 0.5
done
log "kube-apiserver ready at $url after $((SECONDS - started)) s"

kubeconfig="$dir/kubeconfig"
ca="$(base64 -w0 "$dir/certs/apiserver.crt")"
{
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"
    echo "- name: real"
    echo "  cluster: {server: \"$url\", certificate-authority-data: \"$ca\"}"
    echo "users:"
    for u in admin:$admin_token operator:$operator_token viewer:$viewer_token switchyard:$console_token; do
        echo "- name: ${u%%:*}"
        echo "  user: {token: \"${u#*:}\"}"
    done
    echo "contexts:"
    for u in admin operator viewer switchyard; do
        echo "- name: real-$u"
        echo "  context: {cluster: real, user: $u, namespace: hands-on}"
    done
    echo "current-context: real-admin"
} >"$kubeconfig"
chmod 600 "$kubeconfig"

k() { kubectl --kubeconfig "$kubeconfig" --context real-admin "$@"; }
# CRDs are large (Istio's file is ~1 MB): server-side apply keeps them out of the
# last-applied-configuration annotation, which is limited to 256 KiB.
k apply --server-side -f "$cache/crds" >/dev/null
k wait --for condition=established --timeout=120s crd --all >/dev/null
k create namespace hands-on >/dev/null
k apply -f "$root/deploy/crd-releaseplan.yaml" >/dev/null
k wait --for condition=established --timeout=60s crd/releaseplans.switchyard.dev >/dev/null
k create namespace hands-on-gateway >/dev/null
k apply -f "$root/realk8s/users.yaml" >/dev/null
k apply -f "$root/deploy/switchyard.yaml" >/dev/null
k apply -f "$root/deploy/header-mode.yaml" >/dev/null
k apply -n hands-on -f "$root/demo/hands-on.yaml" >/dev/null
k apply -n hands-on-gateway -f "$root/demo/hands-on-gateway.yaml" >/dev/null
log "CRDs, deploy/, demo/hands-on.yaml and demo/hands-on-gateway.yaml applied after $((SECONDS - started)) s"

echo "KUBECONFIG=$kubeconfig"
# Wait for a signal; `wait` returns when one arrives so the traps run at once.
sleep infinity &
pids+=($!)
wait $! || true
