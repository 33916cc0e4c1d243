#!/usr/bin/env bash
# What the browser receives, measured on the wire against a release build of the demo on a
# generated mesh (default `services=340,versions=1..3`, about 1,000 graph nodes):
#   - the UI's transfer (index.html and every asset it names), compressed as served to a browser
#     that sends Chromium's Accept-Encoding, and without compression;
#   - GET /api/v1/graph: bytes plain and gzipped, and latency under 16 concurrent clients (wrk,
#     from Debian; --latency percentiles), BENCH_RUNS runs of BENCH_SECONDS each, median (min–max);
#   - the event stream: bytes per refresh per viewer, by event type, over BENCH_REFRESHES refreshes
#     (the first `routes` and `graph` of a connection counted apart);
#   - CPU of the demo process (simulated cluster, mesh, load and console) while it runs.
# A benchmark: it prints figures and asserts nothing about them.
#   scripts/bench-wire.sh                      BENCH_MESH, BENCH_RUNS (5), BENCH_SECONDS (10)
#   BENCH_BIN=target/debug/switchyard ...      another binary (default target/release/switchyard)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mesh="${BENCH_MESH:-services=340,versions=1..3}"
runs="${BENCH_RUNS:-5}"
seconds="${BENCH_SECONDS:-10}"
refreshes="${BENCH_REFRESHES:-6}"
binary="${BENCH_BIN:-$root/target/release/switchyard}"

if ! command -v wrk >/dev/null; then
    echo "bench-wire: installing wrk from Debian"
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
[[ -x "$binary" ]] || { echo "bench-wire: no $binary (cargo build --release -p switchyard)" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
    [[ -n "$pid" ]] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

"$binary" demo --listen 127.0.0.1:0 --mesh "$mesh" >"$work/stdout" 2>"$work/stderr" &
pid=$!
base=""
for _ in $(seq 300); do
    base="$(sed -n 's|.*listening on \(http://[^/]*\)/.*|\1|p' "$work/stdout" | head -n1)"
    [[ -n "$base" ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "bench-wire: the demo did not start" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "bench-wire: the demo printed no URL" >&2; exit 1; }
echo "bench-wire: $("$binary" --version 2>/dev/null || echo switchyard) demo --mesh $mesh at $base (pid $pid)"
echo "bench-wire: machine $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

python3 - "$base" "$pid" "$runs" "$seconds" "$refreshes" <<'PY'
import http.client, json, re, statistics, subprocess, sys, time, urllib.parse

base, pid, runs, seconds, refreshes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(base)
CHROMIUM = "gzip, deflate, br, zstd"

def get(path, encoding=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Accept-Encoding": encoding} if encoding else {}
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body

def spread(values, unit="", decimals=1):
    values = sorted(values)
    return f"{statistics.median(values):.{decimals}f}{unit} ({values[0]:.{decimals}f}–{values[-1]:.{decimals}f})"

# The graph at full size: wait until the number of edges with traffic stops growing.
deadline = time.time() + 180
nodes, live, steady = 0, 0, 0
while time.time() < deadline and steady < 3:
    status, _, body = get("/api/v1/graph")
    if status == 200:
        graph = json.loads(body)
        nodes = len(graph["nodes"])
        now_live = sum(1 for e in graph["edges"] if e.get("rate", 0) > 0)
        steady = steady + 1 if now_live == live and live > 0 else 0
        live = now_live
    time.sleep(2)
edges = len(graph["edges"])
print(f"graph: {nodes} nodes, {edges} edges")

# The UI as a browser gets it: index.html, then every asset it names.
status, headers, index = get("/", CHROMIUM)
plain_status, _, index_plain = get("/")
assets = sorted(set(re.findall(rb'(?:href|src)="(/[^"]+)"', index_plain)))
rows = [("/ (index.html)", len(index), headers.get("content-encoding", "identity"), len(index_plain))]
# The boot script imports the wasm by name; find it there too.
for path in list(assets):
    if path.endswith(b".js"):
        _, _, js = get(path.decode())
        assets += [p for p in set(re.findall(rb'/[A-Za-z0-9_./-]+\.wasm', js)) if p not in assets]
for path in sorted(set(assets)):
    p = path.decode()
    status, h, body = get(p, CHROMIUM)
    if status != 200:
        continue  # a name the boot script builds relative to another path
    _, _, raw = get(p)
    rows.append((p, len(body), h.get("content-encoding", "identity"), len(raw)))
print("UI transfer (Accept-Encoding: %s):" % CHROMIUM)
for p, sent, coding, raw in rows:
    print(f"  {p:<48} {sent:>9,} B {coding:<8} ({raw:>9,} B uncompressed)")
print(f"  {'total':<48} {sum(r[1] for r in rows):>9,} B          ({sum(r[3] for r in rows):>9,} B uncompressed)")
status, h, _ = get("/favicon.ico")
print(f"/favicon.ico: {status} {h.get('content-type', '')}")

# GET /api/v1/graph: size and latency under 16 clients.
_, h, plain = get("/api/v1/graph")
_, hz, zipped = get("/api/v1/graph", "gzip")
print(f"GET /api/v1/graph: {len(plain):,} B plain, {len(zipped):,} B {hz.get('content-encoding', 'identity')}")

def wrk(encoding):
    p99s, p50s, rates = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Accept-Encoding: {encoding}",
             f"{base}/api/v1/graph"], capture_output=True, text=True, check=True).stdout
        def ms(label):
            m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
            v, u = float(m.group(1)), m.group(2)
            return v / 1000 if u == "us" else v * 1000 if u == "s" else v
        p50s.append(ms("50%")); p99s.append(ms("99%"))
        rates.append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))
        if "Non-2xx" in out or "Socket errors" in out:
            print("  wrk reported errors:\n" + out)
    return p50s, p99s, rates

