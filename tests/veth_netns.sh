# Sourced by the live-capture tests (live_netns, live_signals, config-reload):
# their checks before anything starts (veth_require), a veth pair A (here) <->
# B (inside a private network namespace NS), both up with no ARP and no IPv6,
# so that nothing but the test's replay crosses the link; a temporary folder
# TMP; a cleanup at exit that kills LIVE_PID (if set) and removes all of it;
# and wait_line/wait_listening for geotap live's messages.
# Usage: veth_require [TOOL...]; veth_netns PREFIX (names PREFIX-based, $$-unique).

# skip WHY: meson's skip (77); under CI=true a missing tool is a failure
# instead, but not being root still skips.
skip() {
    case "$*" in
    "not root") ;;
    *) if [ "${CI:-}" = true ]; then echo "FAIL (CI=true): $*"; exit 1; fi ;;
    esac
    echo "SKIP: $*"; exit 77
}

# veth_require [TOOL...]: root, iproute2, tcpreplay, capinfos and each TOOL;
# sets PCAP (the shared capture every live test replays) and N, its frames
# as capinfos counts them (the oracle for "every frame captured").
veth_require() {
    [ "$(id -u)" = 0 ] || skip "not root"
    for tool in ip tcpreplay capinfos "$@"; do
        command -v "$tool" >/dev/null || skip "no $tool"
    done
    PCAP="${GEOTAP_SHARED:?}/pcap/teams.pcap"
    [ -r "$PCAP" ] || skip "no $PCAP"
    N=$(capinfos -M -c -T "$PCAP" | awk -F'\t' 'NR == 2 { print $2 }')
    [ "$N" -gt 0 ] 2>/dev/null || { echo "FAIL: capinfos could not count $PCAP"; exit 1; }
}

veth_netns() {
    NS="${1}n$$"
    A="${1}a$$"
    B="${1}b$$"
    TMP=$(mktemp -d)
    trap veth_cleanup EXIT INT TERM
    ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
    ip link add "$A" type veth peer name "$B" 2>/dev/null || skip "cannot create a veth pair"
    ip link set "$B" netns "$NS" || exit 1
    # No IPv6 (router solicitations, MLD) and no ARP: nothing but the replay on the link.
    sysctl -qw "net.ipv6.conf.$A.disable_ipv6=1" 2>/dev/null
    ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$B.disable_ipv6=1" 2>/dev/null
    ip link set "$A" arp off up || exit 1
    ip netns exec "$NS" ip link set "$B" arp off up || exit 1
    ip netns exec "$NS" ip link set lo up
}

# wait_line PATTERN FILE: until a line of FILE (geotap live's standard
# error) matches PATTERN; fails the test when LIVE_PID ends or 90 s pass.
wait_line() {
    i=0
    until grep -q "$1" "$2" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 900 ] || ! kill -0 "$LIVE_PID" 2>/dev/null; then
            echo "FAIL: no line '$1' from geotap live"; cat "$2"; exit 1
        fi
        sleep 0.1
    done
}

# Replay only once the capture is open (it says so on its standard error).
wait_listening() { wait_line 'listening on' "$1"; }

veth_cleanup() {
    [ -n "${LIVE_PID:-}" ] && kill "$LIVE_PID" 2>/dev/null
    ip link del "$A" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
