#!/bin/sh
# geotap analyze --workers N (3; 2 and 4 once) gives byte-identical output, events, messages
# and exit status to one thread (whose counts other tests check against
# tshark): test captures on their own, all of them as one capture (the
# files' times jump back and forth: clock jumps, late frames), and a
# generated capture of 100,000 frames with late frames, gaps of bins, a
# clock jump and a cut last record, in csv, jsonl by country and ASN with
# events, the table, and by upstream with per-frame (mac, vlan) rules.
set -u
: "${GEOTAP_BIN:?}" "${GEOTAP_SHARED:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

same() {   # same NAME ARGS... : --workers 1 against $WS (default 3; with EV=1 also the --events files)
    name=$1; shift
    for w in 1 ${WS:-3}; do
        ev=; [ "${EV:-0}" = 1 ] && ev="--events $tmp/$w.ev"
        : > "$tmp/$w.ev"
        # shellcheck disable=SC2086
        "$GEOTAP_BIN" analyze -q "$@" $ev --workers $w -o "$tmp/$w.out" >/dev/null 2>"$tmp/$w.err"
        rc=$?
        [ $w = 1 ] && { rc1=$rc; continue; }
        if [ $rc != $rc1 ] || ! cmp -s "$tmp/1.out" "$tmp/$w.out" || ! cmp -s "$tmp/1.err" "$tmp/$w.err" ||
           ! cmp -s "$tmp/1.ev" "$tmp/$w.ev"; then
            echo "FAIL: $name: --workers $w differs from one thread (exit $rc vs $rc1)"
            diff "$tmp/1.out" "$tmp/$w.out" | head -5
            diff "$tmp/1.err" "$tmp/$w.err" | head -5
            fail=1
        fi
    done
}

# on its own: every repro capture and every eighth other one (all of them
# are read below as one capture; a process start each costs the suite time)
n=0 i=0
for f in "$GEOTAP_SHARED"/pcap/*.pcap* "$GEOTAP_SHARED"/repro/*.pcap*; do
    i=$((i + 1))
    case $f in */repro/*) ;; *) [ $((i % 8)) = 0 ] || continue ;; esac
    same "$(basename "$f")" --format csv --bin 10 "$f"
    n=$((n + 1))
done
[ $n -ge 20 ] || { echo "FAIL: only $n captures on their own"; fail=1; }

# every capture as one, three ways
set -- "$GEOTAP_SHARED"/pcap/*.pcap* "$GEOTAP_SHARED"/repro/*.pcap*
# (one bin: the times span a century, and every gap bin would be written)
same "all as one (csv, country and ASN)" --format csv --by country,asn --bin 0 "$@"
same "all as one (table)" --format table --bin 0 "$@"

python3 - "$tmp/gen.pcap" <<'PY'
import random, struct, sys
r = random.Random(13)
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
us = 1700000000 * 1000000
for i in range(100000):
    us += r.randrange(20, 400)
    if i % 30000 == 29999:
        us += 95 * 1000000                       # a gap of empty bins
    t = us - 1500000 if r.random() < 0.02 else us  # late frames
    if i == 50000:
        t = us + 86400 * 1000000 * 30            # one clock jump
    if r.random() < 0.9:
        s, d = r.getrandbits(32), r.getrandbits(32)
        if r.random() < 0.1:
            s = 0x0a000000 | (s & 0xffffff)
        fr = b"\0\0\0\0\0\1\0\0\0\0\0\2\x08\0" + struct.pack(">BBHHHBBH", 0x45, 0, 46, 0, 0, 64, 17, 0) + \
             struct.pack(">II", s, d) + bytes(26)
    else:
        fr = b"\0\0\0\0\0\1\0\0\0\0\0\2\x86\xdd" + bytes([0x60, 0, 0, 0, 0, 26, 17, 64]) + \
             bytes([0x20 | r.getrandbits(4)]) + r.randbytes(15) + r.randbytes(16) + bytes(26)
    out.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr) + 40) + fr)
out.write(struct.pack("<IIII", us // 1000000, 0, 60, 60) + bytes(10))   # cut short
PY
WS="2 4" same "generated (csv)" --format csv --bin 10 "$tmp/gen.pcap"
# 5 s bins: the three capture gaps are events as with 1 s bins, at a fifth of
# the rows (every key seen so far has a row in every bin: 2.8M rows at 1 s)
EV=1 same "generated (jsonl, country and ASN, events)" --format jsonl --by country,asn --bin 5 "$tmp/gen.pcap"
# the cut record is reported, and every whole frame counted
grep -q "corrupt or truncated" "$tmp/1.err" || { echo "FAIL: the cut record was not reported"; fail=1; }
# per-frame upstream rules (source MAC, VLAN): resolved by the classify threads
printf 'mac 00:00:00:00:00:02 BorderA\nvlan 100 BorderB\nprefix 0.0.0.0/1 Low\n' > "$tmp/um"
same "generated (csv, upstream map with a mac rule)" --format csv --by country,upstream --upstream-map "$tmp/um" \
    --bin 10 "$tmp/gen.pcap"
same "all as one (csv, upstream map with mac and vlan rules)" --format csv --by upstream --upstream-map "$tmp/um" \
    --bin 0 "$@"
[ $fail = 0 ] && echo "ok: $n captures on their own, all as one and a generated capture: --workers 2, 3, 4 as one thread"
exit $fail
