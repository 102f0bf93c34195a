#!/bin/sh
# geotap lookup on MaxMind's test databases, checked against mmdblookup
# (the libmaxminddb command-line tool); exit statuses and error lines.
set -u
B=${GEOTAP_BIN:?}
D=${GEOTAP_SHARED:?}/mmdb
C=$D/GeoLite2-Country-Test.mmdb
A=$D/GeoLite2-ASN-Test.mmdb
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# mmdblookup's value of a path, "" when the address is not in the database
mmdb() { mmdblookup -f "$1" -i "$2" $3 2>/dev/null | sed -n 's/^ *"\{0,1\}\([^" ]*\)"\{0,1\} <.*/\1/p' | head -n 1; }

addrs="81.2.69.142 89.160.20.112 2001:218::1 2a02:cf40::1 ::ffff:81.2.69.142 2002:5102:458e:: 1.128.0.0 1.159.255.255 12.81.92.0 2600:6000::1 1.2.3.4"
$B lookup --country-db "$C" --asn-db "$A" $addrs bogus 999.1.1.1 >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "invalid addresses: exit $rc, want 1"
grep -q "bogus" "$T/err" || fail "no error line for 'bogus'"
grep -q "999.1.1.1" "$T/err" || fail "no error line for '999.1.1.1'"
[ "$(head -n 1 "$T/out")" = "$(printf 'address\tcountry\tasn\tas_org')" ] || fail "header: $(head -n 1 "$T/out")"
[ "$(wc -l <"$T/out")" -eq 12 ] || fail "want 11 result lines: $(cat "$T/out")"
for a in $addrs; do
    line=$(awk -F'\t' -v a="$a" '$1 == a' "$T/out")
    cc=$(printf '%s' "$line" | cut -f2)
    asn=$(printf '%s' "$line" | cut -f3)
    org=$(printf '%s' "$line" | cut -f4)
    want_cc=$(mmdb "$C" "$a" "country iso_code"); [ -n "$want_cc" ] || want_cc=ZZ
    want_asn=$(mmdb "$A" "$a" "autonomous_system_number"); [ -n "$want_asn" ] || want_asn=0
    want_org=$(mmdblookup -f "$A" -i "$a" autonomous_system_organization 2>/dev/null | sed -n 's/^ *"\(.*\)" <utf8_string>/\1/p')
    [ "$cc" = "$want_cc" ] || fail "$a: country '$cc', mmdblookup '$want_cc'"
    [ "$asn" = "$want_asn" ] || fail "$a: asn '$asn', mmdblookup '$want_asn'"
    [ "$org" = "$want_org" ] || fail "$a: as_org '$org', mmdblookup '$want_org'"
done
grep -q "^81.2.69.142	GB	" "$T/out" || fail "81.2.69.142 is not GB"

# standard input, blank lines and surrounding blanks ignored
printf '81.2.69.142\n\n  2001:218::1  \n' | $B lookup --country-db "$C" --asn-db "$A" >"$T/in" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || fail "stdin: exit $rc"
[ "$(wc -l <"$T/in")" -eq 3 ] || fail "stdin: $(cat "$T/in")"
grep -q "^2001:218::1	JP	" "$T/in" || fail "stdin: 2001:218::1 not JP"

# --home-net
$B lookup --country-db "$C" --asn-db "$A" --home-net 81.2.69.0/24 81.2.69.142 >"$T/h" 2>&1 || fail "home-net: exit $?"
grep -q "^81.2.69.142	home	0	" "$T/h" || fail "home-net: $(cat "$T/h")"
$B lookup --country-db "$C" --asn-db "$A" --home-net 81.2.69.0/99 1.2.3.4 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "bad --home-net: exit $rc, want 2"

# missing and corrupt databases: exit 2, one line naming the file
$B lookup --country-db "$T/nope.mmdb" --asn-db "$A" 1.2.3.4 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "missing db: exit $rc, want 2"
grep -q "$T/nope.mmdb" "$T/err" || fail "missing db not named: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "missing db: not one line: $(cat "$T/err")"
head -c 5000 "$C" >"$T/cut.mmdb"
$B lookup --country-db "$T/cut.mmdb" --asn-db "$A" 1.2.3.4 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "truncated db: exit $rc, want 2"
grep -q "$T/cut.mmdb" "$T/err" || fail "truncated db not named: $(cat "$T/err")"
printf '1.0.0.0,1.0.0.255,13335,x\n1.0.1.0,zzz,5,y\n' >"$T/bad.csv"
$B lookup --country-db "$C" --asn-db "$T/bad.csv" 1.2.3.4 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "bad csv: exit $rc, want 2"
grep -q "$T/bad.csv:2:" "$T/err" || fail "bad csv line not named: $(cat "$T/err")"

# help
$B lookup --help >"$T/help" 2>&1 || fail "--help: exit $?"
grep -q "^Usage: geotap lookup" "$T/help" || fail "--help text"
$B lookup --no-such-option >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"

[ $fails -eq 0 ] && echo "lookup CLI: all checks passed"
exit $((fails > 0))
