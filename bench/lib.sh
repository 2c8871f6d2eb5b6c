# Shared by bench/ab.sh and bench/profile.sh (sourced, not run): the load generator, one no-auth vxsocks
# configuration on loopback, starting processes that are stopped by PID on exit, and waiting for a port.
# bench/run.sh keeps its own versions: it also starts the peers, an auth variant and Dante's forked children.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# The JVM flags both Java proxies get in bench/run.sh.
JAVA_FLAGS=(--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED)

# Compiles the load generator into bench/.work/classes; "${LG[@]}" then runs it.
build_loadgen() {
  mkdir -p "$BENCH_DIR/.work/classes"
  javac -d "$BENCH_DIR/.work/classes" "$BENCH_DIR/loadgen/LoadGen.java"
  LG=(java -XX:+UseParallelGC -cp "$BENCH_DIR/.work/classes" LoadGen)
  ulimit -n "$(ulimit -Hn | sed 's/unlimited/20000/')" 2>/dev/null || true
}

# vxsocks_config FILE PORT: no auth, 127.0.0.1 only, no session limits (as bench/run.sh's vxsocks subject), no admin
# port (two proxies side by side would both want the default one).
vxsocks_config() {
  cat >"$1" <<YAML
listen: { host: 127.0.0.1, port: $2 }
auth:
  methods: [none]
rules:
  client: [ { action: allow, from: ["127.0.0.0/8"] } ]
  request: [ { action: allow, to: ["127.0.0.0/8"] } ]
timeouts: { handshake: 10s, connect: 10s, idle: 5m }
limits: { sessions-per-user: 0, sessions-per-client-ip: 0, pending-handshakes: 20000, sessions-total: 0,
          sessions-per-source: 0, pending-handshakes-per-source: 0 }
admin: { port: 0 }
YAML
}

# Every process started with `started $!` is stopped, by PID, when the script exits, and so are the children it
# forked (Dante's), whose PIDs are read from /proc before their parent goes.
PIDS=()
started() { PIDS+=("$1"); }
stop_started() {
  local p f kids=() more
  for p in "${PIDS[@]}"; do
    for f in /proc/"$p"/task/*/children; do
      more=(); [[ -r $f ]] && { read -r -a more <"$f" || true; }; kids+=("${more[@]}")
    done
    kill "$p" 2>/dev/null || true
  done
  for p in "${kids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
# bench/run.sh sources this file for the functions below only, and keeps its own cleanup.
[[ -n ${BENCH_LIB_NO_TRAP:-} ]] || trap stop_started EXIT

# wait_listen PORT PID LOG: waits (at most 30 s) until 127.0.0.1:PORT accepts; fails if PID exits first.
wait_listen() {
  local i
  for ((i = 0; i < 150; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "pid $2 exited before listening on $1: $(tail -3 "$3")" >&2; return 1; }
    sleep 0.2
  done
  echo "nothing listens on 127.0.0.1:$1 after 30 s" >&2
  return 1
}

# proc_tree PID: PID and its descendants (Dante's forked children), one per line.
proc_tree() {
  local todo=("$1") p f more
  while ((${#todo[@]})); do
    p=${todo[0]}; todo=("${todo[@]:1}")
    echo "$p"
    for f in /proc/"$p"/task/*/children; do
      more=(); [[ -r $f ]] && { read -r -a more <"$f" || true; }; todo+=("${more[@]}")
    done
  done
}

# count_syscalls PID OUT LOADGEN-ARGS...: the system calls the process PID (all its threads and children) makes
# while the load generator runs once with LOADGEN-ARGS (which must bound the run with --sessions). strace -f -c is
# attached before the load starts and detached once the process is idle again, so every call of every session is
# counted, along with whatever the process does on its own meanwhile (timers, the log writer). Writes strace's
# table to OUT and prints "CALLS SESSIONS": the sum of the calls and the sessions the load generator completed.
# Needs strace (Debian: strace) and the load generator (build_loadgen, or LG set by the caller).
count_syscalls() {
  local pid=$1 out=$2; shift 2
  local targs=() p spid i sessions calls
  for p in $(proc_tree "$pid"); do targs+=(-p "$p"); done
  strace -f -c -S calls -o "$out" "${targs[@]}" 2>"$out.log" &
  spid=$!
  # strace attaches to each thread in turn: wait for the attach messages to stop growing
  for ((i = 0; i < 50; i++)); do
    sleep 0.2
    [[ $(grep -c 'attached' "$out.log" 2>/dev/null) -gt 0 ]] && { sleep 0.5; break; }
  done
  sessions=$(timeout 300 "${LG[@]}" rate "$@" | awk '/_sessions_completed =/ { print $NF }' || true)
  sleep 1 # the proxy closes the last sessions' upstream sockets after the client has seen its close
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  calls=$(awk '$NF == "total" { print $4 }' "$out")
  echo "${calls:-0} ${sessions:-0}"
}
