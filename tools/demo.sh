#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts corridord on its
# embedded SQLite default in a temporary state directory, lets simulated
# Kazakh and Azerbaijani carriers push a corridor day over TCP, prints what an
# operator would ask, stops the daemon and exits 0.
# usage: tools/demo.sh [--days N] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
echo "== building" >&2
tools/build.sh build

days=1
seed=7
while [ $# -gt 0 ]; do
  case $1 in
    --days) days=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: tools/demo.sh [--days N] [--seed S]" >&2; exit 2 ;;
  esac
done

state=$(mktemp -d /tmp/corridor-demo.XXXXXX)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ingest=$(free_port)
query=$(free_port)
ctl() { build/client/corridorctl --port "$query" "$@"; }

build/daemon/corridord --state-dir "$state" --carrier-listen "127.0.0.1:$ingest" \
  --query-listen "127.0.0.1:$query" --log-level warn 2>"$state/corridord.log" &
daemon=$!
cleanup() {
  if kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
  rm -rf "$state"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  ctl ping >/dev/null 2>&1 && break
  sleep 0.1
done
ctl ping >/dev/null

echo
echo "== corridord is up (state in $state); carriers push a simulated corridor day"
build/client/corridorctl --port "$ingest" simulate --days "$days" --seed "$seed"

echo
echo "== the corridor's legs"
ctl legs
echo
echo "== transit (movement legs) and dwell (ports, borders) times, hours, both directions"
ctl stats '*'
echo
echo "== westbound only"
ctl stats '*' --direction W
echo
echo "== transit times of the Kazakh rail leg Altynkol -> Aktau, drawn (corridorctl histogram)"
ctl histogram KZ-RAIL-ALT-AKT
echo
echo "== end-to-end journeys against the published schedules (Altynkol -> Baku 9 days, -> Poti 12 days)"
ctl journeys ALK BAK --direction W
ctl journeys ALK POT --direction W
echo
echo "== on time: against each leg's typical time, against the plans (PLN) and the estimates' error (EST)"
ctl ontime
echo
echo "== volumes across the Caspian per ISO week, holds at the borders and ports, delay reasons"
ctl volumes CASP-AKT-ALT week
ctl holds
ctl delays
echo
echo "== data quality per carrier (lag = record time - event time; the simulated day is pushed at once)"
ctl quality
echo
echo "== units in transit now"
ctl intransit
echo
echo "== backlog waiting at the port of Aktau"
ctl intransit KZ-PORT-AKT >"$state/aktau.txt"
head -n 12 "$state/aktau.txt"
echo "($(($(wc -l <"$state/aktau.txt") - 1)) units in all)"
# a westbound container that has come furthest: Georgia, else Azerbaijan
unit=""
for leg in GE-RAIL-GAR-POT AZGE-BRD-BKS AZ-RAIL-ALT-BKS AZ-PORT-ALT; do
  # awk reads to the end: an early exit would kill corridorctl with SIGPIPE
  unit=$(ctl --csv intransit "$leg" | awk -F, '$2 == "W" && u == "" {u = $1} END {print u}')
  [ -n "$unit" ] && break
done
if [ -n "$unit" ]; then
  echo
  echo "== the journey of container $unit"
  ctl shipment "$unit"
fi

echo
echo "== stopping corridord (SIGTERM: commit, acknowledge, exit 0)"
kill -TERM "$daemon"
wait "$daemon"
echo "corridord exited with status $?"
