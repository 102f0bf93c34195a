# Sourced by the live-capture tests: a veth pair A (here) <-> B (inside a
# private network namespace NS), both up with no ARP and no IPv6, so that
# nothing but the test's replay crosses the link; a temporary folder TMP;
# a cleanup at exit that kills LIVE_PID (if set) and removes all of it; and
# wait_line/wait_listening for geotap live's messages.
# Usage: veth_netns PREFIX (names PREFIX-based and $$-unique). Needs skip().
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
