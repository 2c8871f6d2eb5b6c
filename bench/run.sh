#!/usr/bin/env bash
# vxsocks benchmark: our proxy against Dante, microsocks and Netty's example SOCKS server, all on loopback.
#
#   bench/run.sh [--quick] [--rounds N] [--only rate,sys,auth,tput,iperf,hold] [--skip-build]
#
# Installs what it needs (Debian packages, Netty's example from Maven Central), builds our jar if it is stale,
# starts a loopback echo/sink/source target, the peers and our proxy on distinct 127.0.0.1 ports, measures with the
# subjects interleaved (A B C D, A B C D, ...), prints a table of medians and ratios, and stops every process it
# started, by PID. Beside each rate: the proxy process's own CPU (utime + stime from /proc, all threads and children)
# per session and per GiB relayed, and (sys) its system calls per CONNECT session, counted by strace -f -c attached
# during a fixed number of sessions at 4 concurrent. A full run takes about 17 minutes (--rounds 5:
# about 25), --quick about 4, on a quiet machine.
# See docs/BENCHMARKS.md.
#
# Environment: BENCH_REPO (repo to build, default: the one holding this script), BENCH_VXSOCKS_JAR (use this jar, no
# build), JAVA_PROXY_OPTS (JVM flags for both Java proxies), BENCH_PORT_BASE (default 11080), BENCH_TARGET_PORT
# (default 17000), NETTY_VERSION (default 4.2.12.Final), BENCH_SYS_SESSIONS (sessions per system-call count, default
# 2500, 2000 with --quick).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# count_syscalls and proc_tree; this script keeps its own process handling and cleanup
# shellcheck source=bench/lib.sh
BENCH_LIB_NO_TRAP=1 source "$BENCH_DIR/lib.sh"
REPO=${BENCH_REPO:-$(cd "$BENCH_DIR/.." && pwd)}
WORK=$BENCH_DIR/.work
COMMAND_LINE="bench/run.sh $*"

QUICK=0
ROUNDS=3
ONLY="rate,sys,auth,tput,iperf,hold"
SKIP_BUILD=0
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((ROUNDS >= 1)) || { echo "--rounds must be >= 1" >&2; exit 2; }

if ((QUICK)); then
  WARM_SECS=1; JAVA_WARM_SECS=6; RATE_WARMUP=0.3; RATE_SECS=0.8; TPUT_WARMUP=0.1; TPUT_SECS=0.4; IPERF_SECS=1; IPERF_ROUNDS=1; HOLD_ROUNDS=1
  SYS_ROUNDS=1
else
  WARM_SECS=2; JAVA_WARM_SECS=30; RATE_WARMUP=1; RATE_SECS=5; TPUT_WARMUP=0.5; TPUT_SECS=2.5; IPERF_SECS=3; IPERF_ROUNDS=$ROUNDS; HOLD_ROUNDS=$ROUNDS
  SYS_ROUNDS=$ROUNDS
