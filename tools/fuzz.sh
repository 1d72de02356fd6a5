#!/usr/bin/env bash
# Runs the libFuzzer targets (docs/fuzzing.md): installs clang's fuzzer
# runtime if it is missing, builds fuzz/ with clang and
# -fsanitize=fuzzer,address,undefined in build-fuzz/, runs each target for
# SECONDS (default 600) with libFuzzer's progress lines, merges what it found
# into the checked-in corpus fuzz/corpus/<target>/ (minimised: the seed-* and
# regress-* files stay, other files only while they add coverage; above
# FUZZ_CORPUS_MAX files, default 300, only while they add new edges) and
# prints the executions per target. A crash stops that target, leaves the input in
# build-fuzz/artifacts/ and makes the script exit 1.
# usage: tools/fuzz.sh [SECONDS] [TARGET...]   (targets: frame validate query config)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame validate query config)
case $seconds in
  '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

tools/deps.sh || exit 1

# clang and its libFuzzer runtime (libclang_rt.fuzzer, Debian: libclang-rt-14-dev)
fuzzer_works() {
  command -v clang >/dev/null 2>&1 &&
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n * 0; }' |
    clang -fsanitize=fuzzer,address,undefined -x c - -o /dev/null >/dev/null 2>&1
}
if ! fuzzer_works; then
  echo "corridor: installing clang's fuzzer runtime" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >&2 || exit 1
  fuzzer_works || { echo "clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

corpus_max=${FUZZ_CORPUS_MAX:-300}
build=build-fuzz
if [ ! -f $build/build.ninja ]; then
  CC=clang meson setup $build -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    >/dev/null || exit 1
fi
ninja -C $build $(printf 'fuzz/fuzz_%s ' "${targets[@]}") >/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
summary=()
status=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  work=$build/fuzz-work/$t
  artifacts=$build/artifacts/$t
  log=$build/fuzz-work/$t.log
  rm -rf "$work" && mkdir -p "$work/new" "$work/tmp" "$artifacts"
  # the targets' scratch files (fuzz_query's state directory), also those a
  # crash leaves behind, stay in $work
  export TMPDIR=$root/$work/tmp
  dict=()
  [ -f fuzz/dict/$t.dict ] && dict=(-dict=fuzz/dict/$t.dict)
  before=$(ls "$corpus" | wc -l)
  echo "== fuzz_$t for ${seconds}s (corpus $corpus: $before files)" >&2
  # New inputs go to $work/new; the checked-in corpus is only read. The
  # targets' own log lines (e.g. a refused BACKUP) are left out of the
  # progress shown; libFuzzer's lines and any crash report come through.
  "$build/fuzz/fuzz_$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work/new" "$corpus" 2>&1 | tee "$log" | grep --line-buffered -v -e ' warn: ' -e '# Uses: '
  rc=${PIPESTATUS[0]}
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -n 1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="CRASH (exit $rc), see $artifacts/ and $log"
    status=1
  fi
  # Minimise: keep the named inputs, add others only for new coverage
  # (libFuzzer's features: edges and how often they ran); if that keeps
  # more than corpus_max files, only for new edges.
  mkdir -p "$work/old" && cp "$corpus"/* "$work/old/"
  merged=""
  for counters in 1 0; do
    out=$work/merged-$counters
    mkdir -p "$out"
    cp "$corpus"/seed-* "$corpus"/regress-* "$out/" 2>/dev/null
    "$build/fuzz/fuzz_$t" -merge=1 -use_counters=$counters -timeout=10 -rss_limit_mb=2048 \
      "$out" "$work/old" "$work/new" >"$work/merge-$counters.log" 2>&1 || break
    merged=$out
    [ "$(ls "$out" | wc -l)" -le "$corpus_max" ] && break
  done
  if [ -n "$merged" ]; then
    rm -f "$corpus"/*
    cp "$merged"/* "$corpus/"
  else
    echo "merge of fuzz_$t failed, corpus left as it was (see $work/merge-1.log)" >&2
    status=1
  fi
  after=$(ls "$corpus" | wc -l)
  summary+=("$(printf '%-9s %6ss %12s execs %8s exec/s  %-9s corpus %4s -> %4s  %s' \
    "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$before" "$after" "$result")")
done

echo "== summary (tools/fuzz.sh $seconds; $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
printf '%s\n' "${summary[@]}"
exit $status
