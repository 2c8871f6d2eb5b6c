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
trap stop_started EXIT

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
