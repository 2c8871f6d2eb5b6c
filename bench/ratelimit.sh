#!/usr/bin/env bash
# What the new-session rate limits (limits.new-sessions-per-second-per-user / -per-client-ip) cost per session: the
# session-rate load (username/password, one user from one address: the worst case, every session on the same two
# keys) against a single node and against one node of a 2-node cluster on this machine, interleaved, in these modes:
#   off    all limits 0
#   on     the rate limits at 1,000,000/s per user and per address: every session takes its two tokens, none is refused
#   slots  the concurrent limits (limits.sessions-per-*) at 10,000,000 instead, for comparison: two slots per session
#   refusing  the rate limits at 100/s: nearly every attempt is refused (0x02, a load-generator error); the CPU
#          per attempt shows what a client far over its rate costs
#
#   bench/ratelimit.sh [--rounds N] [--duration SECONDS] [--concurrency N] [--modes "off on slots"]
#
# The single node runs with --watch and is switched by rewriting its file; the cluster by `config apply`. CPU per
# session counts both cluster nodes. Environment: BENCH_VXSOCKS_JAR (default launcher/target/vxsocks.jar, built with
# `mvn -B -q -o package -DskipTests` when missing), BENCH_PORT_BASE (default 11180: the single node there, the
# cluster nodes on the next two ports, Hazelcast on 15801/15802), BENCH_TARGET_PORT (default 17100). Every
# load-generator run is bounded by timeout; everything started is stopped by PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=3; DURATION=4; CONCURRENCY=64; MODES="off on"
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --modes) MODES=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

JAR=${BENCH_VXSOCKS_JAR:-$REPO/launcher/target/vxsocks.jar}
if [[ ! -f $JAR ]]; then
  (cd "$REPO" && mvn -B -q -o package -DskipTests)
fi
BASE=${BENCH_PORT_BASE:-11180}; SINGLE=$BASE; N1=$((BASE + 1)); N2=$((BASE + 2)); TARGET=${BENCH_TARGET_PORT:-17100}
HZ1=15801; HZ2=15802
RUN=$(mktemp -d /tmp/vxsocks-ratelimit.XXXXXX)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
build_loadgen
PW=bench-pw
HASH=$(printf '%s\n' "$PW" | java -jar "$JAR" hash-password --iterations 1000)

# config FILE PORT MODE [cluster]: username/password, one user, 127.0.0.0/8 only, limits as MODE says.
config() {
  local rate=0 slots=0
  [[ $3 == on ]] && rate=1000000
  [[ $3 == slots ]] && slots=10000000
  [[ $3 == refusing ]] && rate=100
  cat >"$1" <<YAML
listen: { host: 127.0.0.1, port: $2 }
auth: { methods: [username-password] }
users: [ { name: bench, password: "$HASH" } ]
rules:
  client: [ { action: allow, from: ["127.0.0.0/8"] } ]
  request: [ { action: allow, to: ["127.0.0.0/8"] } ]
limits:
  pending-handshakes: 20000
  new-sessions-per-second-per-user: $rate
  new-sessions-per-second-per-client-ip: $rate
  sessions-per-user: $slots
  sessions-per-client-ip: $slots
admin: { port: 0 }
YAML
  if [[ ${4:-} == cluster ]]; then
    cat >>"$1" <<YAML
cluster: { enabled: true, name: ratelimit-$$, members: ["127.0.0.1:$HZ1", "127.0.0.1:$HZ2"], host: 127.0.0.1, port: $HZ1, join-wait: 0s }
YAML
  fi
}

config "$RUN/single.yaml" "$SINGLE" off
config "$RUN/cluster.yaml" "$N1" off cluster
for mode in $MODES; do config "$RUN/cluster-$mode.yaml" "$N1" "$mode" cluster; done

