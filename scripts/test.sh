#!/usr/bin/env bash
# Runs every test of the project: `./scripts/test.sh` (extra arguments go to Maven, e.g. -pl proxy-verticle).
# The end-to-end tests drive clients nobody on this team wrote; this installs them from Debian when missing:
# curl, ncat, python3-socks (PySocks, imported by Debian's /usr/bin/python3), dante-client (socksify, with gcc),
# haproxy (HaproxyClusterTest runs docs/deploy/haproxy.cfg in front of three nodes), prometheus (MetricsTest), and
# MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user: the GSS-API tests start a KDC of their own on loopback),
# and what scripts/gss-curl.sh needs to build a newer curl from Debian's sources (libkrb5-dev, make, gpgv, xz-utils).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v ncat >/dev/null 2>&1 || missing+=(ncat)
{ [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import socks' >/dev/null 2>&1; } || missing+=(python3 python3-socks)
command -v socksify >/dev/null 2>&1 || missing+=(dante-client)   # Dante's SOCKS client library: the BIND test
command -v gcc >/dev/null 2>&1 || missing+=(gcc)                 # builds the plain TCP server it socksifies
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)  # the balancer in front of a cluster
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || missing+=(prometheus)        # scrapes /metrics in MetricsTest
# MIT Kerberos for the GSS-API tests: the test realm's KDC, kadmin.local to make its principals, kinit for curl
[ -x /usr/sbin/krb5kdc ] || missing+=(krb5-kdc)
[ -x /usr/sbin/kadmin.local ] || missing+=(krb5-admin-server)
command -v kinit >/dev/null 2>&1 || missing+=(krb5-user)
# To build a curl that can finish a SOCKS5 GSS-API login (scripts/gss-curl.sh: Debian 12's cannot)
command -v krb5-config >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v gpgv >/dev/null 2>&1 || missing+=(gpgv)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (Debian packages the end-to-end tests use)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool is required (Java 17+ and Maven 3.8+)" >&2; exit 1; }
done

# curl >= 8.17 built from Debian's source package (CurlGssapiFetchTest; a few minutes the first time, then kept
# in .work/). A failed build fails the run: its log is in .work/gss-curl/build.log.
if ! ./scripts/gss-curl.sh .work/gss-curl; then
  echo "test.sh: could not build the GSS-API curl; the end of .work/gss-curl/build.log:" >&2
  tail -20 .work/gss-curl/build.log >&2
  exit 1
fi
# Not a VXSOCKS_* name: a node refuses any VXSOCKS_* variable that is not a setting, and every test inherits this.
export GSSAPI_CURL="$PWD/.work/gss-curl/bin/curl"

# The abandoned-handshake test opens ~2,000 sockets in one JVM.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec mvn -B verify "$@"
