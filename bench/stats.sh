#!/usr/bin/env bash
# The statistics benchmark of issue 4: a corridor's worth of updates (10
# million over 30 days by default) loaded into a fresh corridord, the ingest
# rate alone and with operators querying in a loop at the same time, then
# the latency of every query of bench/queries.tsv over the full state. Ends
# with a summary table; the phases' own lines come first.
# usage: bench/stats.sh [--updates N (10000000)] [--days D (30)] [--seed S (1)]
#          [--end YYYY-MM-DD (today)] [--data DIR (keep the data set; reused)]
#          [--mixed-updates M (1000000)] [--mixed-rounds R (2)]
#          [--query-connections C (2)] [--query-pause-ms MS (0)]
#          [--mixed-queries NAME,... (the per-leg 30-day STATS)]
#          [--iterations I (20)] [--max-seconds S (30)]
#          [--synchronous full|normal] [--limit NAME=VALUE]...
#          [--keep-state DIR (a new directory: the daemon's state stays there)]
#          [--store postgresql]
# --store postgresql: the whole data set is loaded into the SQLite daemon (no
# mixed rounds), its latency measured, the state moved into a PostgreSQL 15
# of the run's own (tools/sqlite-to-postgresql.sh, timed) and every query's
# latency measured again on a daemon with store = postgresql: side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

updates=10000000
days=30
seed=1
end=""
data=""
mixed=1000000
rounds=2
qconns=2
qpause=0
mixed_queries=stats_leg_30d,stats_leg_30d_w,stats_leg_30d_e
iterations=20
max_seconds=30
sync=full
limits=()
keep_state=""
store=sqlite
args=("$@")
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --updates) updates=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --end) end=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --mixed-updates) mixed=$2; shift 2 ;;
    --mixed-rounds) rounds=$2; shift 2 ;;
    --query-connections) qconns=$2; shift 2 ;;
    --query-pause-ms) qpause=$2; shift 2 ;;
    --mixed-queries) mixed_queries=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --synchronous) sync=$2; shift 2 ;;
    --limit) limits+=(--limit "$2"); shift 2 ;;
    --keep-state) keep_state=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    *) usage ;;
  esac
done

[ -z "$keep_state" ] || keep_state=$(realpath -m "$keep_state")
if [ -n "$keep_state" ] && [ -e "$keep_state" ]; then
  echo "bench/stats.sh: --keep-state $keep_state exists already" >&2
  exit 2
fi
case $store in
  sqlite) ;;
  postgresql)
    rounds=0
    if [ -z "${CORRIDOR_PG_CONNINFO:-}" ]; then
      tools/deps.sh
      exec tests/pg/with_postgres.sh "$0" "${args[@]}"
    fi
    ;;
  *) usage ;;
