#!/usr/bin/env bash
# Installs the Debian 12 packages corridor needs to build, test and run its
# demo, if any are missing. Used by tools/demo.sh and tools/test.sh.
set -euo pipefail

# libevent-dev ships libevent_openssl (TLS bufferevents) with libssl-dev's
# OpenSSL 3; the openssl command makes the tests' CA and certificates.
# groff-base renders the manual pages: the test conf_man checks that
# corridord.conf(5) formats without a warning.
# The PostgreSQL store (issue 13): libpq to build it, the PostgreSQL 15 server
# binaries (/usr/lib/postgresql/15/bin: initdb, pg_ctl) its tests start in a
# temporary directory, and pg_auto_failover 2.0 (the server extension and
# pg_autoctl) for the failover tests. Installing postgresql-15 also creates
# Debian's default cluster; the tests never use it (tests/pg/with_postgres.sh).
packages=(
  gcc pkg-config meson ninja-build python3
  libevent-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev
  libinih-dev libjson-c-dev libssl-dev libcmocka-dev
  protobuf-compiler python3-protobuf sqlite3 openssl groff-base
  libpq-dev postgresql-15 postgresql-15-auto-failover pg-auto-failover-cli
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "corridor: installing missing packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
