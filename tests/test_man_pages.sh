#!/bin/sh
# The man pages geotap(1) and geotap.conf(5): groff renders them without a
# warning (man --warnings), lexgrog finds their NAME line, meson install
# installs them, and the option table is the oracle of completeness: every
# long option of every command's usage appears in geotap.1, every key of
# the example configurations in geotap.conf.5.
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SRC:?}" "${GEOTAP_BUILD:?}"
command -v man >/dev/null || { echo "SKIP: no man"; exit 77; }
command -v lexgrog >/dev/null || { echo "SKIP: no lexgrog"; exit 77; }
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for page in geotap.1 geotap.conf.5; do
    f="$GEOTAP_SRC/dist/$page"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >"$T/out" 2>"$T/warn"
    if [ -s "$T/warn" ] || [ ! -s "$T/out" ]; then
        echo "FAIL: $page: groff warnings or no output:"; cat "$T/warn"; fail=1
    fi
    lexgrog "$f" >/dev/null || { echo "FAIL: $page: lexgrog finds no NAME section"; fail=1; }
    # Text as written, without troff's escapes: \- is '-', fonts dropped.
    sed 's/\\-/-/g; s/\\f[BIRP]//g' "$f" >"$T/$page.txt"
done
meson introspect --installed "$GEOTAP_BUILD" >"$T/installed.json" 2>/dev/null
for want in man1/geotap.1 man5/geotap.conf.5; do
    grep -q "$want\"" "$T/installed.json" || { echo "FAIL: meson install does not install $want"; fail=1; }
done
n=0
for cmd in analyze live lookup compile merge watch; do
    for opt in $("$GEOTAP_BIN" $cmd --help | sed -n 's/^  \(-., \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p'); do
        n=$((n + 1))
        grep -q -- "--$opt\b" "$T/geotap.1.txt" || { echo "FAIL: geotap.1 lacks --$opt ($cmd)"; fail=1; }
    done
done
k=0
for cmd in analyze live watch; do
    for key in $("$GEOTAP_BIN" $cmd --print-config-example | sed -n 's/^#\([a-z][a-z0-9-]*\): .*/\1/p'); do
        k=$((k + 1))
        grep -q "^\.BI $key: " "$T/geotap.conf.5.txt" || { echo "FAIL: geotap.conf.5 lacks key '$key:' ($cmd)"; fail=1; }
    done
done
[ $n -gt 40 ] && [ $k -gt 30 ] || { echo "FAIL: only $n options and $k keys found in the usage"; fail=1; }
[ $fail = 0 ] && echo "OK: both pages render without warnings; $n options in geotap.1, $k keys in geotap.conf.5"
exit $fail