fi
# the system-call count: a fixed number of sessions at 4 concurrent, strace attached to the proxy throughout
SYS_SESSIONS=${BENCH_SYS_SESSIONS:-2500}; ((QUICK)) && SYS_SESSIONS=${BENCH_SYS_SESSIONS:-2000}
CONCURRENCY=${BENCH_CONCURRENCY:-128}
HOLD_SESSIONS=${BENCH_HOLD_SESSIONS:-9900}
PORT_BASE=${BENCH_PORT_BASE:-11080}
TARGET_PORT=${BENCH_TARGET_PORT:-17000}
NETTY_VERSION=${NETTY_VERSION:-4.2.12.Final}
JAVA_PROXY_OPTS=${JAVA_PROXY_OPTS:---add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
AUTH_USER=bench
AUTH_PASS=bench-password-1

wants() { [[ ",$ONLY," == *",$1,"* ]]; }
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------------- limits
HARD_NOFILE=$(ulimit -Hn)
if [[ $HARD_NOFILE == unlimited ]] || ((HARD_NOFILE > 20000)); then NOFILE=20000; else NOFILE=$HARD_NOFILE; fi
ulimit -n "$NOFILE"
((NOFILE >= 20000)) || log "warning: file-descriptor limit is $NOFILE; holding $HOLD_SESSIONS sessions needs ~2 per session in the proxy"

# ---------------------------------------------------------------------------------------------------- processes
RUN=$(mktemp -d /tmp/vxsocks-bench.XXXXXX)
STARTED_PIDS=()

stop_pid() { # stop one process we started, and the children it forked (Dante), by PID only
  local pid=$1 kids=() i
  [[ -d /proc/$pid ]] || return 0
  for f in /proc/"$pid"/task/*/children; do
    more=(); [[ -r $f ]] && { read -r -a more <"$f" || true; }; kids+=("${more[@]}")
  done
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  [[ -d /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null
  for k in "${kids[@]}"; do [[ -d /proc/$k ]] && kill -TERM "$k" 2>/dev/null; done
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[i]}"; done
  log "stopped ${#STARTED_PIDS[@]} processes; logs in $RUN"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: run in the background with output to $RUN/NAME.log; sets LAST_PID
start() {
  local name=$1; shift
  "$@" >>"$RUN/$name.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

wait_port() { # host port seconds pid
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    [[ -d /proc/$4 ]] || return 1
    sleep 0.1
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------------- installs
need=()
command -v danted >/dev/null || need+=(dante-server)
command -v microsocks >/dev/null || need+=(microsocks)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v proxychains4 >/dev/null || need+=(proxychains4)
wants sys && ! command -v strace >/dev/null && need+=(strace)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  SUDO=""; ((EUID == 0)) || SUDO=sudo
  if $SUDO apt-get update -qq >"$RUN/apt.log" 2>&1 &&
     DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >>"$RUN/apt.log" 2>&1; then :
  else log "warning: apt-get failed (see $RUN/apt.log); the missing peers are skipped"; fi
fi
for tool in java javac jcmd mvn; do command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 1; }; done

mkdir -p "$WORK"
NETTY_LIB=$WORK/netty-lib
if ! compgen -G "$NETTY_LIB/netty-example-*.jar" >/dev/null; then
  log "fetching io.netty:netty-example:$NETTY_VERSION and its runtime dependencies"
  if ! mvn -B -q -f "$BENCH_DIR/peers/netty/pom.xml" -Dnetty.version="$NETTY_VERSION" \
        -Dpeer.lib="$NETTY_LIB" dependency:copy-dependencies >"$RUN/netty-fetch.log" 2>&1; then
    log "$NETTY_VERSION not served; resolving the newest 4.1/4.2 release instead"
    rm -rf "$NETTY_LIB"
    mvn -B -q -f "$BENCH_DIR/peers/netty/pom.xml" -Dnetty.version='[4.1.0.Final,4.2.99999]' \
        -Dpeer.lib="$NETTY_LIB" dependency:copy-dependencies >>"$RUN/netty-fetch.log" 2>&1 ||
      log "warning: could not fetch Netty's example (see $RUN/netty-fetch.log); skipped"
  fi
fi
NETTY_JAR=$(compgen -G "$NETTY_LIB/netty-example-*.jar" | head -1 || true)

# the load generator
CLASSES=$WORK/classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
javac -d "$CLASSES" "$BENCH_DIR/loadgen/LoadGen.java"
LG=(java -XX:+UseSerialGC -Xms256m -Xmx2g -cp "$CLASSES" LoadGen)

# our proxy
JAR=${BENCH_VXSOCKS_JAR:-$REPO/launcher/target/vxsocks.jar}
if [[ -z ${BENCH_VXSOCKS_JAR:-} ]] && ((!SKIP_BUILD)); then
  stale=1
  if [[ -f $JAR ]]; then
    stale=$(find "$REPO" -path "$REPO/bench" -prune -o -path '*/target' -prune -o -path "$REPO/.git" -prune -o \
              \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -newer "$JAR" -print -quit | wc -l)
  fi
  if ((stale)); then
    log "building vxsocks in $REPO (mvn -B -q -DskipTests package)"
    (cd "$REPO" && mvn -B -q -DskipTests package) >"$RUN/build.log" 2>&1 ||
      log "warning: the build failed (see $RUN/build.log)"
  fi
fi
[[ -f $JAR ]] || { log "warning: $JAR not found: vxsocks is skipped"; JAR=""; }

# ---------------------------------------------------------------------------------------------------- machine
{
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- command: \`$COMMAND_LINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/{print $2}') GiB memory, kernel $(uname -r)"
  echo "- java: $(java -version 2>&1 | sed -n 2p)"
  echo "- peers: Dante $(dpkg-query -W -f='${Version}' dante-server 2>/dev/null || echo '?'), microsocks $(dpkg-query -W -f='${Version}' microsocks 2>/dev/null || echo '?'), Netty example $(basename "${NETTY_JAR:-?}" .jar | sed 's/netty-example-//'), iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null || echo '?'), proxychains4 $(dpkg-query -W -f='${Version}' proxychains4 2>/dev/null || echo '?')"
  if [[ -n $JAR ]]; then
    dirty=$(git -C "$REPO" status --porcelain -- . ':!bench' ':!docs' 2>/dev/null | head -1)
    echo "- vxsocks: $JAR built from $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null)${dirty:+ (plus uncommitted changes)}"
  else
    echo "- vxsocks: not available"
  fi
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine adds noise)"
  echo "- settings: rounds=$ROUNDS, concurrency=$CONCURRENCY, system calls over $SYS_SESSIONS sessions at 4 concurrent x $SYS_ROUNDS, rate ${RATE_SECS}s (+${RATE_WARMUP}s warm-up), throughput ${TPUT_SECS}s (+${TPUT_WARMUP}s), iperf3 ${IPERF_SECS}s x $IPERF_ROUNDS, held sessions $HOLD_SESSIONS x $HOLD_ROUNDS, nofile=$NOFILE, JAVA_PROXY_OPTS='$JAVA_PROXY_OPTS'"
} >"$RUN/machine.md"

# ---------------------------------------------------------------------------------------------------- start
P_VX=$PORT_BASE; P_VXA=$((PORT_BASE + 1)); P_MS=$((PORT_BASE + 2)); P_MSA=$((PORT_BASE + 3))
P_NETTY=$((PORT_BASE + 4)); P_DANTE=$((PORT_BASE + 5)); P_IPERF=$((PORT_BASE + 10))
for p in $P_VX $P_VXA $P_MS $P_MSA $P_NETTY $P_DANTE $P_IPERF $TARGET_PORT $((TARGET_PORT + 1)) $((TARGET_PORT + 2)) $((TARGET_PORT + 3)); do
  port_free "$p" || { echo "port $p on 127.0.0.1 is in use; set BENCH_PORT_BASE / BENCH_TARGET_PORT" >&2; exit 1; }
done

declare -A PORT PID JVM AUTH CMD
SUBJECTS=()        # no-auth proxies, in measuring order
AUTH_SUBJECTS=()   # username/password variants

# define NAME PORT JVM(0/1) AUTH(0/1) CMD...: a subject and the command that starts it
define() {
  local name=$1; PORT[$name]=$2; JVM[$name]=$3; AUTH[$name]=$4; shift 4
  CMD[$name]=$(printf '%q ' "$@")
}

# launch NAME: start (or restart) a subject and wait for its port; returns non-zero if it does not come up
launch() {
  local name=$1
  if [[ -n ${PID[$name]:-} ]]; then stop_pid "${PID[$name]}"; fi
  eval "start \"\$name\" ${CMD[$name]}"
  PID[$name]=$LAST_PID
  if wait_port 127.0.0.1 "${PORT[$name]}" 60 "$LAST_PID"; then return 0; fi
  log "warning: $name did not listen on ${PORT[$name]}: $(tail -5 "$RUN/$name.log" 2>/dev/null)"
  return 1
}

start target "${LG[@]}" target --port "$TARGET_PORT" --hosts 127.0.0.1,127.0.0.2,127.0.0.3 --threads 2 --max-seconds 1800
TARGET_PID=$LAST_PID
wait_port 127.0.0.1 "$TARGET_PORT" 20 "$TARGET_PID" || { echo "the target did not start: $(cat "$RUN/target.log")" >&2; exit 1; }

CANDIDATES=()
if [[ -n $JAR ]]; then
  # shellcheck disable=SC2086
  HASH=$(printf '%s\n' "$AUTH_PASS" | java $JAVA_PROXY_OPTS -jar "$JAR" hash-password 2>"$RUN/hash.log" | grep -v '^\s*$' | tail -1 || true)
  for variant in none auth; do
    port=$P_VX; name=vxsocks; methods=none
    if [[ $variant == auth ]]; then port=$P_VXA; name=vxsocks-auth; methods=username-password; fi
    if [[ $variant == auth && $HASH != \$* ]]; then
      log "warning: hash-password gave no hash (see $RUN/hash.log): vxsocks-auth is skipped"; continue
    fi
    cat >"$RUN/$name.yaml" <<EOF
listen: { host: 127.0.0.1, port: $port }
auth:
  methods: [$methods]
users:
  - name: $AUTH_USER
    password: "$HASH"
rules:
  client: [ { action: allow, from: ["127.0.0.0/8", "::1/128"] } ]
  request: [ { action: allow, to: ["127.0.0.0/8", "::1/128", "localhost"] } ]
timeouts: { handshake: 10s, connect: 10s, idle: 5m }
limits: { sessions-per-user: 0, sessions-per-client-ip: 0, pending-handshakes: 20000, sessions-total: 0,
          sessions-per-source: 0, pending-handshakes-per-source: 0 }
# no admin port: both variants (and anything else on this machine) would want the default one
admin: { port: 0 }
EOF
    if [[ $variant == none ]]; then sed -i '/^users:/,/^    password:/d' "$RUN/$name.yaml"; fi
    # shellcheck disable=SC2086
    define "$name" "$port" 1 "$([[ $variant == auth ]] && echo 1 || echo 0)" \
      java $JAVA_PROXY_OPTS -jar "$JAR" run --config "$RUN/$name.yaml"
    CANDIDATES+=("$name")
  done
fi

if [[ -n $NETTY_JAR ]]; then
  # -Dport: the example's listen port (it binds the wildcard address; there is no host option);
  # -DlogLevel=warn: its logback.xml would otherwise log every accepted connection at INFO
  # shellcheck disable=SC2086
  define netty "$P_NETTY" 1 0 java $JAVA_PROXY_OPTS -Dport="$P_NETTY" -DlogLevel=warn -cp "$NETTY_LIB/*" \
    io.netty.example.socksproxy.SocksServer
  CANDIDATES+=(netty)
fi

if command -v microsocks >/dev/null; then
  define microsocks "$P_MS" 0 0 microsocks -i 127.0.0.1 -p "$P_MS"
  define microsocks-auth "$P_MSA" 0 1 microsocks -i 127.0.0.1 -p "$P_MSA" -u "$AUTH_USER" -P "$AUTH_PASS"
  CANDIDATES+=(microsocks microsocks-auth)
fi

if command -v danted >/dev/null; then
  # shellcheck source=bench/peers/dante.sh
  source "$BENCH_DIR/peers/dante.sh"
  dante_config "$RUN/sockd.conf" "$P_DANTE" "$RUN/dante-sockd.log"
  define dante "$P_DANTE" 0 0 danted -f "$RUN/sockd.conf" -p "$RUN/danted.pid"
  CANDIDATES+=(dante)
fi

for name in "${CANDIDATES[@]}"; do
  if launch "$name"; then
    if ((${AUTH[$name]})); then AUTH_SUBJECTS+=("$name"); else SUBJECTS+=("$name"); fi
  fi
done

log "subjects: direct ${SUBJECTS[*]} | auth: ${AUTH_SUBJECTS[*]} | run dir $RUN"
RESULTS=$RUN/results.tsv
: >"$RESULTS"

# lg NAME ROUND MODE ARGS...: one bounded load-generator run for subject NAME
lg() {
  local name=$1 round=$2 mode=$3; shift 3
  local via=(--direct)
  [[ $name == direct ]] || via=(--proxy "127.0.0.1:${PORT[$name]}")
  quiesce
  timeout 300 "${LG[@]}" "$mode" "${via[@]}" --subject "$name" --round "$round" --out "$RESULTS" "$@" ||
    log "warning: $mode for $name round $round failed (exit $?)"
}

# CPU ticks (user + system) used so far by the target and every running subject, their children included
ticks() { # builtins only: Dante can have hundreds of children
  local p q f line sum=0 procs kids a
  for p in "$TARGET_PID" "${PID[@]}"; do
    [[ -r /proc/$p/stat ]] || continue
    procs=("$p")
    for f in /proc/"$p"/task/*/children; do
      read -r -a kids 2>/dev/null <"$f" || true
      procs+=("${kids[@]}")
    done
    for q in "${procs[@]}"; do
      read -r line 2>/dev/null <"/proc/$q/stat" || continue
      line=${line##*) }                 # fields from the 3rd on; utime and stime are the 14th and 15th
      read -r -a a <<<"$line"
      sum=$((sum + a[11] + a[12]))
    done
  done
  echo "$sum"
}

# quiesce: wait (at most 60 s) until the previous measurement's work is over in every process, so that one subject's
# backlog (a queue of password hashes, buffers being flushed) does not run during the next subject's measurement
quiesce() {
  local i t0 t1
  t0=$(ticks)
  for ((i = 0; i < 240; i++)); do
    sleep 0.25
    t1=$(ticks)
    ((t1 - t0 <= 3)) && break   # at most 3 ticks of 10 ms in 250 ms: about 12% of one core
    t0=$t1
  done
  ((i < 4)) || log "waited $((i / 4)) s for the processes to go idle"
}

# ---------------------------------------------------------------------------------------------------- measure
# The JVMs (vxsocks, Netty's example) need many seconds of load before C2 has compiled their hot paths: perf showed
# vxsocks' C2 threads at 21% of its CPU 14 s into the load and gone after 30 s (and CPU per session down from
# ~300 to ~200 us); the C servers need none. Both JVMs get the same warm-up.
log "warm-up (not recorded): ${JAVA_WARM_SECS}s of sessions through each Java proxy, ${WARM_SECS}s through the others"
for s in "${SUBJECTS[@]}"; do
  secs=$WARM_SECS
  [[ $s == vxsocks* || $s == netty ]] && secs=$JAVA_WARM_SECS
  timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:${PORT[$s]}" --target "127.0.0.1:$TARGET_PORT" --warmup 0 \
    --duration "$secs" --threads 2 >/dev/null || log "warning: warm-up of $s failed"
done

# The username/password rounds run in the same rounds as the no-auth ones (each round: direct, the no-auth
# subjects, then the auth ones), so that "auth ÷ no-auth" compares figures taken under the same load: run one after
# the other, a machine whose load changed between the two phases made that ratio read anything from 0.4 to 2.3.
AUTH_ROUNDS=0
if wants auth && ((${#AUTH_SUBJECTS[@]})); then
  AUTH_ROUNDS=1
  log "warming the username/password subjects"
  # a single login first fills any credential cache, as a user's earlier connection would have
  for s in "${AUTH_SUBJECTS[@]}"; do
    timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:${PORT[$s]}" --target "127.0.0.1:$TARGET_PORT" --warmup 0 \
      --duration 0.5 --concurrency 1 --auth "$AUTH_USER:$AUTH_PASS" >/dev/null || true
    secs=$WARM_SECS
    [[ $s == vxsocks* ]] && secs=$JAVA_WARM_SECS
    timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:${PORT[$s]}" --target "127.0.0.1:$TARGET_PORT" \
      --warmup 0 --duration "$secs" --threads 2 --auth "$AUTH_USER:$AUTH_PASS" >/dev/null || true
  done
fi

if wants rate || ((AUTH_ROUNDS)); then
  log "session rate, $CONCURRENCY concurrent, $ROUNDS rounds:$(wants rate && echo " no auth")$( ((AUTH_ROUNDS)) && echo " username/password")"
  for ((r = 1; r <= ROUNDS; r++)); do
    if wants rate; then
      for s in direct "${SUBJECTS[@]}"; do
        pidarg=(); [[ $s == direct ]] || pidarg=(--pid "${PID[$s]}")
        lg "$s" "$r" rate --target "127.0.0.1:$TARGET_PORT" --concurrency "$CONCURRENCY" --threads 2 \
          --warmup "$RATE_WARMUP" --duration "$RATE_SECS" "${pidarg[@]}"
      done
    fi
    if ((AUTH_ROUNDS)); then
      for s in "${AUTH_SUBJECTS[@]}"; do
        lg "$s" "$r" rate --target "127.0.0.1:$TARGET_PORT" --concurrency "$CONCURRENCY" --threads 2 \
          --warmup "$RATE_WARMUP" --duration "$RATE_SECS" --auth "$AUTH_USER:$AUTH_PASS" --pid "${PID[$s]}"
      done
    fi
  done
fi

if wants sys; then
  if command -v strace >/dev/null; then
    log "system calls per CONNECT session: strace -f -c on each proxy over $SYS_SESSIONS sessions at 4 concurrent, $SYS_ROUNDS rounds"
    log "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
    for ((r = 1; r <= SYS_ROUNDS; r++)); do
      for s in "${SUBJECTS[@]}"; do
        quiesce
        out=$RUN/strace-$s-r$r.txt
        read -r calls sessions < <(count_syscalls "${PID[$s]}" "$out" --proxy "127.0.0.1:${PORT[$s]}" \
          --target "127.0.0.1:$TARGET_PORT" --concurrency 4 --threads 1 --warmup 0 --duration 120 \
          --sessions "$SYS_SESSIONS" --subject "$s" --round "$r")
        if ((sessions > 0 && calls > 0)); then
          # strace -c: "% time, seconds, usecs/call, calls, [errors], syscall"; the errors column may be empty
          awk -v s="$s" -v r="$r" -v n="$sessions" -v c="$calls" '
            BEGIN { printf "syscalls_per_session\t%s\t%s\t%.3f\n", s, r, c / n }
            $1 ~ /^[0-9.]+$/ && $NF != "total" {
              e = (NF == 6) ? $5 : 0
              printf "syscall_%s_per_session\t%s\t%s\t%.4f\n", $NF, s, r, $4 / n
              if (e > 0) printf "syscall_%s_errors_per_session\t%s\t%s\t%.4f\n", $NF, s, r, e / n
            }' "$out" >>"$RESULTS"
          echo "$s r$r syscalls_per_session = $(awk -v c="$calls" -v n="$sessions" 'BEGIN { printf "%.1f", c / n }') ($calls calls, $sessions sessions)"
        else
          log "warning: no system-call count for $s round $r (see $out.log)"
        fi
      done
    done
  else
    log "warning: strace is not installed: no system-call counts"
  fi
fi

if wants auth && ((${#AUTH_SUBJECTS[@]})) && ((!QUICK)); then
  log "cold start: $CONCURRENCY concurrent first logins on a freshly started proxy (one round)"
  for s in "${AUTH_SUBJECTS[@]}"; do
    launch "$s" || continue
    lg "$s" 1 rate --target "127.0.0.1:$TARGET_PORT" --concurrency "$CONCURRENCY" --threads 2 --prefix rate_auth_cold \
      --warmup 0 --duration "$RATE_SECS" --auth "$AUTH_USER:$AUTH_PASS" --pid "${PID[$s]}"
  done
fi

if wants tput; then
  log "throughput, 1 and 4 streams, upload and download, $ROUNDS rounds"
  for ((r = 1; r <= ROUNDS; r++)); do
    for s in direct "${SUBJECTS[@]}"; do
      pidarg=(); [[ $s == direct ]] || pidarg=(--pid "${PID[$s]}")
      lg "$s" "$r" tput --sink "127.0.0.1:$((TARGET_PORT + 2))" --source "127.0.0.1:$((TARGET_PORT + 3))" \
        --warmup "$TPUT_WARMUP" --duration "$TPUT_SECS" "${pidarg[@]}"
    done
  done
fi

if wants iperf && command -v iperf3 >/dev/null && command -v proxychains4 >/dev/null; then
  log "iperf3 through proxychains4, 1 stream each way, $IPERF_ROUNDS rounds"
  start iperf3-server iperf3 -s -B 127.0.0.1 -p "$P_IPERF"
  if wait_port 127.0.0.1 "$P_IPERF" 10 "$LAST_PID"; then
    for ((r = 1; r <= IPERF_ROUNDS; r++)); do
      for s in direct "${SUBJECTS[@]}"; do
        pre=()
        if [[ $s != direct ]]; then
          printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
            "${PORT[$s]}" >"$RUN/proxychains-$s.conf"
          pre=(proxychains4 -q -f "$RUN/proxychains-$s.conf")
        fi
        for dir in up down; do
          rev=(); [[ $dir == down ]] && rev=(-R)
          out=$(timeout $((IPERF_SECS + 30)) "${pre[@]}" iperf3 -c 127.0.0.1 -p "$P_IPERF" -t "$IPERF_SECS" -f M "${rev[@]}" 2>&1 || true)
          v=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "MBytes/sec") print $(i - 1) }' <<<"$out" | tail -1)
          if [[ -n $v ]]; then
            printf 'iperf3_%s1_mib_s\t%s\t%s\t%s\n' "$dir" "$s" "$r" "$v" >>"$RESULTS"
            echo "$s r$r iperf3_${dir}1_mib_s = $v"
          else
            log "warning: iperf3 $dir via $s gave no figure: $(tail -2 <<<"$out")"
          fi
          sleep 0.3
        done
      done
    done
  fi
fi

if wants hold; then
  log "held idle sessions: $HOLD_SESSIONS per proxy, $HOLD_ROUNDS rounds"
  for ((r = 1; r <= HOLD_ROUNDS; r++)); do
    # a different target address each round, so the previous round's TIME_WAIT sockets are not in the way
    thost=127.0.0.$(((r - 1) % 3 + 1))
    for s in "${SUBJECTS[@]}"; do
      # a fresh process, warmed up briefly, so "idle" is not inflated by the throughput phase's buffers and heap
      launch "$s" || continue
      timeout 60 "${LG[@]}" rate --proxy "127.0.0.1:${PORT[$s]}" --target "127.0.0.1:$TARGET_PORT" --warmup 0 \
        --duration "$WARM_SECS" --threads 2 >/dev/null || true
      jvm=(); ((${JVM[$s]})) && jvm=(--jvm)
      # memory is read after 12 s idle (a full run), when a JVM that returns heap after a burst has done so (G1's
      # periodic collection fires 5-10 s after the last one), and also 2 s in (hold_rss_early_per_session_kib)
      settle=(--settle 1); ((QUICK)) || settle=(--settle 12 --early-read 2)
      lg "$s" "$r" hold --target "$thost:$((TARGET_PORT + 1))" --sessions "$HOLD_SESSIONS" --pid "${PID[$s]}" "${jvm[@]}" \
        "${settle[@]}"
    done
  done
fi

# ---------------------------------------------------------------------------------------------------- report
for s in "${SUBJECTS[@]}" "${AUTH_SUBJECTS[@]}"; do
  [[ -d /proc/${PID[$s]} ]] || log "warning: $s (pid ${PID[$s]}) is no longer running: $(tail -3 "$RUN/$s.log" 2>/dev/null)"
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$WORK/report-$STAMP.md
{
  echo "## Run $STAMP"
  echo
  cat "$RUN/machine.md"
  echo "- wall time of the run: $((SECONDS / 60)) min $((SECONDS % 60)) s"
  echo
  "${LG[@]}" report --in "$RESULTS" --ours vxsocks
} >"$REPORT"
cp "$RESULTS" "$WORK/results-$STAMP.tsv"
cp "$REPORT" "$WORK/last-report.md"
echo
cat "$REPORT"
log "report: $REPORT (raw: $WORK/results-$STAMP.tsv); took $((SECONDS / 60)) min $((SECONDS % 60)) s"
# Cluster mode: bench/cluster.sh (3 nodes, session limits off and on, beside a single node), in a full run or --only ...,cluster.
if wants cluster || [[ $ONLY == rate,auth,tput,iperf,hold ]]; then BENCH_VXSOCKS_JAR="$JAR" "$BENCH_DIR/cluster.sh" --rounds "$ROUNDS" $( ((QUICK)) && echo --warm 6 --duration 1 ); fi