esac
started=$(date +%s)
tools/deps.sh
echo "== building build-release (optimised)" >&2
tools/build.sh build-release -Dbuildtype=release -Db_ndebug=true
bin=build-release
work=$(mktemp -d /tmp/corridor-stats.XXXXXX)
daemon=""
qloop=""
cleanup() {
  if [ -n "$qloop" ] && kill -0 "$qloop" 2>/dev/null; then kill -TERM "$qloop"; wait "$qloop" || true; fi
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data=${data:-$work/data}
state=${keep_state:-$work/state}
kv() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# -- the data set
echo "== generating $updates updates over $days days (seed $seed) into $data" >&2
gen_line=$("$bin/bench/bench_gen" --out "$data" --updates "$updates" --days "$days" \
  --seed "$seed" ${end:+--end "$end"} --reuse)
echo "$gen_line"
total=$(kv updates "$gen_line")

# -- a fresh daemon; with authentication (a corridorctl that makes credential
# hashes), one credential for the data set's carriers and one read token,
# which the tools take from the environment (bench/bench_conn.c)
carriers=$(sed -n 's/^carriers=//p' "$data/manifest")
auth=""
if key=$("$bin/client/corridorctl" hash-credential --generate --iterations 10000 2>/dev/null) &&
  tok=$("$bin/client/corridorctl" hash-credential --generate --iterations 10000 2>/dev/null); then
  CORRIDOR_CREDENTIAL=$(sed -n 1p <<<"$key")
  CORRIDOR_TOKEN=bench:$(sed -n 1p <<<"$tok")
  export CORRIDOR_CREDENTIAL CORRIDOR_TOKEN
  auth=$(printf '[credentials]\nbench = %s %s\n[operators]\nbench = %s read\n' \
    "$(sed -n 2p <<<"$key")" "$carriers" "$(sed -n 2p <<<"$tok")")
fi
{
  echo "[daemon]"
  echo "synchronous = $sync"
  echo "log_level = warn"
  [ -z "$auth" ] || echo "$auth"
} >"$work/corridord.conf"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cport=$(free_port)
qport=$(free_port)
"$bin/daemon/corridord" --config "$work/corridord.conf" --state-dir "$state" \
  --carrier-listen "127.0.0.1:$cport" --query-listen "127.0.0.1:$qport" --metrics-listen "" \
  ${limits[@]+"${limits[@]}"} 2>"$work/corridord.log" &
daemon=$!
for _ in $(seq 1 100); do
  "$bin/client/corridorctl" --port "$qport" ping >/dev/null 2>&1 && break
  sleep 0.1
done
fail() {
  echo "bench/stats.sh: $*" >&2
  tail -n 20 "$work/corridord.log" >&2
  exit 1
}
kill -0 "$daemon" 2>/dev/null || fail "corridord did not start"

load() { # label from to
  "$bin/bench/bench_load" --data "$data" --port "$cport" --slice "$2:$3" --label "$1" ||
    fail "bench_load $1 failed"
}
# slices as fractions of every carrier's stream: the load, then per round one
# slice pushed alone and one with the query loop (ABBA order over rounds, so a
# drift in the machine's speed or the state's size weighs on both alike)
frac=$(awk -v m="$mixed" -v n="$total" 'BEGIN {printf "%.6f", m / n}')
load_to=$(awk -v f="$frac" -v r="$rounds" 'BEGIN {x = 1 - 2 * r * f; if (x < 0.05) x = 0.05; printf "%.6f", x}')
[ "$(awk -v x="$load_to" -v f="$frac" -v r="$rounds" 'BEGIN {print (x + 2 * r * f <= 1.000001)}')" = 1 ] ||
  fail "--mixed-updates x 2 x --mixed-rounds is more than the data set"

echo "== load: the first $(awk -v x="$load_to" 'BEGIN {printf "%.0f%%", 100 * x}') of the data set" >&2
load_line=$(load load 0 "$load_to")
echo "$load_line"

alone_n=0 alone_s=0 mixed_n=0 mixed_s=0 q_n=0 q_s=0 qlines=()
at=$load_to
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 1)); then order="alone mixed"; else order="mixed alone"; fi
  for kind in $order; do
    to=$(awk -v a="$at" -v f="$frac" 'BEGIN {b = a + f; if (b > 0.999999) b = 1; printf "%.6f", b}')
    if [ "$kind" = alone ]; then
      echo "== round $r: ingest alone" >&2
      line=$(load alone "$at" "$to")
      alone_n=$((alone_n + $(kv acked "$line")))
      alone_s=$(awk -v a="$alone_s" -v b="$(kv seconds "$line")" 'BEGIN {print a + b}')
    else
      echo "== round $r: ingest while $qconns operator connection(s) query in a loop" >&2
      rm -f "$work/qready"
      "$bin/bench/bench_query" --port "$qport" --data "$data" --queries bench/queries.tsv \
        --only "$mixed_queries" --loop --connections "$qconns" --pause-ms "$qpause" \
        --ready-file "$work/qready" >"$work/qloop.out" &
      qloop=$!
      for _ in $(seq 1 600); do [ -e "$work/qready" ] && break; kill -0 "$qloop" 2>/dev/null || break; sleep 0.1; done
      [ -e "$work/qready" ] || fail "the query loop did not start"
      line=$(load mixed "$at" "$to")
      kill -TERM "$qloop"
      wait "$qloop" || fail "the query loop failed: $(cat "$work/qloop.out")"
      qloop=""
      qline=$(cat "$work/qloop.out")
      echo "$qline"
      qlines+=("$qline")
      mixed_n=$((mixed_n + $(kv acked "$line")))
      mixed_s=$(awk -v a="$mixed_s" -v b="$(kv seconds "$line")" 'BEGIN {print a + b}')
      q_n=$((q_n + $(kv queries "$qline")))
      q_s=$(awk -v a="$q_s" -v b="$(kv seconds "$qline")" 'BEGIN {print a + b}')
    fi
    echo "$line"
    at=$to
  done
