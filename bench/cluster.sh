#!/usr/bin/env bash
# What cluster mode and its exact session limits cost one node: the session-rate load (username/password, one user
# from one address: every session on the same two keys, the worst case) against one node of a 3-node cluster on this
# machine (Hazelcast TCP/IP join on 127.0.0.1) with the concurrent-session limits off and on, and against a single
# node, interleaved:
#   single       a node started alone (no cluster), limits off
#   cluster-off  node 1 of the cluster, limits.sessions-per-user / -per-client-ip at 0
#   cluster-on   node 1 of the cluster, both at 100,000 (every session takes two slots, none is refused)
#
#   bench/cluster.sh [--rounds N] [--duration SECONDS] [--concurrency N] [--warm SECONDS]
#
# The cluster is switched between off and on by `config apply`. Only node 1 is loaded and measured: its sessions/s,
# p50 and the CPU of its own process per session (utime + stime from /proc/PID/stat, read by the load generator
# before and after the window); the other two nodes own two thirds of the keys' partitions and the backups. Each
# round runs the three subjects, every other round in reverse order. Printed: each run, then the medians and the
# two ratios the issue sets targets for (cluster-on / cluster-off >= 0.7, cluster-off / single >= 0.9), and the
# load average. Environment: BENCH_VXSOCKS_JAR (default launcher/target/vxsocks.jar, built with
# `mvn -B -q -o package -DskipTests` when missing), BENCH_PORT_BASE (default 11380: the single node there, the
# cluster nodes on the next three ports, Hazelcast on 15831-15833), BENCH_TARGET_PORT (default 17300). Every load
# run is bounded by timeout; everything started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=3; DURATION=4; CONCURRENCY=64; WARM=20; LIMIT=100000
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --warm) WARM=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

JAR=${BENCH_VXSOCKS_JAR:-$REPO/launcher/target/vxsocks.jar}
if [[ ! -f $JAR ]]; then
  (cd "$REPO" && mvn -B -q -o package -DskipTests)
fi
BASE=${BENCH_PORT_BASE:-11380}; SINGLE=$BASE; TARGET=${BENCH_TARGET_PORT:-17300}
N=( $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) ); HZ=(15831 15832 15833)
RUN=$(mktemp -d /tmp/vxsocks-cluster.XXXXXX)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
build_loadgen
PW=bench-pw
HASH=$(printf '%s\n' "$PW" | java -jar "$JAR" hash-password --iterations 1000)

# config FILE PORT LIMIT [cluster]: username/password, one user, 127.0.0.0/8 only, both session limits at LIMIT.
config() {
  cat >"$1" <<YAML
listen: { host: 127.0.0.1, port: $2 }
auth: { methods: [username-password] }
users: [ { name: bench, password: "$HASH" } ]
rules:
  client: [ { action: allow, from: ["127.0.0.0/8"] } ]
  request: [ { action: allow, to: ["127.0.0.0/8"] } ]
limits: { pending-handshakes: 20000, sessions-per-user: $3, sessions-per-client-ip: $3 }
admin: { port: 0 }
YAML
  if [[ ${4:-} == cluster ]]; then
    cat >>"$1" <<YAML
cluster: { enabled: true, name: clusterbench-$$, host: 127.0.0.1, port: ${HZ[0]}, join-wait: 0s,
           members: ["127.0.0.1:${HZ[0]}", "127.0.0.1:${HZ[1]}", "127.0.0.1:${HZ[2]}"] }
YAML
  fi
}
config "$RUN/single.yaml" "$SINGLE" 0
config "$RUN/cluster-off.yaml" "${N[0]}" 0 cluster
config "$RUN/cluster-on.yaml" "${N[0]}" "$LIMIT" cluster

"${LG[@]}" target --port "$TARGET" --hosts 127.0.0.1 --threads 2 --max-seconds 3600 >"$RUN/target.log" 2>&1 &
started $!
java "${JAVA_FLAGS[@]}" -jar "$JAR" run --config "$RUN/single.yaml" >"$RUN/single.log" 2>&1 &
PID_S=$!; started "$PID_S"
PID=()
for i in 0 1 2; do
  java "${JAVA_FLAGS[@]}" -Dvxsocks.listen.port="${N[i]}" -Dvxsocks.cluster.port="${HZ[i]}" -jar "$JAR" run \
    --config "$RUN/cluster-off.yaml" >"$RUN/n$((i + 1)).log" 2>&1 &
  PID+=($!); started $!
