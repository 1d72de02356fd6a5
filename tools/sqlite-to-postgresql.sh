#!/usr/bin/env bash
# Moves a stopped corridord's SQLite state into PostgreSQL (docs/scale-out.md):
# corridord --init-store makes the schema and records the configured legs and
# carriers, then tools/sqlite_to_postgresql.py copies everything in one
# transaction. Start the daemons with store = postgresql afterwards.
# usage: tools/sqlite-to-postgresql.sh [-c corridord.conf] [--corridord PATH]
#            STATE_DIR CONNINFO
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
conf=()
corridord=""
while [ $# -gt 2 ]; do
  case $1 in
    -c|--config) conf=(--config "$2"); shift 2 ;;
    --corridord) corridord=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -ne 2 ]; then
  echo "usage: tools/sqlite-to-postgresql.sh [-c corridord.conf] [--corridord PATH] STATE_DIR CONNINFO" >&2
  exit 2
fi
state=$1
conninfo=$2
if [ -z "$corridord" ]; then
  for c in "$here/../build/daemon/corridord" "$(command -v corridord || true)" /usr/sbin/corridord; do
    if [ -n "$c" ] && [ -x "$c" ]; then corridord=$c; break; fi
  done
fi
[ -n "$corridord" ] || { echo "sqlite-to-postgresql: no corridord (--corridord PATH)" >&2; exit 1; }
psql=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)
# a state directory of its own: --init-store must not touch the SQLite one
scratch=$(mktemp -d /tmp/corridor-migrate-state.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
echo "== the schema, legs and carriers (corridord --init-store)" >&2
"$corridord" ${conf[@]+"${conf[@]}"} --state-dir "$scratch" --store postgresql \
  --pg-conninfo "$conninfo" --log-level warn --init-store >&2
echo "== copying $state" >&2
exec python3 "$here/sqlite_to_postgresql.py" --psql "$psql" "$state" "$conninfo"
