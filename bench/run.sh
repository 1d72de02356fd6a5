#!/usr/bin/env bash
# Ingest benchmark: the single-file SQLite ceiling against corridord end to
# end, measured in the same run on this machine. One summary line per scenario.
# With --store postgresql: a PostgreSQL 15 of the run's own (tests/pg/
# with_postgres.sh, set to fsync and synchronous_commit on, as a server that
# keeps its acks would be), plain COPY of the same rows into the same schema
# as its ceiling (bench_pg_ceiling), then one corridord and (--daemons 2)
# two corridord on one database, each with half the carriers.
# usage: bench/run.sh [--updates N (2000000)] [--carriers K (16)] [--batch B (500)]
#                     [--synchronous full|normal] [--limit NAME=VALUE]...
#                     [--store sqlite|postgresql] [--daemons 1|2 (postgresql: 2)]
set -euo pipefail
cd "$(dirname "$0")/.."

updates=2000000
carriers=16
batch=500
sync=full
limits=()
store=sqlite
daemons=""
args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --store) store=$2; shift 2 ;;
    --daemons) daemons=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --carriers) carriers=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --synchronous) sync=$2; shift 2 ;;
    --limit) limits+=(--limit "$2"); shift 2 ;;
    *) echo "usage: bench/run.sh [--updates N] [--carriers K] [--batch B] [--synchronous MODE] [--limit NAME=VALUE]... [--store sqlite|postgresql] [--daemons 1|2]" >&2; exit 2 ;;
  esac
done
case $store in
  sqlite) daemons=${daemons:-1} ;;
  postgresql) daemons=${daemons:-2} ;;
  *) echo "bench/run.sh: --store sqlite or postgresql" >&2; exit 2 ;;
esac
if [ "$daemons" != 1 ] && [ "$daemons" != 2 ]; then
  echo "bench/run.sh: --daemons 1 or 2" >&2; exit 2
fi
if [ "$store" = sqlite ] && [ "$daemons" != 1 ]; then
  echo "bench/run.sh: two daemons need --store postgresql (SQLite is one daemon's)" >&2; exit 2
fi

tools/deps.sh
if [ "$store" = postgresql ] && [ -z "${CORRIDOR_PG_CONNINFO:-}" ]; then
  echo "== a PostgreSQL 15 of this run's own" >&2
  exec tests/pg/with_postgres.sh "$0" "${args[@]}"
fi
echo "== building build-release (optimised)" >&2
tools/build.sh build-release -Dbuildtype=release -Db_ndebug=true
bin=build-release
work=$(mktemp -d /tmp/corridor-bench.XXXXXX)
pids=()         # the daemons running now (start_daemons)
cleanup() {
  local p
  for p in ${pids[@]+"${pids[@]}"}; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$store" = postgresql ]; then
  # with_postgres.sh makes a test server (no fsync); a benchmark's keeps its commits
  "$CORRIDOR_PG_BIN/psql" -X -q -c "ALTER SYSTEM SET fsync = on" \
    -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET full_page_writes = on" \
    -c "SELECT pg_reload_conf()" \
    "$CORRIDOR_PG_CONNINFO user=postgres" >/dev/null
  pgdb() {
    "$CORRIDOR_PG_BIN/psql" -X -q -c "CREATE DATABASE $1" "$CORRIDOR_PG_CONNINFO" >/dev/null
    echo "$CORRIDOR_PG_CONNINFO dbname=$1"
  }
  echo "== ceiling: $updates rows by COPY into corridor's PostgreSQL schema, one connection" >&2
  ci=$(pgdb ceiling)
  "$bin/daemon/corridord" --state-dir "$work/init" --store postgresql --pg-conninfo "$ci" \
    --log-level warn --init-store >/dev/null
  ceiling_line=$("$bin/bench/bench_pg_ceiling" "$ci" "$updates" "$carriers")
else
  echo "== ceiling: $updates rows into one SQLite file, one thread" >&2
  ceiling_line=$("$bin/bench/bench_ceiling" "$work/ceiling.db" "$updates" "$carriers")
fi
echo "$ceiling_line"
ceiling=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$ceiling_line")

# one secret for every bench carrier (a credential names at most 8 codes);
# bench_ingest takes it from CORRIDOR_CREDENTIAL
key=$("$bin/client/corridorctl" hash-credential --generate --iterations 10000)
CORRIDOR_CREDENTIAL=$(sed -n 1p <<<"$key")
export CORRIDOR_CREDENTIAL
{
  echo "[daemon]"
  echo "synchronous = $sync"
  echo "log_level = warn"
  echo "[carriers]"
  for ((k = 0; k < carriers; k++)); do printf 'B%04d = bench carrier %d\n' "$k" "$k"; done
  echo "[credentials]"
  for ((k = 0; k < carriers; k += 8)); do
    printf 'bench-%d = %s' "$k" "$(sed -n 2p <<<"$key")"
    for ((j = k; j < k + 8 && j < carriers; j++)); do printf ' B%04d' "$j"; done
    echo
  done
  # every bench carrier connects from 127.0.0.1
  echo "[limits]"
  echo "max_connections_per_ip = $((carriers + 16))"
  echo "auth_checks_per_ip = $((carriers < 1024 ? carriers : 1024))"
  echo "auth_checks_max = $((carriers > 256 ? carriers : 256))"
} >"$work/corridord.conf"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ingests=()
# start_daemons N [store flags...]: N corridord on their own ports
start_daemons() {
  local n=$1 i
  shift
  pids=()
  ingests=()
  for ((i = 0; i < n; i++)); do
    local ingest query
    ingest=$(free_port)
    query=$(free_port)
    "$bin/daemon/corridord" --config "$work/corridord.conf" --state-dir "$work/state$i" \
      --carrier-listen "127.0.0.1:$ingest" --query-listen "127.0.0.1:$query" "$@" \
      ${limits[@]+"${limits[@]}"} 2>"$work/corridord$i.log" &
    pids+=($!)
    ingests+=("$ingest")
    for _ in $(seq 1 300); do
      "$bin/client/corridorctl" --port "$query" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
}
stop_daemons() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p"; done
  for p in "${pids[@]}"; do wait "$p"; done
  pids=()
}
cpu_seconds() {
  local p sum=0
  for p in "${pids[@]}"; do
    sum=$(awk -v s="$sum" -v hz="$(getconf CLK_TCK)" '{print s + ($14 + $15) / hz}' "/proc/$p/stat")
  done
  echo "$sum"
}
peak_rss_mib() {
  local p max=0 r
  for p in "${pids[@]}"; do
    r=$(awk '/VmHWM/ {print $2}' "/proc/$p/status")
    [ "$r" -gt "$max" ] && max=$r
  done
  echo $((max / 1024))
}

