#!/usr/bin/env bash
# netdx calc against ipcalc (Debian's Perl ipcalc) and sipcalc: wall time per
# invocation (hyperfine, same run) and peak RSS, for one network, its bit
# view, and an IPv6 network. Target: netdx calc ≤ 1.0× ipcalc's wall time.
# Prints markdown for BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
need ipcalc sipcalc hyperfine time
build_netdx

json=$(mktemp --suffix .json)
trap 'rm -f "$json"' EXIT

# scenario LABEL NETDX_ARGS IPCALC_ARGS SIPCALC_ARGS: the three side by side
# (IPCALC_ARGS empty: ipcalc has no equivalent and is left out).
scenario() {
    local label=$1 netdx_args=$2 ipcalc_args=$3 sipcalc_args=$4
    local commands=("$NETDX calc $netdx_args" "sipcalc $sipcalc_args")
    [ -n "$ipcalc_args" ] && commands+=("ipcalc $ipcalc_args")
    hyperfine -N --warmup 20 --runs 300 --export-json "$json" "${commands[@]}" >/dev/null 2>&1
    local netdx_ms sipcalc_ms netdx_rss sipcalc_rss
    netdx_ms=$(median_ms "$json" 0)
    sipcalc_ms=$(median_ms "$json" 1)
    # shellcheck disable=SC2086 # the argument strings are word lists
    netdx_rss=$(peak_rss_kb 21 "$NETDX" calc $netdx_args)
    # shellcheck disable=SC2086
    sipcalc_rss=$(peak_rss_kb 21 sipcalc $sipcalc_args)
    cat <<OUT
#### $label

| command | median wall | peak RSS | netdx ratio (wall / RSS) | target |
|---|---:|---:|---:|---|
| \`netdx calc $netdx_args\` | ${netdx_ms} ms | ${netdx_rss} KiB | — | |
| \`sipcalc $sipcalc_args\` | ${sipcalc_ms} ms | ${sipcalc_rss} KiB | $(ratio "$netdx_ms" "$sipcalc_ms")× / $(ratio "$netdx_rss" "$sipcalc_rss")× | |
OUT
    if [ -n "$ipcalc_args" ]; then
        local ipcalc_ms ipcalc_rss
        ipcalc_ms=$(median_ms "$json" 2)
        # shellcheck disable=SC2086
        ipcalc_rss=$(peak_rss_kb 21 ipcalc $ipcalc_args)
        echo "| \`ipcalc $ipcalc_args\` | ${ipcalc_ms} ms | ${ipcalc_rss} KiB | $(ratio "$netdx_ms" "$ipcalc_ms")× / $(ratio "$netdx_rss" "$ipcalc_rss")× | ≤ 1.0× wall |"
    fi
    echo
}

echo "### calc — $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)"
echo
scenario "One IPv4 network" "172.16.10.1/24" "-n -b 172.16.10.1/24" "172.16.10.1/24"
scenario "The bit view" "172.16.10.1/24 --binary" "-n 172.16.10.1/24" "-b 172.16.10.1/24"
scenario "An IPv6 network" "2001:db8::1/64" "" "2001:db8::1/64"
scenario "A /24 split into /28s" "192.168.0.0/24 --split 28" "-n -b 192.168.0.0/24 /28" "-s 28 192.168.0.0/24"
