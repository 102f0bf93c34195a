#!/bin/sh
# libcurl and libmicrohttpd missing at run time (netlib.c loads them on
# first use): a command that needs one fails with one line naming the
# library, exit 2, no crash or hang; one that needs neither runs and its
# output is what it is with the libraries present. The libraries are
# hidden by bind-mounting /dev/null over their files in a private mount
# namespace (the loader then finds them "too short"). Oracle: the exit
# codes and lines, and cmp against the unhidden run. Root only (77).
set -u
B=${GEOTAP_BIN:?}
D=${GEOTAP_SHARED:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespace)"; exit 77; }
command -v unshare >/dev/null && unshare -m true 2>/dev/null || { echo "SKIP: no unshare -m"; exit 77; }
command -v ldconfig >/dev/null || { echo "SKIP: no ldconfig"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
db=$D/mmdb/GeoLite2-Country-Test.mmdb
pcap=$D/pcap/443-chrome.pcap

# The real files behind every name netlib.c tries, as the loader's cache has them.
libs=$(ldconfig -p | awk '/(libcurl|libcurl-gnutls|libmicrohttpd)\.so/ {print $NF}' | xargs -r readlink -f | sort -u)
[ -n "$libs" ] || { echo "SKIP: ldconfig lists no libcurl or libmicrohttpd"; exit 77; }
for f in $libs; do echo "mount --bind /dev/null $f"; done > "$T/hide"

# run NAME CMD...: CMD in a namespace with the libraries hidden; its exit
# code into $T/NAME.rc, stderr into $T/NAME.err
run() {
    n=$1
    shift
    unshare -m sh -c '. "$1"; shift; exec timeout 20 "$@"' sh "$T/hide" "$@" >"$T/$n.out" 2>"$T/$n.err"
    echo $? >"$T/$n.rc"
}
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect NAME LIB: exit 2 and exactly one line on stderr naming LIB
expect() {
    rc=$(cat "$T/$1.rc")
    [ "$rc" = 2 ] || fail "$1: exit $rc, want 2 (stderr: $(head -c 300 "$T/$1.err"))"
    [ "$(wc -l <"$T/$1.err")" -le 1 ] || fail "$1: more than one line on stderr: $(head -c 300 "$T/$1.err")"
    grep -q "cannot load $2" "$T/$1.err" || fail "$1: stderr does not name $2: $(cat "$T/$1.err")"
}

# The namespace really hides them (else the rest proves nothing).
unshare -m sh -c '. "$1"; for f in $2; do [ -s "$f" ] && exit 1; done; exit 0' sh "$T/hide" "$libs" ||
    fail "a library is still readable in the namespace"

run watch "$B" watch --prometheus http://127.0.0.1:1 --from 2026-01-01T00:00:00Z --to 2026-01-01T01:00:00Z \
    --bin 60 -o /dev/null
expect watch libcurl
run listen "$B" live -i lo --country-db "$db" --listen 127.0.0.1:1 --format csv -o /dev/null
expect listen libmicrohttpd
run alerts "$B" live -i lo --country-db "$db" --alertmanager http://127.0.0.1:1 --format csv -o /dev/null
expect alerts libcurl

# Commands that need neither library are unaffected.
run version "$B" --version
[ "$(cat "$T/version.rc")" = 0 ] || fail "--version: exit $(cat "$T/version.rc")"
run analyze "$B" analyze --country-db "$db" --bin 0 --format csv -o "$T/hidden.csv" "$pcap"
[ "$(cat "$T/analyze.rc")" = 0 ] || fail "analyze: exit $(cat "$T/analyze.rc"): $(cat "$T/analyze.err")"
"$B" analyze --country-db "$db" --bin 0 --format csv -o "$T/plain.csv" "$pcap" 2>/dev/null ||
    fail "analyze with the libraries: exit $?"
[ -s "$T/plain.csv" ] || fail "analyze with the libraries wrote nothing"
cmp -s "$T/hidden.csv" "$T/plain.csv" || fail "analyze output differs with the libraries hidden"

[ "$fails" = 0 ] && echo "ok: watch, live --listen and --alertmanager fail with one line; --version and analyze unaffected"
[ "$fails" = 0 ]
