#!/bin/sh
# Every file under tests/data against the sha256 list in tests/data/README.md
# (the sums of the files as published): catches a truncated checkout, a CRLF rewrite or
# a test that wrote into the data. Also fails on a file the list lacks.
set -eu
export LC_ALL=C
D=${GEOTAP_SHARED:?}
cd "$D"
list=$(mktemp)
trap 'rm -f "$list" "$list.names"' EXIT
sed -n '/^```sha256$/,/^```$/p' README.md | grep -E '^[0-9a-f]{64}  ' >"$list" || true
n=$(wc -l <"$list")
[ "$n" -gt 0 ] || { echo "FAIL: $D/README.md: no sha256 list"; exit 1; }
sha256sum -c --quiet "$list" || { echo "FAIL: $D: files differ from README.md's sha256 list"; exit 1; }
cut -c67- "$list" | sort >"$list.names"
extra=$(find . -type f ! -path ./README.md | sed 's|^\./||' | sort | comm -23 - "$list.names")
[ -z "$extra" ] || { echo "FAIL: $D: not in README.md's sha256 list: $extra"; exit 1; }
echo "ok: $n files match README.md's sha256 list"
