#!/usr/bin/env bash
# Ingest benchmark: the single-file SQLite ceiling against corridord end to
# end, measured in the same run on this machine. One summary line per scenario.
# usage: bench/run.sh [--updates N (2000000)] [--carriers K (16)] [--batch B (500)]
#                     [--synchronous full|normal] [--limit NAME=VALUE]...
set -euo pipefail
cd "$(dirname "$0")/.."

updates=2000000
carriers=16
batch=500
sync=full
limits=()
while [ $# -gt 0 ]; do
  case $1 in
    --updates) updates=$2; shift 2 ;;
    --carriers) carriers=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --synchronous) sync=$2; shift 2 ;;
    --limit) limits+=(--limit "$2"); shift 2 ;;
    *) echo "usage: bench/run.sh [--updates N] [--carriers K] [--batch B] [--synchronous MODE] [--limit NAME=VALUE]..." >&2; exit 2 ;;
  esac
done

tools/deps.sh
echo "== building build-release (optimised)" >&2
tools/build.sh build-release -Dbuildtype=release -Db_ndebug=true
bin=build-release
work=$(mktemp -d /tmp/corridor-bench.XXXXXX)
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== ceiling: $updates rows into one SQLite file, one thread" >&2
ceiling_line=$("$bin/bench/bench_ceiling" "$work/ceiling.db" "$updates" "$carriers")
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
ingest=$(free_port)
query=$(free_port)
"$bin/daemon/corridord" --config "$work/corridord.conf" --state-dir "$work/state" \
  --carrier-listen "127.0.0.1:$ingest" --query-listen "127.0.0.1:$query" ${limits[@]+"${limits[@]}"} \
  2>"$work/corridord.log" &
daemon=$!
for _ in $(seq 1 100); do
  "$bin/client/corridorctl" --port "$query" ping >/dev/null 2>&1 && break
  sleep 0.1
done

cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$daemon/stat"
}
echo "== corridord end to end: $carriers carriers, $updates updates, synchronous=$sync" >&2
cpu0=$(cpu_seconds)
ingest_line=$("$bin/bench/bench_ingest" --port "$ingest" --carriers "$carriers" \
  --updates "$updates" --batch "$batch")
cpu1=$(cpu_seconds)
rate=$(sed -n 's/.*updates_per_s=\([0-9]*\).*/\1/p' <<<"$ingest_line")
rss=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")
echo "$ingest_line daemon_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}') peak_rss_mib=$((rss / 1024))"

half=$((rate / 2))
half_updates=$((updates / 4))
echo "== ack latency at half the maximum rate ($half updates/s)" >&2
half_line=$("$bin/bench/bench_ingest" --port "$ingest" --carriers "$carriers" \
  --updates "$half_updates" --batch 50 --rate "$half")
echo "half-rate $half_line"

kill -TERM "$daemon"
wait "$daemon"
daemon=""
awk -v e="$rate" -v c="$ceiling" 'BEGIN {printf "ratio: end_to_end / ceiling = %.2f\n", e / c}'
