#!/usr/bin/env bash
# netdx http against curl, one request to nginx in a namespace (plain HTTP
# and HTTPS with a CA made here): the wall time of each, both started by
# hyperfine -N in the client namespace, same run; peak RSS; and the phases
# of RUNS alternating requests (medians, netdx --json beside curl -w).
# Target: netdx http's wall ≤ curl's. Prints markdown for BENCHMARKS.md.
#
# RUNS (default 200) timed runs per command.
source "$(dirname "$0")/lib.sh"
need hyperfine nginx-light curl openssl python3
build_netdx
RUNS=${RUNS:-200}
C=nxh-bench-client S=nxh-bench-host
A=10.9.41.2
dir= json=
down() {
    ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    if [ -n "$dir" ]; then rm -rf "$dir" "$json"; fi
}
trap down EXIT
down
dir=$(mktemp -d)
json=$(mktemp --suffix .json)
ip netns add "$C"; ip netns add "$S"
ip link add bhc0 netns "$C" type veth peer name bhs0 netns "$S"
ip -n "$C" addr add 10.9.41.1/24 dev bhc0; ip -n "$C" link set bhc0 up; ip -n "$C" link set lo up
ip -n "$S" addr add $A/24 dev bhs0; ip -n "$S" link set bhs0 up; ip -n "$S" link set lo up

(cd "$dir"
 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
 openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 30 -subj "/CN=netdx bench CA" \
     -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
 openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=web.test" 2>/dev/null
 printf 'subjectAltName=DNS:web.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
 openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
     -days 30 -extfile server.ext 2>/dev/null
 mkdir -p tmp)
cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type text/plain;
    server {
        listen $A:80;
        listen $A:443 ssl;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $dir/server.pem;
        ssl_certificate_key $dir/server.key;
        location = /fixed { return 200 "hello from nginx\n"; }
    }
}
CONF
ip netns exec "$S" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >/dev/null 2>&1 &
for _ in $(seq 300); do
    ip netns exec "$S" ss -tlnH | grep -q "$A:443 " && break
    sleep 0.05
done

plain=http://$A/fixed
tls=(--cacert "$dir/ca.pem" --resolve "web.test:443:$A" https://web.test/fixed)

echo "| request | netdx median | curl median | ÷ curl | netdx peak RSS | curl peak RSS | target |"
echo "|---|---:|---:|---:|---:|---:|---|"
row() {
    local label=$1; shift
    ip netns exec "$C" hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$json" \
        "$NETDX http $*" "curl -s -o /dev/null $*" >/dev/null 2>&1
    local a b ra rb
    a=$(median_ms "$json" 0); b=$(median_ms "$json" 1)
    ra=$(peak_rss_kb 21 ip netns exec "$C" "$NETDX" http "$@")
    rb=$(peak_rss_kb 21 ip netns exec "$C" curl -s -o /dev/null "$@")
    echo "| $label | $a ms | $b ms | $(ratio "$a" "$b")× | $ra KiB | $rb KiB | ≤ 1.0× wall |"
}
row "GET $plain" "$plain"
row "GET https://web.test/fixed (--cacert)" "${tls[@]}"

# The phases: medians of RUNS alternating requests, ms.
phases() {
    python3 - "$NETDX" "$C" "$RUNS" "$@" <<'PY'
import json, statistics, subprocess, sys
netdx, ns, runs, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
fields = ["time_namelookup", "time_connect", "time_appconnect", "time_starttransfer", "time_total"]
fmt = " ".join("%{" + f + "}" for f in fields)
ours, theirs = {f: [] for f in fields}, {f: [] for f in fields}
run = lambda cmd: subprocess.run(["ip", "netns", "exec", ns] + cmd, capture_output=True, text=True, check=True).stdout
for _ in range(runs):
    doc = json.loads(run([netdx, "--json", "http"] + args))
    for f in fields:
        ours[f].append(doc[f])
    for f, v in zip(fields, run(["curl", "-s", "-o", "/dev/null", "-w", fmt] + args).split()):
        theirs[f].append(float(v) * 1000)
for f in fields:
    print(f"| {f} | {statistics.median(ours[f]):.3f} | {statistics.median(theirs[f]):.3f} |")
PY
}
echo
echo "Phases, medians of $RUNS alternating requests (ms, cumulative as curl's):"
echo
echo "| plain HTTP | netdx | curl -w |"
echo "|---|---:|---:|"
phases "$plain"
echo
echo "| HTTPS (--cacert) | netdx | curl -w |"
echo "|---|---:|---:|"
phases "${tls[@]}"
