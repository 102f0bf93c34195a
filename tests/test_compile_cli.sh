#!/bin/sh
# geotap compile and the compiled-classifier cache from the command line:
# compile writes an entry, then finds it up to date; lookup through the
# cache answers as mmdblookup and as a fresh compile (GEOTAP_CACHE_DIR=off)
# do; an unwritable cache costs one warning line, not the answer.
set -u
B=${GEOTAP_BIN:?}
D=${GEOTAP_SHARED:?}/mmdb
C=$D/GeoLite2-Country-Test.mmdb
A=$D/GeoLite2-ASN-Test.mmdb
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
opts="--country-db $C --asn-db $A"
addrs="81.2.69.142 89.160.20.112 2001:218::1 2a02:cf40::1 1.128.0.0 12.81.92.0 1.2.3.4"

GEOTAP_CACHE_DIR=$T/c $B compile $opts --by country,asn -o "$T/copy.gtc" >"$T/c1" 2>"$T/e1" || fail "compile: exit $?: $(cat "$T/e1")"
entry=$(cut -f1 "$T/c1")
[ "$(cut -f2 "$T/c1")" = written ] || fail "first compile: $(cat "$T/c1")"
[ -f "$entry" ] || fail "no entry file '$entry'"
cmp -s "$entry" "$T/copy.gtc" || fail "-o copy differs from the entry"
GEOTAP_CACHE_DIR=$T/c $B compile $opts --by country,asn >"$T/c2" 2>&1
[ "$(cut -f2 "$T/c2")" = "up to date" ] || fail "second compile: $(cat "$T/c2")"

GEOTAP_CACHE_DIR=$T/c $B lookup $opts $addrs >"$T/cached" 2>"$T/e2" || fail "lookup through the cache: exit $?"
[ -s "$T/e2" ] && fail "lookup through the cache wrote to stderr: $(cat "$T/e2")"
GEOTAP_CACHE_DIR=off $B lookup $opts $addrs >"$T/fresh" 2>&1 || fail "lookup, cache off: exit $?"
cmp -s "$T/cached" "$T/fresh" || fail "cached and fresh lookups differ: $(diff "$T/cached" "$T/fresh")"
for a in $addrs; do
    want=$(mmdblookup -f "$C" -i "$a" country iso_code 2>/dev/null | sed -n 's/^ *"\([A-Z]*\)" <.*/\1/p')
    [ -n "$want" ] || want=ZZ
    got=$(awk -F'\t' -v a="$a" '$1 == a { print $2 }' "$T/cached")
    [ "$got" = "$want" ] || fail "$a: cached lookup '$got', mmdblookup '$want'"
done

GEOTAP_CACHE_DIR=/dev/null/geotap $B lookup $opts $addrs >"$T/ro" 2>"$T/e3"
rc=$?
[ $rc -eq 0 ] || fail "unwritable cache: exit $rc"
cmp -s "$T/ro" "$T/fresh" || fail "unwritable cache: other answers"
[ "$(wc -l <"$T/e3")" -eq 1 ] && grep -q "warning: .*cannot write.*compiled in memory" "$T/e3" ||
    fail "unwritable cache: want one warning line, got: $(cat "$T/e3")"

GEOTAP_CACHE_DIR=$T/c $B compile --by nonsense $opts >/dev/null 2>"$T/e4"
[ $? -eq 2 ] && grep -q "nonsense" "$T/e4" || fail "bad --by: $(cat "$T/e4")"

[ $fails -eq 0 ] && echo "OK: compile and cached lookups" || exit 1
