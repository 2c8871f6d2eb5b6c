#!/usr/bin/env bash
# How fast can any relay be on this machine, and would splice(2) make one faster? iperf3 through a minimal C
# forwarder (bench/copycheck/fwd.c) that relays with read/write (two copies per byte, as every proxy in bench/run.sh
# does; 128 KiB, and 64 KiB as Netty reads) and with splice through a pipe (64 KiB, and 1 MiB); iperf3 alone; and, through proxychains4,
# vxsocks (launcher/target/vxsocks.jar, when built) and Netty's example (bench/.work/netty-lib, when bench/run.sh
# has fetched it), each warmed for 10 s. Interleaved rounds, medians, ratios.
#
#   bench/copycheck.sh [--rounds N] [--seconds S]     (defaults: 5 rounds of 3 s each; about 11 minutes)
#
# Installs gcc, iperf3 and proxychains4 after one apt-get update when missing; everything listens on 127.0.0.1
# only, every iperf3 run is bounded by timeout, and everything started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=5; SECONDS_PER_RUN=3
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v python3 >/dev/null || need+=(python3)
command -v proxychains4 >/dev/null || need+=(proxychains4)
if ((${#need[@]})); then
  SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

RUN=$(mktemp -d /tmp/vxsocks-copycheck.XXXXXX)
gcc -O2 -Wall -pthread -o "$RUN/fwd" "$BENCH_DIR/copycheck/fwd.c"
PORT=${BENCH_PORT_BASE:-11080}
IPERF=$((PORT + 10))
LIFETIME=$((ROUNDS * 28 * (SECONDS_PER_RUN + 3) + 120))

iperf3 -s -B 127.0.0.1 -p "$IPERF" >"$RUN/iperf3-server.log" 2>&1 &
started $!
wait_listen "$IPERF" "$!" "$RUN/iperf3-server.log"
declare -A PORTS=([direct]=$IPERF [copy]=$((PORT + 11)) [splice]=$((PORT + 12)) [splice-1m]=$((PORT + 13))
  [copy-64k]=$((PORT + 16)))
"$RUN/fwd" "${PORTS[copy]}" "$IPERF" copy "$LIFETIME" 2>"$RUN/copy.log" &
started $!; wait_listen "${PORTS[copy]}" "$!" "$RUN/copy.log"
"$RUN/fwd" "${PORTS[copy-64k]}" "$IPERF" copy 65536 "$LIFETIME" 2>"$RUN/copy-64k.log" &
started $!; wait_listen "${PORTS[copy-64k]}" "$!" "$RUN/copy-64k.log"
"$RUN/fwd" "${PORTS[splice]}" "$IPERF" splice "$LIFETIME" 2>"$RUN/splice.log" &
started $!; wait_listen "${PORTS[splice]}" "$!" "$RUN/splice.log"
"$RUN/fwd" "${PORTS[splice-1m]}" "$IPERF" splice 1048576 "$LIFETIME" 2>"$RUN/splice-1m.log" &
started $!; wait_listen "${PORTS[splice-1m]}" "$!" "$RUN/splice-1m.log"

SUBJECTS=(direct copy copy-64k splice splice-1m)
declare -A VIA=()
# socks NAME PORT PID LOG: a SOCKS5 subject, reached through proxychains4, warmed with 10 s of iperf3
socks() {
  wait_listen "$2" "$3" "$4"
  printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
    "$2" >"$RUN/proxychains-$1.conf"
  VIA[$1]="proxychains4 -q -f $RUN/proxychains-$1.conf"
  PORTS[$1]=$IPERF
  # shellcheck disable=SC2086
  timeout 40 ${VIA[$1]} iperf3 -c 127.0.0.1 -p "$IPERF" -t 10 >/dev/null 2>&1 || echo "warning: warming $1 failed" >&2
  SUBJECTS+=("$1")
}
JAR=${BENCH_VXSOCKS_JAR:-$BENCH_DIR/../launcher/target/vxsocks.jar}
if [[ -f $JAR ]]; then
  vxsocks_config "$RUN/vxsocks.yaml" $((PORT + 14))
  java "${JAVA_FLAGS[@]}" -jar "$JAR" run --config "$RUN/vxsocks.yaml" >"$RUN/vxsocks.log" 2>&1 &
  started $!; socks vxsocks $((PORT + 14)) $! "$RUN/vxsocks.log"
fi
if compgen -G "$BENCH_DIR/.work/netty-lib/netty-example-*.jar" >/dev/null; then
  java "${JAVA_FLAGS[@]}" -Dport=$((PORT + 15)) -DlogLevel=warn -cp "$BENCH_DIR/.work/netty-lib/*" \
    io.netty.example.socksproxy.SocksServer >"$RUN/netty.log" 2>&1 &
  started $!; socks netty $((PORT + 15)) $! "$RUN/netty.log"
fi

echo "copycheck: $ROUNDS rounds of ${SECONDS_PER_RUN} s, results in $RUN/results.tsv" >&2
for ((r = 1; r <= ROUNDS; r++)); do
  for streams in 1 4; do
    for way in up down; do
      for subject in "${SUBJECTS[@]}"; do
        flags=(-c 127.0.0.1 -p "${PORTS[$subject]}" -P "$streams" -t "$SECONDS_PER_RUN" -J)
        [[ $way == down ]] && flags+=(-R)
        # shellcheck disable=SC2086
        mib=$(timeout $((SECONDS_PER_RUN + 15)) ${VIA[$subject]:-} iperf3 "${flags[@]}" 2>/dev/null | python3 -c '
import json, sys
print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8 / 1048576))' 2>/dev/null || echo NA)
        printf '%s\t%s%s\t%s\t%s\n' "$r" "$way" "$streams" "$subject" "$mib" >>"$RUN/results.tsv"
      done
    done
  done
  echo "round $r of $ROUNDS done" >&2
done

python3 - "$RUN/results.tsv" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, metric, subject, mib = line.split()
    if mib != "NA":
        runs[(metric, subject)].append(int(mib))
subjects = [s for s in ["direct", "copy", "copy-64k", "splice", "splice-1m", "vxsocks", "netty"]
            if any(k[1] == s for k in runs)]
ratios = [(a, b) for a, b in [("copy-64k", "copy"), ("splice", "copy"), ("splice-1m", "copy"), ("vxsocks", "copy"),
                              ("netty", "copy"),
                              ("vxsocks", "netty")] if a in subjects and b in subjects]
med = {k: statistics.median(v) for k, v in runs.items()}
print("| MiB/s (median) | " + " | ".join(subjects) + " | " + " | ".join(f"{a} ÷ {b}" for a, b in ratios) + " |")
print("| --- |" + " ---: |" * (len(subjects) + len(ratios)))
for metric in ["up1", "down1", "up4", "down4"]:
    cells = [f"{med[(metric, s)]:.0f} (n={len(runs[(metric, s)])})" if (metric, s) in med else "" for s in subjects]
    quot = [f"{med[(metric, a)] / med[(metric, b)]:.2f}" if (metric, a) in med and (metric, b) in med else ""
            for a, b in ratios]
    print(f"| {metric} | " + " | ".join(cells + quot) + " |")
PY