"${LG[@]}" target --port "$TARGET" --hosts 127.0.0.1 --threads 2 --max-seconds 3600 >"$RUN/target.log" 2>&1 &
started $!
java "${JAVA_FLAGS[@]}" -jar "$JAR" run --config "$RUN/single.yaml" --watch >"$RUN/single.log" 2>&1 &
PID_S=$!; started "$PID_S"
java "${JAVA_FLAGS[@]}" -Dvxsocks.listen.port="$N1" -Dvxsocks.cluster.port="$HZ1" -jar "$JAR" run --config "$RUN/cluster.yaml" >"$RUN/n1.log" 2>&1 &
PID_1=$!; started "$PID_1"
java "${JAVA_FLAGS[@]}" -Dvxsocks.listen.port="$N2" -Dvxsocks.cluster.port="$HZ2" -jar "$JAR" run --config "$RUN/cluster.yaml" >"$RUN/n2.log" 2>&1 &
PID_2=$!; started "$PID_2"
wait_listen "$SINGLE" "$PID_S" "$RUN/single.log"
wait_listen "$N1" "$PID_1" "$RUN/n1.log"
wait_listen "$N2" "$PID_2" "$RUN/n2.log"
for ((i = 0; i < 60; i++)); do grep -q ' of 2,' "$RUN/n1.log" "$RUN/n2.log" && break; sleep 1; done
grep -q ' of 2,' "$RUN/n1.log" "$RUN/n2.log" || { echo "the two nodes did not form a cluster" >&2; exit 1; }

load() { # load PORT SUBJECT ROUND PIDS
  timeout 90 "${LG[@]}" rate --proxy "127.0.0.1:$1" --target "127.0.0.1:$TARGET" --auth "bench:$PW" \
    --concurrency "$CONCURRENCY" --threads 2 --warmup 1 --duration "$DURATION" --pid "$4" --subject "$2" \
    --round "$3" --out "$RUN/results.tsv" >/dev/null
}

set_mode() { # set_mode MODE
  config "$RUN/single.yaml" "$SINGLE" "$1"
  timeout 60 java -jar "$JAR" config apply "$RUN/cluster-$1.yaml" >>"$RUN/apply.log" 2>&1
  sleep 2 # --watch scans every second
  local v
  v=$(grep -c 'now running version' "$RUN/single.log" || true)
  echo "mode $1 (single node reloads so far: $v)"
}

echo "warming up (10 s per subject)"
timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:$SINGLE" --target "127.0.0.1:$TARGET" --auth "bench:$PW" \
  --concurrency "$CONCURRENCY" --threads 2 --warmup 0 --duration 10 >/dev/null
timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:$N1" --target "127.0.0.1:$TARGET" --auth "bench:$PW" \
  --concurrency "$CONCURRENCY" --threads 2 --warmup 0 --duration 10 >/dev/null
for ((r = 1; r <= ROUNDS; r++)); do
  read -r -a modes <<<"$MODES"
  # Every other round in reverse order, so no mode always follows the same one.
  ((r % 2 == 0)) && for ((i = 0, j = ${#modes[@]} - 1; i < j; i++, j--)); do t=${modes[i]}; modes[i]=${modes[j]}; modes[j]=$t; done
  for mode in "${modes[@]}"; do
    set_mode "$mode"
    load "$SINGLE" "single-$mode" "$r" "$PID_S"
    load "$N1" "cluster-$mode" "$r" "$PID_1,$PID_2"
  done
done

echo "per round (subject, round: sessions/s, p50, CPU per completed session, refused or failed attempts in the"
echo "window, CPU per attempt) from $RUN/results.tsv:"
awk -F'\t' -v d="$DURATION" '{ v[$2 " r" $3, $1] = $4; k[$2 " r" $3] = 1 }
  END { p = "rate_auth_"; for (s in k) { n = v[s, p "sessions_per_s"] * d; e = v[s, p "errors"];
        c = v[s, p "proxy_cpu_us_per_session"];
        printf "%-18s %8.1f/s  p50 %7.1f ms  cpu %7.1f us/session  errors %6d  cpu %7.1f us/attempt\n", s,
          n / d, v[s, p "p50_ms"], c, e, (n + e > 0 ? c * n / (n + e) : 0) } }' "$RUN/results.tsv" | sort
uptime
