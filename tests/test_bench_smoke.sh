#!/usr/bin/env bash
# bench-smoke: a tiny run of bench/run_bench (20k packets) so the harness
# cannot rot. Asserts only that it ran and printed its table, and that the
# per-country counts of pmacctd and tshark on the same trace and database
# equal geotap's (the EQUAL lines: a real check against two independent tools).
set -u
src=${GEOTAP_SRC:?} build=${GEOTAP_BUILD:?} bin=${GEOTAP_BIN:?}

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$build/bench/gen_trace" ] || skip "gen_trace not built (needs the classification sources)"
# The skeleton CLI answers every command with this usage line: no analyze yet.
if "$bin" analyze /nonexistent.pcap 2>&1 | grep -q '^usage: geotap analyze|lookup|live \.\.\.$'; then
  skip "geotap analyze not implemented yet"
fi
command -v pmacctd >/dev/null || skip "pmacctd not installed"
command -v tshark >/dev/null || skip "tshark not installed"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$src/bench/run_bench" --build "$build" --quick >"$out" 2>&1
rc=$?
cat "$out"
fail=0
[ "$rc" = 0 ] || { echo "FAIL: run_bench exited $rc"; fail=1; }
grep -q '^geotap bench: 20000 packets' "$out" || { echo "FAIL: no table header"; fail=1; }
grep -q '^  geotap analyze ' "$out" || { echo "FAIL: no geotap analyze row"; fail=1; }
grep -Eq '^  pmacctd vs geotap --bytes l3 +EQUAL ' "$out" || { echo "FAIL: pmacctd counts not EQUAL"; fail=1; }
grep -Eq '^  tshark vs geotap \(frame bytes\) +EQUAL ' "$out" || { echo "FAIL: tshark counts not EQUAL"; fail=1; }
if grep -Eq 'DIFFER|FAILED' "$out"; then echo "FAIL: a check differs or failed"; fail=1; fi
exit $fail
