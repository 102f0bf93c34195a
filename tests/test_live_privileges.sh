#!/bin/sh
# geotap live -Z USER: every output (-o and --events) is opened before the
# privileges are dropped, so both may sit in a directory only root can
# write; the process then runs as USER (oracle: the kernel's view of it,
# Uid in /proc/PID/status, against getent passwd). Runs on the loopback of
# a private network namespace. Root only; skips (77) otherwise.
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null || skip "no iproute2"
USER_=nobody
uid=$(getent passwd "$USER_" | cut -d: -f3)
[ -n "$uid" ] || skip "no user $USER_"
DB="$GEOTAP_SHARED/mmdb/GeoLite2-Country-Test.mmdb"

NS="gtpv$$"
TMP=$(mktemp -d)
cleanup() {
    [ -n "${LIVE_PID:-}" ] && kill "$LIVE_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace"
ip netns exec "$NS" ip link set lo up

OUT="$TMP/rootonly"
mkdir -m 0700 "$OUT"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

ip netns exec "$NS" "$GEOTAP_BIN" live -i lo -Z "$USER_" --country-db "$DB" --bin 1 \
    --format csv -o "$OUT/bins.csv" --events "$OUT/events.jsonl" --duration 3 \
    2>"$TMP/err" &
LIVE_PID=$!
# the uid the kernel reports once the drop happened (within the 3 s run)
seen=""
i=0
while [ $i -lt 25 ]; do
    sleep 0.1
    # the child of 'ip netns exec' is geotap itself (exec), so LIVE_PID is it
    seen=$(awk '/^Uid:/ {print $2}' "/proc/$LIVE_PID/status" 2>/dev/null)
    [ "$seen" = "$uid" ] && break
    i=$((i + 1))
done
wait "$LIVE_PID"
rc=$?
LIVE_PID=""
[ "$rc" = 0 ] || fail "geotap live -Z $USER_ exited $rc: $(cat "$TMP/err")"
[ "$seen" = "$uid" ] || fail "Uid in /proc/PID/status is '$seen', want $uid ($USER_)"
[ -f "$OUT/bins.csv" ] || fail "-o file not created in a root-only directory"
[ -f "$OUT/events.jsonl" ] || fail "--events file not created in a root-only directory"
head -1 "$OUT/bins.csv" 2>/dev/null | grep -q '^time,country,' || fail "-o file has no csv header"

[ "$fails" = 0 ] && echo "live -Z: outputs opened before the drop, ran as uid $uid"
exit "$fails"
