# Dante's configuration for the benchmarks (sourced by bench/run.sh and bench/ratecheck.sh, not run): no auth,
# 127.0.0.1 only, CONNECT to loopback targets only, errors logged. Dante's username method checks system
# (/etc/passwd) users, which the harness may not create, so there is no auth variant.

# dante_config FILE PORT LOGFILE: writes a sockd.conf listening on 127.0.0.1:PORT, logging to LOGFILE
dante_config() {
  cat >"$1" <<EOF
logoutput: $3
internal: 127.0.0.1 port = $2
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  log: error
}
EOF
}
