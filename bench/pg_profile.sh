#!/usr/bin/env bash
# Where the PostgreSQL server spends an ingest run's time: bench/run.sh
# --store postgresql --daemons 1 on a PostgreSQL of its own with
# pg_stat_statements loaded, then the statements by total execution time
# (calls, total ms, ms a call, rows). Divide a statement's total by the rows
# it wrote for its cost a row on the server; the ceiling's COPY lines are
# beside corridord's own statements, from the same run.
# usage: bench/pg_profile.sh [bench/run.sh's options, e.g. --updates 100000]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CORRIDOR_PG_CONNINFO:-}" ]; then
  tools/deps.sh
  exec tests/pg/with_postgres.sh "$0" "$@"
fi
psql=("$CORRIDOR_PG_BIN/psql" -X -q)
admin="$CORRIDOR_PG_CONNINFO user=postgres dbname=postgres"
${CORRIDOR_PG_RUN:-} "${psql[@]}" \
  -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" "$admin"
${CORRIDOR_PG_RUN:-} "$CORRIDOR_PG_BIN/pg_ctl" -D "$CORRIDOR_PG_DATA" -w restart \
  -l "$CORRIDOR_PG_DATA/profile.log" >/dev/null
"${psql[@]}" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" "$admin"
bench/run.sh --store postgresql --daemons 1 "$@"
echo "== the server's statements by total execution time"
"${psql[@]}" -c "SELECT calls, round(total_exec_time::numeric) AS total_ms,
    round((total_exec_time / calls)::numeric, 3) AS ms_a_call, rows,
    left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
  FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" "$admin"
