#!/usr/bin/env bash
# Where vxsocks spends its CPU under one benchmark load: perf samples of the warm proxy, summed by DSO (kernel, JIT
# code, JVM), by syscall, and by Java method. Or, with `alloc`, how many bytes it allocates per session.
#
#   bench/profile.sh [rate|up1|down1|alloc] [--warm SECONDS] [--seconds SECONDS]
#
# Starts the load generator's targets and one vxsocks (no auth, loopback, as in bench/run.sh) on their own ports,
# warms it for 30 s, records `perf record -g` of the proxy for 5 s under the chosen load (rate: 128 concurrent
# sessions; up1/down1: one stream), writes the JIT's symbol map (jcmd Compiler.perfmap), prints the summaries, and
# stops what it started, by PID. Needs perf (Debian: linux-perf) and a built launcher/target/vxsocks.jar.
# alloc: the rate load, and instead of perf a JFR recording of the measured window only; prints the bytes the event
# loops and the acceptor allocated (jdk.ThreadAllocationStatistics at its start and end) ÷ the sessions whose summary
# line was logged meanwhile. Needs only the JDK.
# The perf data and the reports stay in the run directory it prints. docs/BENCHMARKS.md quotes its output.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
JAR=${BENCH_VXSOCKS_JAR:-$REPO/launcher/target/vxsocks.jar}
MODE=rate; WARM=30; SECS=5
while (($#)); do
  case $1 in
    rate|up1|down1|alloc) MODE=$1 ;;
    --warm) WARM=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $MODE == alloc ]] || command -v perf >/dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
[[ -f $JAR ]] || { echo "$JAR not found: build it with mvn -B -q -DskipTests package" >&2; exit 1; }

PROXY_PORT=${BENCH_PORT_BASE:-11080}
TARGET_PORT=${BENCH_TARGET_PORT:-17000}
RUN=$(mktemp -d /tmp/vxsocks-profile.XXXXXX)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
build_loadgen
vxsocks_config "$RUN/vxsocks.yaml" "$PROXY_PORT"

"${LG[@]}" target --port "$TARGET_PORT" --hosts 127.0.0.1 --threads 2 --max-seconds 600 >"$RUN/target.log" 2>&1 &
started $!
EXTRA=()
# alloc: JFR must be set up at start-up (started later through jcmd, it slowed the proxy to half its rate while
# setting itself up); the recording itself begins only after the warm-up, in the idle gap before the measured load.
[[ $MODE == alloc ]] && EXTRA=("-XX:StartFlightRecording=name=vxsocks-alloc,settings=default,delay=$((WARM + 15))s")
java -XX:+PreserveFramePointer "${EXTRA[@]}" "${JAVA_FLAGS[@]}" -jar "$JAR" run --config "$RUN/vxsocks.yaml" \
  >"$RUN/vxsocks.log" 2>&1 &
VX=$!
started "$VX"
wait_listen "$PROXY_PORT" "$VX" "$RUN/vxsocks.log"

load() { # load SECONDS [--pid PID --out FILE]: one bounded run of the chosen load
  local secs=$1; shift
  if [[ $MODE == rate || $MODE == alloc ]]; then
    timeout $((secs + 60)) "${LG[@]}" rate --proxy "127.0.0.1:$PROXY_PORT" --target "127.0.0.1:$TARGET_PORT" \
      --concurrency 128 --threads 2 --warmup 0 --duration "$secs" --subject vxsocks --round 1 "$@"
  else
    timeout $((secs + 60)) "${LG[@]}" tput --proxy "127.0.0.1:$PROXY_PORT" --sink "127.0.0.1:$((TARGET_PORT + 2))" \
      --source "127.0.0.1:$((TARGET_PORT + 3))" --warmup 0 --duration "$secs" --variants "$MODE" --subject vxsocks \
      --round 1 "$@"
  fi
}

echo "warming vxsocks (pid $VX) for ${WARM}s of $MODE load" >&2
load "$WARM" >/dev/null
if [[ $MODE == alloc ]]; then
  sessions() { grep -c ' close=' "$RUN/vxsocks.log" || true; }
  for ((i = 0; i < 60; i++)); do
    jcmd "$VX" JFR.check name=vxsocks-alloc 2>/dev/null | grep -q '(running)' && break
    sleep 0.5
  done
  sleep 1 # the log writer lingers between batches
  before=$(sessions)
  load "$SECS" --pid "$VX" --out "$RUN/figures.tsv" >"$RUN/load.log" 2>&1 || true
  jcmd "$VX" JFR.stop name=vxsocks-alloc filename="$RUN/alloc.jfr" >/dev/null
  sleep 1 # the log writer lingers between batches
  n=$(( $(sessions) - before ))
  jfr print --json --events jdk.ThreadAllocationStatistics "$RUN/alloc.jfr" >"$RUN/alloc.json"
  # Each event gives a thread's bytes allocated so far ("allocated" comes before the thread's "javaName").
  bytes=$(awk '/"allocated":/ { gsub(/[^0-9]/, "", $2); a = $2 + 0 }
    /"javaName": "vert\.x-(eventloop|acceptor)-thread/ { t = $2
      if (!(t in lo) || a < lo[t]) lo[t] = a
      if (!(t in hi) || a > hi[t]) hi[t] = a }
    END { for (t in hi) s += hi[t] - lo[t]; printf "%.0f", s }' "$RUN/alloc.json")
  {
    echo "## vxsocks allocation under 'rate' load ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" log -1 --format=%h 2>/dev/null))"
    echo; sed 's/^/    /' "$RUN/figures.tsv"; echo
    awk -v b="$bytes" -v n="$n" 'BEGIN { printf "event loops + acceptor allocated %.0f MiB for %d sessions: %.1f KiB per session\n", b / 1048576, n, (n > 0 ? b / n / 1024 : 0) }'
  } | tee "$RUN/summary.txt"
  echo "run directory: $RUN (alloc.jfr, summary.txt, vxsocks.log)" >&2
  exit 0
fi
load $((SECS + 4)) --pid "$VX" --out "$RUN/figures.tsv" >"$RUN/load.log" 2>&1 &
LOAD=$!
sleep 2
perf record -F 1999 -g -p "$VX" -o "$RUN/perf.data" -- sleep "$SECS" 2>"$RUN/perf-record.log"
jcmd "$VX" Compiler.perfmap >/dev/null 2>&1 || echo "warning: no JIT symbol map (jcmd Compiler.perfmap failed)" >&2
wait "$LOAD" || true

report() { perf report -i "$RUN/perf.data" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$'; }
{
  echo "## vxsocks under '$MODE' load ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" log -1 --format=%h 2>/dev/null))"
  echo; echo "figures of the load run:"; sed 's/^/    /' "$RUN/figures.tsv"
  echo; echo "CPU by thread:"; report --no-children --sort comm -g none | head -6
  echo; echo "CPU by DSO (kernel, JIT-compiled Java, the JVM):"; report --no-children --sort dso -g none | head -6
  echo; echo "CPU under each syscall (inclusive):"; report --children --sort sym -g none | grep '__x64_sys_' | head -14
  echo; echo "hottest Java and native user-space symbols (self):"
  report --no-children --sort sym -g none | grep -v '\[k\]' | head -25
} | tee "$RUN/summary.txt"
echo "run directory: $RUN (perf.data, summary.txt, vxsocks.log)" >&2
cp "/tmp/perf-$VX.map" "$RUN/" 2>/dev/null || true
