#!/usr/bin/env bash
# How many sessions per second can any SOCKS5 proxy reach on this machine? The session-rate load of bench/run.sh
# (128 concurrent: connect, greeting, CONNECT, 32-byte echo, close) against a floor proxy in C
# (bench/ratecheck/socks5floor.c: epoll, one SO_REUSEPORT listener per core, no allocation, logging or rules),
# beside vxsocks (launcher/target/vxsocks.jar, when built), Netty's example (bench/.work/netty-lib, when bench/run.sh
# has fetched it), microsocks and Dante (when installed) and the load generator alone (direct). Interleaved rounds, medians,
# and each subject's rate and CPU per session against the floor's.
#
#   bench/ratecheck.sh [--rounds N]     (default 5 rounds; about 5 minutes)
#
# Installs gcc after one apt-get update when missing; everything listens on 127.0.0.1 only, every load run is bounded
# by timeout, and everything started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=5
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

if ! command -v gcc >/dev/null; then
  SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc libc6-dev >/dev/null
fi

RUN=$(mktemp -d /tmp/vxsocks-ratecheck.XXXXXX)
gcc -O2 -Wall -pthread -o "$RUN/socks5floor" "$BENCH_DIR/ratecheck/socks5floor.c"
build_loadgen
PORT=${BENCH_PORT_BASE:-11080}
TARGET=${BENCH_TARGET_PORT:-17000}
LIFETIME=$((ROUNDS * 60 + 180))

"${LG[@]}" target --port "$TARGET" --hosts 127.0.0.1 --threads 2 --max-seconds "$LIFETIME" >"$RUN/target.log" 2>&1 &
started $!

SUBJECTS=()
declare -A PORTS=() PIDS_OF=()
# subject NAME PORT PID LOG WARM_SECONDS: waits for it to listen, then warms it with that much of the load
subject() {
  wait_listen "$2" "$3" "$4"
  PORTS[$1]=$2; PIDS_OF[$1]=$3; SUBJECTS+=("$1")
  timeout $(($5 + 60)) "${LG[@]}" rate --proxy "127.0.0.1:$2" --target "127.0.0.1:$TARGET" --warmup 0 \
    --duration "$5" --threads 2 >/dev/null || echo "warning: warming $1 failed" >&2
}
"$RUN/socks5floor" $((PORT + 20)) "$(nproc)" "$LIFETIME" >"$RUN/floor.log" 2>&1 &
started $!; subject floor $((PORT + 20)) $! "$RUN/floor.log" 2
JAR=${BENCH_VXSOCKS_JAR:-$BENCH_DIR/../launcher/target/vxsocks.jar}
if [[ -f $JAR ]]; then
  vxsocks_config "$RUN/vxsocks.yaml" $((PORT + 21))
  java "${JAVA_FLAGS[@]}" -jar "$JAR" run --config "$RUN/vxsocks.yaml" >"$RUN/vxsocks.log" 2>&1 &
  started $!; subject vxsocks $((PORT + 21)) $! "$RUN/vxsocks.log" 30
fi
if compgen -G "$BENCH_DIR/.work/netty-lib/netty-example-*.jar" >/dev/null; then
  java "${JAVA_FLAGS[@]}" -Dport=$((PORT + 22)) -DlogLevel=warn -cp "$BENCH_DIR/.work/netty-lib/*" \
    io.netty.example.socksproxy.SocksServer >"$RUN/netty.log" 2>&1 &
  started $!; subject netty $((PORT + 22)) $! "$RUN/netty.log" 30
fi
if command -v microsocks >/dev/null; then
  microsocks -i 127.0.0.1 -p $((PORT + 23)) >"$RUN/microsocks.log" 2>&1 &
  started $!; subject microsocks $((PORT + 23)) $! "$RUN/microsocks.log" 2
fi
if command -v danted >/dev/null; then
  # shellcheck source=bench/peers/dante.sh
  source "$BENCH_DIR/peers/dante.sh"
  dante_config "$RUN/sockd.conf" $((PORT + 24)) "$RUN/dante-sockd.log"
  danted -f "$RUN/sockd.conf" -p "$RUN/danted.pid" >"$RUN/dante.log" 2>&1 &
  started $!; subject dante $((PORT + 24)) $! "$RUN/dante.log" 2
fi

echo "ratecheck: $ROUNDS rounds of direct ${SUBJECTS[*]}, results in $RUN/results.tsv" >&2
for ((r = 1; r <= ROUNDS; r++)); do
  for s in direct "${SUBJECTS[@]}"; do
    via=(--direct)
    [[ $s == direct ]] || via=(--proxy "127.0.0.1:${PORTS[$s]}" --pid "${PIDS_OF[$s]}")
    sleep 1
    timeout 90 "${LG[@]}" rate "${via[@]}" --target "127.0.0.1:$TARGET" --concurrency 128 --threads 2 \
      --warmup 1 --duration 5 --subject "$s" --round "$r" --out "$RUN/results.tsv" >/dev/null ||
      echo "warning: round $r of $s failed" >&2
  done
  echo "round $r of $ROUNDS done" >&2
done

python3 - "$RUN/results.tsv" "${SUBJECTS[@]}" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    metric, subject, _, value = line.split("\t")
    runs[(metric, subject)].append(float(value))
subjects = ["direct"] + sys.argv[2:]
metrics = ["rate_sessions_per_s", "rate_proxy_cpu_us_per_session", "rate_p50_ms", "rate_p99_ms", "rate_errors",
           "rate_loadgen_cpu_pct"]
med = {k: statistics.median(v) for k, v in runs.items()}
print("| median | " + " | ".join(subjects) + " |")
print("| --- |" + " ---: |" * len(subjects))
for m in metrics:
    cells = [f"{med[(m, s)]:.4g} (n={len(runs[(m, s)])})" if (m, s) in med else "" for s in subjects]
    print(f"| {m} | " + " | ".join(cells) + " |")
print()
print("| ratio of medians | " + " | ".join(f"{s} ÷ floor" for s in subjects if s != "floor") + " |")
print("| --- |" + " ---: |" * (len(subjects) - 1))
for m in ["rate_sessions_per_s", "rate_proxy_cpu_us_per_session"]:
    cells = [f"{med[(m, s)] / med[(m, 'floor')]:.2f}" if (m, s) in med and (m, "floor") in med else ""
             for s in subjects if s != "floor"]
    print(f"| {m} | " + " | ".join(cells) + " |")
if ("rate_sessions_per_s", "netty") in med and ("rate_sessions_per_s", "floor") in med:
    f, n = med[("rate_sessions_per_s", "floor")], med[("rate_sessions_per_s", "netty")]
    print(f"\nfloor ÷ netty = {f / n:.2f}: a proxy needs {1.3 * n:.0f} sessions/s for 1.3× Netty's example here")
for peer, target in [("microsocks", 1.5), ("dante", 3.0)]:
    if ("rate_sessions_per_s", peer) in med and ("rate_sessions_per_s", "floor") in med:
        f, m = med[("rate_sessions_per_s", "floor")], med[("rate_sessions_per_s", peer)]
        print(f"floor ÷ {peer} = {f / m:.2f}: a proxy needs {target * m:.0f} sessions/s for {target}× {peer} here")
PY
