#!/usr/bin/env bash
# bench-smoke: a tiny run of bench/run_bench (20k packets) so the harness
# cannot rot. Asserts only that it ran and printed its table, and that the
# per-country counts of pmacctd and tshark on the same trace and database
# equal geotap's (the EQUAL lines: a real check against two independent tools).
# Also: gen_trace is deterministic per seed, and tshark finds every IPv4
# header checksum and every TCP/UDP/ICMP(v6) checksum of its frames good.
set -u
src=${GEOTAP_SRC:?} build=${GEOTAP_BUILD:?} bin=${GEOTAP_BIN:?}

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
command -v pmacctd >/dev/null || skip "pmacctd not installed"
command -v tshark >/dev/null || skip "tshark not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/run_bench.out
fail=0

gen="$build/bench/gen_trace --packets 2000 --flows 500"
$gen --seed 7 --out "$tmp/a.pcap" 2>/dev/null && $gen --seed 7 --out "$tmp/b.pcap" 2>/dev/null &&
  $gen --seed 8 --out "$tmp/c.pcap" 2>/dev/null || { echo "FAIL: gen_trace failed"; exit 1; }
cmp -s "$tmp/a.pcap" "$tmp/b.pcap" || { echo "FAIL: gen_trace --seed 7 twice gave different files"; fail=1; }
cmp -s "$tmp/a.pcap" "$tmp/c.pcap" && { echo "FAIL: gen_trace --seed 7 and --seed 8 gave the same file"; fail=1; }
good=$(tshark -r "$tmp/a.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
  -Y '(ipv6 || ip.checksum.status == "Good") && (tcp.checksum.status == "Good" || udp.checksum.status == "Good"
       || icmp.checksum.status == "Good" || icmpv6.checksum.status == "Good")' 2>/dev/null | wc -l)
[ "$good" = 2000 ] || { echo "FAIL: tshark finds good checksums in $good of 2000 gen_trace frames"; fail=1; }
"$src/bench/run_bench" --build "$build" --quick >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" = 0 ] || { echo "FAIL: run_bench exited $rc"; fail=1; }
grep -q '^geotap bench: 20000 packets' "$out" || { echo "FAIL: no table header"; fail=1; }
grep -q '^  geotap analyze ' "$out" || { echo "FAIL: no geotap analyze row"; fail=1; }
grep -Eq '^  pmacctd vs geotap --bytes l3 +EQUAL ' "$out" || { echo "FAIL: pmacctd counts not EQUAL"; fail=1; }
grep -Eq '^  tshark vs geotap \(frame bytes\) +EQUAL ' "$out" || { echo "FAIL: tshark counts not EQUAL"; fail=1; }
if grep -Eq 'DIFFER|FAILED' "$out"; then echo "FAIL: a check differs or failed"; fail=1; fi
exit $fail