done

echo "== query latency over $(kv updates "$gen_line") updates" >&2
"$bin/bench/bench_query" --port "$qport" --data "$data" --queries bench/queries.tsv \
  --iterations "$iterations" --max-seconds "$max_seconds" >"$work/latency.out" ||
  fail "bench_query failed: $(cat "$work/latency.out")"
cat "$work/latency.out"

rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$daemon/status")
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) / hz}' "/proc/$daemon/stat")
kill -TERM "$daemon"
wait "$daemon" || fail "corridord exited with an error"
daemon=""
disk=$(du -sm "$state" | cut -f1)
elapsed=$(($(date +%s) - started))

# -- the summary
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}'; }
alone_rate=$(rate "$alone_n" "$alone_s")
mixed_rate=$(rate "$mixed_n" "$mixed_s")
echo
echo "== summary: $(kv updates "$gen_line") updates, $days days from $(kv from "$gen_line"), seed $seed, synchronous=$sync, $(date -u +%Y-%m-%d), $(nproc) cores"
printf '%-34s %12s %9s %12s %18s\n' phase updates seconds updates/s "ack p50/p99 ms"
printf '%-34s %12s %9s %12s %18s\n' "generate (bench_gen)" "$(kv updates "$gen_line")" \
  "$(kv seconds "$gen_line")" - "$( [ -n "$(kv reused "$gen_line")" ] && echo reused || echo -)"
printf '%-34s %12s %9s %12s %18s\n' "load, 7 carriers at full speed" "$(kv acked "$load_line")" \
  "$(kv seconds "$load_line")" "$(kv updates_per_s "$load_line")" \
  "$(kv ack_p50_ms "$load_line")/$(kv ack_p99_ms "$load_line")"
printf '%-34s %12s %9s %12s\n' "ingest alone ($rounds rounds)" "$alone_n" "$alone_s" "$alone_rate"
printf '%-34s %12s %9s %12s\n' "ingest + $qconns query loop(s)" "$mixed_n" "$mixed_s" "$mixed_rate"
awk -v a="$alone_rate" -v m="$mixed_rate" -v qn="$q_n" -v qs="$q_s" -v p="$qpause" 'BEGIN {
  c = (a > 0 ? 100 * (1 - m / a) : 0)
  printf "ingest cost of the queries: %.1f%% (target <= 10%%: %s); queries answered meanwhile: %.0f/s (pause %d ms)\n",
    c, (c <= 10 ? "met" : "MISSED"), (qs > 0 ? qn / qs : 0), p }'
printf '\n%-18s %8s %9s %9s %9s %10s\n' query samples p50_ms p99_ms max_ms rows/answer
while read -r line; do
  printf '%-18s %8s %9s %9s %9s %10s\n' "$(kv name "$line")" "$(kv samples "$line")" \
    "$(kv p50_ms "$line")" "$(kv p99_ms "$line")" "$(kv max_ms "$line")" "$(kv rows_mean "$line")"
