#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs the unit and
# integration tests, then runs them again built with AddressSanitizer and
# UndefinedBehaviorSanitizer. Prints "N passed, N failed" last.
# usage: tools/test.sh [--no-sanitize | --tsan]
#   --no-sanitize  the normal build only
#   --tsan         the normal build, then ThreadSanitizer (build-tsan) instead
#                  of ASan/UBSan: for changes to the threads (writers, query
#                  and auth workers, checkpoints)
set -uo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh || exit 1

sanitize=1
tsan=0
case "${1:-}" in
--no-sanitize) sanitize=0 ;;
--tsan) sanitize=0; tsan=1 ;;
"") ;;
*) echo "usage: tools/test.sh [--no-sanitize | --tsan]" >&2; exit 2 ;;
esac

passed=0
MESON_TEST_ARGS=
failed=0
run_suite() {
  local dir=$1
  shift
  echo "== build $dir" >&2
  if ! tools/build.sh "$dir" "$@"; then
    echo "build of $dir failed" >&2
    failed=$((failed + 1))
    return
  fi
  echo "== test $dir" >&2
  local log
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs --num-processes 2 $MESON_TEST_ARGS 2>&1 | tee "$log"
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -n 1)
  fail=$(awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $2} END {print s + 0}' "$log")
  passed=$((passed + ${ok:-0}))
  failed=$((failed + ${fail:-0}))
  rm -f "$log"
}

run_suite build
# the sanitizer passes leave out the suite "slow" (whole-cluster and
# whole-corridor-day PostgreSQL tests, each over 40 s in the normal build),
# which the normal pass above has run: the suite stays under 20 minutes
MESON_TEST_ARGS="--no-suite slow"
if [ $sanitize -eq 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
if [ $tsan -eq 1 ]; then
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  # instrumented threads run several times slower: the per-test timeouts
  # in tests/meson.build are sized for the normal and ASan builds
  MESON_TEST_ARGS="--timeout-multiplier 3 --no-suite slow"
  run_suite build-tsan -Db_sanitize=thread -Dbuildtype=debug
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