done
wait_listen "$SINGLE" "$PID_S" "$RUN/single.log"
for i in 0 1 2; do wait_listen "${N[i]}" "${PID[i]}" "$RUN/n$((i + 1)).log"; done
formed() { [[ $(grep -l ' of 3,' "$RUN/n1.log" "$RUN/n2.log" "$RUN/n3.log" | wc -l) == 3 ]]; }
for ((i = 0; i < 60; i++)); do formed && break; sleep 1; done
formed || { echo "the three nodes did not form a cluster (see $RUN)" >&2; exit 1; }

load() { # load PORT SECONDS [LoadGen options]: one bounded rate run against 127.0.0.1:PORT
  local port=$1 secs=$2; shift 2
  timeout $((secs + 60)) "${LG[@]}" rate --proxy "127.0.0.1:$port" --target "127.0.0.1:$TARGET" --auth "bench:$PW" \
    --concurrency "$CONCURRENCY" --threads 2 "$@" >>"$RUN/load.log"
}
set_limits() { # set_limits off|on: roll the cluster's limits out, and say so
  timeout 60 java -jar "$JAR" config apply "$RUN/cluster-$1.yaml" >>"$RUN/apply.log" 2>&1 \
    || { echo "config apply $1 failed (see $RUN/apply.log)" >&2; exit 1; }
}
measure() { # measure SUBJECT ROUND
  case $1 in
    single) load "$SINGLE" "$DURATION" --warmup 1 --duration "$DURATION" --pid "$PID_S" --subject single --round "$2" \
      --out "$RUN/results.tsv" ;;
    cluster-*) set_limits "${1#cluster-}"
      load "${N[0]}" "$DURATION" --warmup 1 --duration "$DURATION" --pid "${PID[0]}" --subject "$1" --round "$2" \
        --out "$RUN/results.tsv" ;;
  esac
}

echo "run directory $RUN; warming each subject for ${WARM}s"
load "$SINGLE" "$WARM" --warmup 0 --duration "$WARM"
set_limits on; load "${N[0]}" "$WARM" --warmup 0 --duration "$WARM"
set_limits off; load "${N[0]}" "$WARM" --warmup 0 --duration "$WARM"
SUBJECTS=(single cluster-off cluster-on)
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${SUBJECTS[@]}")
  ((r % 2 == 0)) && order=(cluster-on cluster-off single)
  for s in "${order[@]}"; do measure "$s" "$r"; done
  echo "round $r done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done

echo
echo "each run (node 1 measured; CPU is node 1's own process per completed session):"
awk -F'\t' '{ v[$2 "\t" $3, $1] = $4; k[$2 "\t" $3] = 1 }
  END { p = "rate_auth_"; for (s in k) { split(s, a, "\t");
        printf "%-12s r%-2s %8.1f sessions/s  p50 %6.1f ms  cpu %7.1f us/session  errors %d\n", a[1], a[2],
          v[s, p "sessions_per_s"], v[s, p "p50_ms"], v[s, p "proxy_cpu_us_per_session"], v[s, p "errors"] } }' \
  "$RUN/results.tsv" | sort
echo
awk -F'\t' '
  function median(s, m,   n, i, j, t, x) { n = 0; for (i = 1; i <= cnt[s, m]; i++) x[++n] = val[s, m, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
    return n == 0 ? 0 : (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2) }
  function spread(s, m,   i, lo, hi) { lo = hi = val[s, m, 1]
    for (i = 2; i <= cnt[s, m]; i++) { if (val[s, m, i] < lo) lo = val[s, m, i]; if (val[s, m, i] > hi) hi = val[s, m, i] }
    return sprintf("%.0f-%.0f", lo, hi) }
  { val[$2, $1, ++cnt[$2, $1]] = $4 }
  END { r = "rate_auth_sessions_per_s"; c = "rate_auth_proxy_cpu_us_per_session"
    printf "medians of %d rounds:\n", cnt["single", r]
    split("single cluster-off cluster-on", S, " ")
    for (i = 1; i <= 3; i++) printf "  %-12s %8.1f sessions/s (%s)  cpu %7.1f us/session (%s)\n", S[i],
      median(S[i], r), spread(S[i], r), median(S[i], c), spread(S[i], c)
    on = median("cluster-on", r); off = median("cluster-off", r); one = median("single", r)
    printf "cluster-on / cluster-off  %.2fx  (target >= 0.70)\n", (off > 0 ? on / off : 0)
    printf "cluster-off / single      %.2fx  (target >= 0.90)\n", (one > 0 ? off / one : 0) }' "$RUN/results.tsv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores); raw results: $RUN/results.tsv"
