#!/bin/sh
# run_fuzz.sh FUZZER CORPUS SECONDS [JOBS]: replay CORPUS and every file in
# $GEOTAP_SHARED/repro once, then fuzz for SECONDS starting from CORPUS (new
# inputs go to a scratch directory, not the repository). Findings are kept
# in $GEOTAP_BUILD/fuzz-artifacts/. Prints the executions; exit 0 = none.
# FUZZ_KEEP=DIR keeps the new inputs there (scripts/fuzz: runs build on
# each other) instead of a scratch directory.
set -u
fz=$1 corpus=$2 secs=$3
name=$(basename "$fz")
art=${GEOTAP_BUILD:-.}/fuzz-artifacts
mkdir -p "$art"
work=$(mktemp -d "${TMPDIR:-/tmp}/geotap-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# -runs=0 over directories: every input once, then stop.
if ! "$fz" -runs=0 -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$art/$name-" \
     "$corpus" "$GEOTAP_SHARED/repro" >"$work/replay.log" 2>&1; then
  tail -40 "$work/replay.log"
  echo "$name: replay of $corpus and the reproducers FAILED"
  exit 1
fi
echo "$name: replayed $(ls "$corpus" | wc -l) corpus files and $(ls "$GEOTAP_SHARED/repro" | wc -l) reproducers"
new=${FUZZ_KEEP:-$work/new}
mkdir -p "$new"
"$fz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$art/$name-" "$new" "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
if [ "$rc" -ne 0 ]; then
  tail -60 "$work/fuzz.log"
  echo "$name: FINDING after ${execs:-?} executions (artifact in $art)"
  exit 1
fi
echo "$name: ${secs} s, ${execs:-?} executions, $(ls "$new" | wc -l) inputs in $( [ -n "${FUZZ_KEEP:-}" ] && echo "$new" || echo "the scratch corpus"), 0 findings"