for encoding in ("gzip", "identity"):
    p50s, p99s, rates = wrk(encoding)
    print(f"wrk -t2 -c16 -d{seconds}s GET /api/v1/graph ({encoding}), {runs} runs: "
          f"p50 {spread(p50s, ' ms', 2)}, p99 {spread(p99s, ' ms', 2)}, {spread(rates, ' req/s', 0)}")

# The event stream: bytes per refresh per viewer.
def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks of 1/100 s

c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
c.request("GET", "/api/v1/events")
r = c.getresponse()
sizes, first, event, size, seen_graph = {}, {}, None, 0, 0
refresh_count = 0
cpu0, t0 = cpu_seconds(), time.time()
while refresh_count <= refreshes:
    line = r.fp.readline()
    if not line:
        break
    size += len(line)
    if line.startswith(b"event:"):
        event = line[6:].strip().decode()
    if line in (b"\n", b"\r\n"):
        if event is not None:
            if event in ("routes", "graph") and event not in first:
                first[event] = size
            else:
                sizes.setdefault(event, []).append(size)
                if event in ("graph", "graph_delta"):
                    refresh_count += 1
        event, size = None, 0
cpu1, t1 = cpu_seconds(), time.time()
c.close()
count = max(1, refresh_count)
print(f"event stream, on connect: " + ", ".join(f"{k} {v:,} B" for k, v in first.items()))
total = 0
for k, v in sorted(sizes.items()):
    total += sum(v)
    print(f"  {k:<24} {len(v):>3} events, {sum(v) / count:>12,.0f} B per refresh")
print(f"  all events: {total / count:,.0f} B per refresh per viewer over {count} refreshes")
print(f"demo process CPU over {t1 - t0:.0f} s: {100 * (cpu1 - cpu0) / (t1 - t0):.1f} % of one core "
      f"(simulated cluster, mesh and load, console refresher, one viewer)")
PY
