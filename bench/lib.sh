# Shared helpers for the bench scripts (sourced, not run).
# Requires: hyperfine, GNU time (/usr/bin/time), python3.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
NETDX=${NETDX:-$ROOT/target/x86_64-unknown-linux-gnu/release/netdx}

need() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build_netdx() {
    (cd "$ROOT" && cargo build --release --quiet)
}

# median_ms FILE.json INDEX → median wall time of hyperfine's command INDEX in ms
median_ms() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % (r["median"]*1000))' "$1" "$2"
}

# cpu_ms FILE.json INDEX → mean user+system CPU time of command INDEX in ms
cpu_ms() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % ((r["user"] + r["system"]) * 1000))' "$1" "$2"
}

# peak_rss_kb RUNS CMD… → median peak RSS in KiB over RUNS runs
peak_rss_kb() {
    local runs=$1; shift
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1
    done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ratio() {
    python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}
