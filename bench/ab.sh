#!/usr/bin/env bash
# A/B of two vxsocks builds: the same load against both, interleaved (A B, A B, ...), so that a change can be
# measured on its own before a full bench/run.sh.
#
#   bench/ab.sh A.jar B.jar [--mode rate|tput|both] [--rounds N] [--warm SECONDS] [--syscalls SESSIONS]
#
# Environment: AB_OPTS_A / AB_OPTS_B (extra JVM flags for one side, e.g. a -D switch an experiment reads),
# AB_ARGS_A / AB_ARGS_B (extra vxsocks arguments for one side, after `run --config FILE`, e.g. --log-level WARNING),
# BENCH_PORT_BASE (default 11080: A listens there, B on the next port), BENCH_TARGET_PORT (default 17000).
# Both proxies run with no auth on 127.0.0.1, warmed for 30 s each; every load-generator run is bounded by timeout,
# and everything started is stopped by PID. Prints each metric per round for A and B; raw figures in the run directory.
# --syscalls N: then, each round, also the system calls per CONNECT session of A and of B (strace -f -c attached
# during N sessions at 4 concurrent; needs strace).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# >= 2)) || { sed -n '2,10p' "$0"; exit 2; }
A=$1; B=$2; shift 2
MODE=rate; ROUNDS=3; WARM=30; SYSCALLS=0
while (($#)); do
  case $1 in
    --mode) MODE=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --warm) WARM=$2; shift ;;
    --syscalls) SYSCALLS=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for j in "$A" "$B"; do [[ -f $j ]] || { echo "$j not found" >&2; exit 2; }; done

PORT_A=${BENCH_PORT_BASE:-11080}; PORT_B=$((PORT_A + 1)); TARGET=${BENCH_TARGET_PORT:-17000}
RUN=$(mktemp -d /tmp/vxsocks-ab.XXXXXX)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
build_loadgen
vxsocks_config "$RUN/a.yaml" "$PORT_A"
vxsocks_config "$RUN/b.yaml" "$PORT_B"

"${LG[@]}" target --port "$TARGET" --hosts 127.0.0.1 --threads 2 --max-seconds 3600 >"$RUN/target.log" 2>&1 &
started $!
# shellcheck disable=SC2086
java ${AB_OPTS_A:-} "${JAVA_FLAGS[@]}" -jar "$A" run --config "$RUN/a.yaml" ${AB_ARGS_A:-} >"$RUN/a.log" 2>&1 &
PID_A=$!; started "$PID_A"
# shellcheck disable=SC2086
java ${AB_OPTS_B:-} "${JAVA_FLAGS[@]}" -jar "$B" run --config "$RUN/b.yaml" ${AB_ARGS_B:-} >"$RUN/b.log" 2>&1 &
PID_B=$!; started "$PID_B"
wait_listen "$PORT_A" "$PID_A" "$RUN/a.log"
wait_listen "$PORT_B" "$PID_B" "$RUN/b.log"

for port in "$PORT_A" "$PORT_B"; do
  timeout $((WARM + 60)) "${LG[@]}" rate --proxy "127.0.0.1:$port" --target "127.0.0.1:$TARGET" --warmup 0 \
    --duration "$WARM" --threads 2 >/dev/null
done
for ((r = 1; r <= ROUNDS; r++)); do
  for side in A B; do
    port=$PORT_A; pid=$PID_A
    [[ $side == B ]] && { port=$PORT_B; pid=$PID_B; }
    if [[ $MODE == rate || $MODE == both ]]; then
      sleep 1
      timeout 90 "${LG[@]}" rate --proxy "127.0.0.1:$port" --target "127.0.0.1:$TARGET" --concurrency 128 --threads 2 \
        --warmup 0.5 --duration 5 --pid "$pid" --subject "$side" --round "$r" --out "$RUN/results.tsv" >/dev/null
    fi
    if [[ $MODE == tput || $MODE == both ]]; then
      sleep 1
      timeout 120 "${LG[@]}" tput --proxy "127.0.0.1:$port" --sink "127.0.0.1:$((TARGET + 2))" \
        --source "127.0.0.1:$((TARGET + 3))" --warmup 0.5 --duration 2.5 --pid "$pid" --subject "$side" --round "$r" \
        --out "$RUN/results.tsv" >/dev/null
    fi
    if ((SYSCALLS > 0)); then
      sleep 1
      read -r calls sessions < <(count_syscalls "$pid" "$RUN/strace-$side-r$r.txt" --proxy "127.0.0.1:$port" \
        --target "127.0.0.1:$TARGET" --concurrency 4 --threads 1 --warmup 0 --duration 120 --sessions "$SYSCALLS")
      ((sessions > 0)) && awk -v s="$side" -v r="$r" -v c="$calls" -v n="$sessions" \
        'BEGIN { printf "syscalls_per_session\t%s\t%s\t%.2f\n", s, r, c / n }' >>"$RUN/results.tsv"
    fi
  done
done

echo "A = $A ${AB_OPTS_A:-} ${AB_ARGS_A:-}"
echo "B = $B ${AB_OPTS_B:-} ${AB_ARGS_B:-}"
grep -E 'sessions_per_s|cpu_us_per_session|p99_ms|mib_s|rss_growth|syscalls_per_session' "$RUN/results.tsv" |
  awk '{v[$1" "$2] = v[$1" "$2] sprintf(($1 ~ /syscalls/ ? " %8.1f" : " %8.0f"), $4)} END {for (k in v) print k ":" v[k]}' | sort
echo "run directory: $RUN"