done < <(grep '^query:' "$work/latency.out")
worst=$(grep -E '^query: name=stats_leg_30d(_[we])? ' "$work/latency.out" |
  sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' | sort -g | tail -n 1)
awk -v w="${worst:-0}" 'BEGIN {printf "\nSTATS <leg> over 30 days, worst p99: %.2f ms (target <= 5 ms: %s)\n", w, (w <= 5 ? "met" : "MISSED")}'
echo "corridord: peak RSS ${rss} MiB, CPU ${cpu} s, state on disk ${disk} MiB; the whole run took $((elapsed / 60)) min $((elapsed % 60)) s"
if [ -n "$keep_state" ]; then
  echo "state kept: $bin/daemon/corridord --state-dir $keep_state --query-listen 127.0.0.1:PORT, then"
  echo "  $bin/bench/bench_query --port PORT --from $(kv from "$gen_line") --to $(kv to "$gen_line")"
fi

if [ "$store" = postgresql ]; then
  # a server that keeps its commits (with_postgres.sh's test settings do not)
  "$CORRIDOR_PG_BIN/psql" -X -q -c "ALTER SYSTEM SET fsync = on" \
    -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" \
    "$CORRIDOR_PG_CONNINFO user=postgres" >/dev/null
  echo "== moving the state into PostgreSQL (tools/sqlite-to-postgresql.sh)" >&2
  m0=$(date +%s)
  tools/sqlite-to-postgresql.sh -c "$work/corridord.conf" --corridord "$bin/daemon/corridord" \
    "$state" "$CORRIDOR_PG_CONNINFO" >"$work/migrate.out" || fail "the move failed"
  m1=$(date +%s)
  "$CORRIDOR_PG_BIN/psql" -X -q -c "VACUUM ANALYZE" "$CORRIDOR_PG_CONNINFO user=postgres" >/dev/null
  "$bin/daemon/corridord" --config "$work/corridord.conf" --state-dir "$work/pgstate" \
    --store postgresql --pg-conninfo "$CORRIDOR_PG_CONNINFO" \
    --carrier-listen "127.0.0.1:$cport" --query-listen "127.0.0.1:$qport" --metrics-listen "" \
    ${limits[@]+"${limits[@]}"} 2>"$work/corridord.log" &
  daemon=$!
  for _ in $(seq 1 300); do
    "$bin/client/corridorctl" --port "$qport" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  kill -0 "$daemon" 2>/dev/null || fail "corridord on PostgreSQL did not start"
  echo "== query latency on PostgreSQL" >&2
  "$bin/bench/bench_query" --port "$qport" --data "$data" --queries bench/queries.tsv \
    --iterations "$iterations" --max-seconds "$max_seconds" >"$work/latency_pg.out" ||
    fail "bench_query on PostgreSQL failed: $(cat "$work/latency_pg.out")"
  kill -TERM "$daemon"
  wait "$daemon" || fail "corridord on PostgreSQL exited with an error"
  daemon=""
  pgdisk=$("$CORRIDOR_PG_BIN/psql" -X -At -c "SELECT pg_database_size(current_database()) / 1048576" \
    "$CORRIDOR_PG_CONNINFO")
  echo
  echo "== the same state on PostgreSQL: $(cat "$work/migrate.out") in $((m1 - m0)) s; database ${pgdisk} MiB"
  printf '%-18s %10s %10s %10s %10s %9s\n' query sqlite_p50 pg_p50 sqlite_p99 pg_p99 p50_ratio
  while read -r line; do
    name=$(kv name "$line")
    other=$(grep "^query: name=$name " "$work/latency_pg.out" || true)
    [ -n "$other" ] || continue
    printf '%-18s %10s %10s %10s %10s %9s\n' "$name" "$(kv p50_ms "$line")" \
      "$(kv p50_ms "$other")" "$(kv p99_ms "$line")" "$(kv p99_ms "$other")" \
      "$(awk -v a="$(kv p50_ms "$line")" -v b="$(kv p50_ms "$other")" \
        'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}')"
  done < <(grep '^query:' "$work/latency.out")
fi