store_args=()
[ "$store" = postgresql ] && store_args=(--store postgresql --pg-conninfo "$(pgdb one)")
start_daemons 1 ${store_args[@]+"${store_args[@]}"}
echo "== corridord end to end: $carriers carriers, $updates updates, synchronous=$sync, store=$store" >&2
cpu0=$(cpu_seconds)
ingest_line=$("$bin/bench/bench_ingest" --port "${ingests[0]}" --carriers "$carriers" \
  --updates "$updates" --batch "$batch")
cpu1=$(cpu_seconds)
rate=$(sed -n 's/.*updates_per_s=\([0-9]*\).*/\1/p' <<<"$ingest_line")
echo "$ingest_line daemon_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}') peak_rss_mib=$(peak_rss_mib)"

half=$((rate / 2))
half_updates=$((updates / 4))
echo "== ack latency at half the maximum rate ($half updates/s)" >&2
half_line=$("$bin/bench/bench_ingest" --port "${ingests[0]}" --carriers "$carriers" \
  --updates "$half_updates" --batch 50 --rate "$half")
echo "half-rate $half_line"
stop_daemons

if [ "$daemons" = 2 ]; then
  start_daemons 2 --store postgresql --pg-conninfo "$(pgdb two)"
  echo "== two corridord on one database: $((carriers / 2)) carriers each, $updates updates in all" >&2
  cpu0=$(cpu_seconds)
  t0=$(date +%s.%N)
  "$bin/bench/bench_ingest" --port "${ingests[0]}" --carriers "$((carriers / 2))" \
    --updates "$((updates / 2))" --batch "$batch" >"$work/two0.txt" &
  b0=$!
  "$bin/bench/bench_ingest" --port "${ingests[1]}" --carriers "$((carriers - carriers / 2))" \
    --first-carrier "$((carriers / 2))" --updates "$((updates - updates / 2))" \
    --batch "$batch" >"$work/two1.txt" &
  b1=$!
  wait "$b0"
  wait "$b1"
  t1=$(date +%s.%N)
  cpu1=$(cpu_seconds)
  sed 's/^/daemon0 /' "$work/two0.txt"
  sed 's/^/daemon1 /' "$work/two1.txt"
  acked=$(cat "$work/two0.txt" "$work/two1.txt" | sed -n 's/.* acked=\([0-9]*\).*/\1/p' |
    awk '{s += $1} END {print s}')
  two=$(awk -v n="$acked" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
  echo "two-daemons: acked=$acked updates_per_s=$two daemons_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}') peak_rss_mib=$(peak_rss_mib)"
  stop_daemons
fi

awk -v e="$rate" -v c="$ceiling" 'BEGIN {printf "ratio: end_to_end / ceiling = %.2f\n", e / c}'
if [ "$daemons" = 2 ]; then
  awk -v t="$two" -v e="$rate" -v c="$ceiling" \
    'BEGIN {printf "ratio: two_daemons / one_daemon = %.2f, two_daemons / ceiling = %.2f\n", t / e, t / c}'
fi
