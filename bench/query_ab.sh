#!/usr/bin/env bash
# Query latency of two builds of corridord over one kept state, side by side:
# each round starts build A's daemon on the state, runs bench_query's latency
# mode, stops it, then does the same with build B (the order alternates from
# round to round), so both see the same data and, near enough, the same
# machine. Prints each query's median p50 and p99 over the rounds for A and B
# and the ratio B/A. The state comes from bench/stats.sh --keep-state DIR (and
# the data set from its --data DIR); the daemons only read it. --state-b
# gives B a copy of its own, for a B that rewrites the state when it opens it
# (a new derivation: start B on the copy once first, which also measures that).
# usage: bench/query_ab.sh --a BUILD_DIR --b BUILD_DIR --state DIR --data DIR
#          [--state-b DIR (--state)]
#          [--rounds R (3)] [--iterations I (10)] [--max-seconds S (20)]
#          [--only NAME,... (every query of bench/queries.tsv)]
set -euo pipefail
cd "$(dirname "$0")/.."

a="" b="" state="" state_b="" data="" rounds=3 iterations=10 max_seconds=20 only=""
while [ $# -gt 0 ]; do
  case $1 in
    --a) a=$2; shift 2 ;;
    --b) b=$2; shift 2 ;;
    --state) state=$2; shift 2 ;;
    --state-b) state_b=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: bench/query_ab.sh --a BUILD --b BUILD --state DIR --data DIR [--rounds R] [--iterations I] [--max-seconds S] [--only NAMES]" >&2; exit 2 ;;
  esac
done
for v in a b state data; do
  [ -n "${!v}" ] || { echo "bench/query_ab.sh: --$v is needed" >&2; exit 2; }
done
for d in "$a" "$b"; do
  [ -x "$d/daemon/corridord" ] && [ -x "$d/bench/bench_query" ] && [ -x "$d/client/corridorctl" ] ||
    { echo "bench/query_ab.sh: $d has no daemon/corridord, bench/bench_query, client/corridorctl" >&2; exit 2; }
done
state_b=${state_b:-$state}
for s in "$state" "$state_b"; do
  [ -f "$s/corridor.db" ] || { echo "bench/query_ab.sh: $s is no corridord state" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/corridor-query-ab.XXXXXX")
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One read token for both sides, which bench_query takes from the environment
# (bench/bench_conn.c); a daemon without operators answers only PING and HELP.
tok=$("$a/client/corridorctl" hash-credential --generate --iterations 10000) ||
  { echo "bench/query_ab.sh: cannot make a token" >&2; exit 1; }
CORRIDOR_TOKEN=bench:$(sed -n 1p <<<"$tok")
export CORRIDOR_TOKEN
printf '[daemon]\nlog_level = warn\n[operators]\nbench = %s read\n' "$(sed -n 2p <<<"$tok")" \
  >"$work/corridord.conf"

# One side's latency run: build dir, label, round.
run_side() {
  local bin=$1 label=$2 round=$3 qport cport state=$state
  [ "$label" = A ] || state=$state_b
  qport=$(free_port) cport=$(free_port)
  "$bin/daemon/corridord" --config "$work/corridord.conf" --state-dir "$state" \
    --carrier-listen "127.0.0.1:$cport" --query-listen "127.0.0.1:$qport" --metrics-listen "" \
    2>"$work/daemon-$label-$round.log" &
  daemon=$!
  for _ in $(seq 1 300); do
    "$bin/client/corridorctl" --port "$qport" ping >/dev/null 2>&1 && break
    kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon-$label-$round.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "== round $round: $label ($bin)" >&2
  "$bin/bench/bench_query" --port "$qport" --data "$data" --queries bench/queries.tsv \
    --iterations "$iterations" --max-seconds "$max_seconds" ${only:+--only "$only"} |
    sed "s/^/$label $round /" >>"$work/lines"
  kill -TERM "$daemon"
  wait "$daemon" || { echo "bench/query_ab.sh: corridord ($label) exited with an error" >&2; exit 1; }
  daemon=""
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 1)); then run_side "$a" A "$r"; run_side "$b" B "$r"
  else run_side "$b" B "$r"; run_side "$a" A "$r"; fi
done

# "A 1 query: name=X ... p50_ms=.. p99_ms=.." lines -> medians per side
echo
echo "== query latency, median over $rounds rounds: A=$a B=$b"
awk '
  function med(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  $3 == "query:" {
    side = $1; name = ""; p50 = ""; p99 = ""
    for (i = 4; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "name") name = kv[2]
      if (kv[1] == "p50_ms") p50 = kv[2]
      if (kv[1] == "p99_ms") p99 = kv[2]
    }
    if (name == "") next
    if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    p50s[side, name] = p50s[side, name] " " p50
    p99s[side, name] = p99s[side, name] " " p99
  }
  END {
    printf "%-20s %10s %10s %8s %10s %10s %8s\n", "query", "A p50_ms", "B p50_ms", "B/A", "A p99_ms", "B p99_ms", "B/A"
    for (k = 1; k <= n; k++) {
      q = order[k]
      a50 = med(p50s["A", q]); b50 = med(p50s["B", q]); a99 = med(p99s["A", q]); b99 = med(p99s["B", q])
      printf "%-20s %10.3f %10.3f %8.2f %10.3f %10.3f %8.2f\n", q, a50, b50, (a50 > 0 ? b50 / a50 : 0), a99, b99, (a99 > 0 ? b99 / a99 : 0)
    }
  }' "$work/lines"
