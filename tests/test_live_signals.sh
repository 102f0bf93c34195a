#!/bin/sh
# geotap live shutdown and signals on a veth pair into a private network
# namespace (tcpreplay of a shared pcap, 2 fanout workers):
#  - drain: the replay is sent and SIGTERM follows at once, while frames
#    still sit in a TPACKET_V3 block the kernel has not handed over; every
#    frame must be counted (oracle: capinfos), none reported dropped;
#  - SIGHUP (reload) and SIGUSR1 during the run do not end it;
#  - a closed output pipe ends the run cleanly: exit 1, the summary printed.
# Root only; skips (77) without root, netns, veth or tcpreplay (under CI=true
# all but "not root" fail instead: tests/veth_netns.sh).
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}"

. "${GEOTAP_SRC:?}/tests/veth_netns.sh"
veth_require
DB="$GEOTAP_SHARED/mmdb/GeoLite2-Country-Test.mmdb"
veth_netns gts

fail=0
ip netns exec "$NS" "$GEOTAP_BIN" live -i "$B" --workers 2 --country-db "$DB" --bin 1 --format csv \
    --duration 60 -o "$TMP/live.csv" 2>"$TMP/live.err" &
LIVE_PID=$!
wait_listening "$TMP/live.err"
kill -HUP "$LIVE_PID"
kill -USR1 "$LIVE_PID"
sleep 0.3
kill -0 "$LIVE_PID" 2>/dev/null || { echo "FAIL: SIGHUP or SIGUSR1 ended geotap live"; fail=1; }
tcpreplay -q -i "$A" --pps 3000 "$PCAP" >"$TMP/replay.out" 2>&1 || {
    echo "FAIL: tcpreplay"; cat "$TMP/replay.out"; exit 1; }
kill -TERM "$LIVE_PID"    # at once: the last block is still open in the ring
wait "$LIVE_PID"
rc=$?
LIVE_PID=
cat "$TMP/live.err"
[ $rc = 0 ] || { echo "FAIL: geotap live (SIGTERM) exited $rc"; fail=1; }
got=$(sed -n 's/^geotap: \([0-9]*\) frames.*/\1/p' "$TMP/live.err")
[ "$got" = "$N" ] || { echo "FAIL: SIGTERM right after the replay: counted '$got' frames, capinfos says $N"; fail=1; }
grep -q '^geotap live: drops: 0 by the kernel, 0 by the interface$' "$TMP/live.err" || {
    echo "FAIL: drops reported"; fail=1; }

# A closed output pipe: the run ends by itself, with its summary.
( ip netns exec "$NS" "$GEOTAP_BIN" live -i "$B" --country-db "$DB" --bin 1 --format csv \
    --duration 30 2>"$TMP/pipe.err"; echo "$?" >"$TMP/pipe.rc" ) | head -c 1 >/dev/null &
PIPE_PID=$!
LIVE_PID=
i=0
until grep -q 'listening on' "$TMP/pipe.err" 2>/dev/null || [ $i -gt 300 ]; do i=$((i + 1)); sleep 0.1; done
# Traffic for longer than the run needs: bins keep closing, rows keep coming.
tcpreplay -q -i "$A" --pps 2000 --loop 8 "$PCAP" >"$TMP/replay.out" 2>&1 &
REPLAY_PID=$!
t0=$(date +%s)
wait "$PIPE_PID"
t1=$(date +%s)
kill "$REPLAY_PID" 2>/dev/null
wait "$REPLAY_PID" 2>/dev/null
cat "$TMP/pipe.err"
[ "$(cat "$TMP/pipe.rc")" = 1 ] || { echo "FAIL: closed pipe: exit $(cat "$TMP/pipe.rc"), want 1"; fail=1; }
grep -q '^geotap: [0-9]* frames' "$TMP/pipe.err" || { echo "FAIL: closed pipe: no summary"; fail=1; }
[ $((t1 - t0)) -lt 5 ] || { echo "FAIL: closed pipe: the run went on for $((t1 - t0)) s"; fail=1; }

[ $fail = 0 ] && echo "OK: SIGTERM at once counted all $N frames; SIGHUP/SIGUSR1 survived; closed pipe ended cleanly"
exit $fail
