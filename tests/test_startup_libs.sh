#!/bin/sh
# Start-up loads only what the command needs: libcurl and libmicrohttpd (and
# their TLS stacks) come in through analysis/output/netlib.c on first use,
# not at exec. Oracle: the dynamic loader's own trace (LD_DEBUG=files).
set -u
B=${GEOTAP_BIN:?}
D=${GEOTAP_SHARED:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# loaded NAME TRACE: the loader mapped a library whose name starts with NAME
loaded() { grep -q "file=$1[^ ]*\.so" "$2"; }

LD_DEBUG=files $B --version >/dev/null 2>"$T/version" || fail "--version: exit $?"
LD_DEBUG=files $B lookup --country-db "$D/mmdb/GeoLite2-Country-Test.mmdb" 81.2.69.142 >/dev/null 2>"$T/lookup" ||
    fail "lookup: exit $?"
LD_DEBUG=files $B analyze --country-db "$D/mmdb/GeoLite2-Country-Test.mmdb" --format csv \
    "$D/pcap/443-chrome.pcap" >/dev/null 2>"$T/analyze" || fail "analyze: exit $?"
for t in version lookup analyze; do
    grep -q "file=" "$T/$t" || fail "$t: no loader trace (LD_DEBUG ignored?)"
    for lib in libcurl libmicrohttpd libgnutls libssl; do
        loaded $lib "$T/$t" && fail "$t loads $lib at start-up"
    done
done

# A command that does use HTTP loads libcurl when it needs it, and a store
# that is down is one line naming it, exit non-zero.
LD_DEBUG=files $B watch --prometheus http://127.0.0.1:1 --from 2026-01-01T00:00:00Z \
    --to 2026-01-01T01:00:00Z >/dev/null 2>"$T/watch"
rc=$?
[ $rc -ne 0 ] || fail "watch against a closed port: exit 0"
loaded libcurl "$T/watch" || fail "watch did not load libcurl"
grep -v "^ *[0-9]*:" "$T/watch" | grep -q "^geotap watch: http://127.0.0.1:1: " ||
    fail "watch error line: $(grep -v '^ *[0-9]*:' "$T/watch")"

[ $fails -eq 0 ] && echo "startup-libs: all checks passed"
exit $((fails > 0))
