#!/usr/bin/env bash
# Builds a curl that can finish a SOCKS5 GSS-API handshake, for CurlGssapiTest: `scripts/gss-curl.sh DIR`.
#
# Debian 12's curl (7.88.1) cannot: after a GSS-API sub-negotiation that succeeded its SOCKS state machine falls
# through to "Undocumented SOCKS5 mode attempted to be used by server." instead of sending the request, and it forgets
# that it offered GSS-API when the method selection is not there at its first read. Every curl from 7.71 to 8.16 has
# that code; curl 8.17.0 (its SOCKS rework) is the first that sends the request. No Debian release before 14 ships
# one, so this builds the newest curl of Debian unstable from Debian's own source package, checked along Debian's
# chain of trust: the suite's InRelease signature (gpgv, debian-archive-keyring), the Sources index's SHA-256 in it,
# the upstream tarball's SHA-256 in the index. Only the HTTP client and GSS-API are built (no TLS), statically.
#
# Leaves DIR/bin/curl and DIR/version; logs to DIR/build.log. Does nothing if DIR/bin/curl already runs.
set -euo pipefail

dir=${1:?usage: gss-curl.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log=$dir/build.log
if [ -x "$dir/bin/curl" ] && "$dir/bin/curl" --version >/dev/null 2>&1; then
  exit 0
fi
exec >"$log" 2>&1
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
work=$dir/src
rm -rf "$work" && mkdir -p "$work" && cd "$work"

curl -fsS -m 120 -o InRelease "$mirror/dists/unstable/InRelease"
gpgv --keyring "$keyring" --output Release InRelease
sources_sha=$(awk '$3 == "main/source/Sources.xz" && length($1) == 64 { print $1; exit }' Release)
[ -n "$sources_sha" ] || { echo "gss-curl: no SHA-256 for main/source/Sources.xz in unstable's Release"; exit 1; }
curl -fsS -m 300 -o Sources.xz "$mirror/dists/unstable/main/source/Sources.xz"
echo "$sources_sha  Sources.xz" | sha256sum -c -

# The curl stanzas (Version, Directory and the orig tarball's line under Checksums-Sha256, in any order): the newest
# upstream version >= 8.17 that can be fetched.
xz -dc Sources.xz | awk '
  function flush() { if (pkg == "curl" && tar != "") print ver, d, sum, tar; pkg = ""; tar = ""; d = ""; sums = 0 }
  /^$/ { flush(); next }
  /^Package: / { pkg = $2 }
  /^Version: / { ver = $2 }
  /^Directory: / { d = $2 }
  /^Checksums-Sha256:/ { sums = 1; next }
  sums && /^ / && $3 ~ /^curl_[0-9.]+\.orig\.tar\.(gz|xz)$/ { sum = $1; tar = $3 }
  /^[^ ]/ { sums = 0 }
  END { flush() }
' | sort -u -V -k1,1 >candidates
echo "candidates:" && cat candidates
# Newest first; a version the index lists may already be gone from the pool (or not there yet): try the next.
file=""
while read -r version directory sha name; do
  echo "trying $name (Debian $version)"
  if curl -fsS -m 300 -o "$name" "$mirror/$directory/$name" && echo "$sha  $name" | sha256sum -c -; then
    file=$name
    break
  fi
  rm -f "$name"
done < <(awk '$1 !~ /~/ { split($4, a, "_"); sub(/\.orig.*/, "", a[2]);
  split(a[2], v, "."); if (v[1] > 8 || (v[1] == 8 && v[2] >= 17)) print }' candidates | tac)
[ -n "$file" ] || { echo "gss-curl: no curl >= 8.17 from Debian unstable could be fetched and checked"; exit 1; }
tar xf "$file"
cd curl-*/

# One compilation unit for the library (--enable-unity) and no libcurlu (the unit tests' copy): minutes less.
./configure --prefix="$dir" --enable-unity --disable-dependency-tracking --with-gssapi --without-ssl --without-zlib --without-brotli --without-zstd \
  --without-libpsl --without-libidn2 --without-nghttp2 --without-libssh2 \
  --disable-shared --enable-static --disable-manual --disable-docs --disable-ldap --disable-ldaps \
  --disable-ftp --disable-file --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
  --disable-smtp --disable-gopher --disable-mqtt --disable-rtsp --disable-smb
make -j"$(nproc)" -C lib libcurl.la
make -j"$(nproc)" -C src curl
mkdir -p "$dir/bin"
cp src/curl "$dir/bin/curl.new" && mv "$dir/bin/curl.new" "$dir/bin/curl"
"$dir/bin/curl" --version | tee "$dir/version"
"$dir/bin/curl" --version | grep -q 'GSS-API' || { echo "gss-curl: built without GSS-API"; exit 1; }
cd "$dir" && rm -rf "$work"
