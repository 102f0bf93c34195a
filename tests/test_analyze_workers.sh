#!/bin/sh
# geotap analyze --workers N (3; 2 and 4 once) gives byte-identical output, events, messages
# and exit status to one thread (whose counts other tests check against
# tshark): test captures on their own, all of them as one capture (the
# files' times jump back and forth: clock jumps, late frames), and a
# generated capture of 100,000 frames with late frames, gaps of bins, a
# clock jump and a cut last record, in csv, jsonl by country and ASN with
# events, the table, and by upstream with per-frame (mac, vlan) rules; and
# captures whose part boundaries (one file in byte-range parts) hold a
# clock jump, late frames, frames a little behind (joined) and then one
# within the jump window of one clock but not the other's, a bad time,
# times near 0, a damaged record, a
# record whose payload mimics records, a filter that leaves a part empty,
# and a key's silence across the join (its flow start and idle time by hand).
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
EV=1 same "generated (jsonl, country and ASN, events)" --format jsonl --by country,asn --bin 1 "$tmp/gen.pcap"
# with no room to set later parts' bins aside, they wait their turn: the same
GEOTAP_PARTS_SET_ASIDE=0 WS=2 same "generated (csv, bins of 1 s, nothing set aside)" --format csv --bin 1 "$tmp/gen.pcap"
# the cut record is reported, and every whole frame counted
grep -q "corrupt or truncated" "$tmp/1.err" || { echo "FAIL: the cut record was not reported"; fail=1; }
# per-frame upstream rules (source MAC, VLAN): resolved by the classify threads
printf 'mac 00:00:00:00:00:02 BorderA\nvlan 100 BorderB\nprefix 0.0.0.0/1 Low\n' > "$tmp/um"
same "generated (csv, upstream map with a mac rule)" --format csv --by country,upstream --upstream-map "$tmp/um" \
    --bin 10 "$tmp/gen.pcap"
same "all as one (csv, upstream map with mac and vlan rules)" --format csv --by upstream --upstream-map "$tmp/um" \
    --bin 0 "$@"
# Part boundaries (a classic pcap file is read in byte-range parts, one per
# thread): captures of 2000 equal records, so with --workers 2 frame 1000
# starts part 1 (4: frames 500, 1000, 1500), holding each oddity there.
# Where joining the parts could differ from one worker, the part before
# must read on (part 1 "void" in the trace); where it is sound, part 1
# counts its own range ("final") and the join is exact.
mkdir "$tmp/b"
python3 - "$tmp/b" <<'PY'
import random, struct, sys
# Captures whose part boundaries (--workers 2: frame 1000 of 2000 equal records) hold each oddity.
def rec(t_us, fr, frac=None):
    return struct.pack("<IIII", t_us // 1000000, t_us % 1000000 if frac is None else frac, len(fr), len(fr) + 40) + fr
def ip4(s, d, proto=17):
    return b"\0\0\0\0\0\1\0\0\0\0\0\2\x08\0" + struct.pack(">BBHHHBBH", 0x45, 0, 46, 0, 0, 64, proto, 0) + \
           struct.pack(">II", s, d) + bytes(26)
HDR = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
r = random.Random(7)
def addr():
    return r.getrandbits(32)
def write(name, recs):
    with open(name, "wb") as o:
        o.write(HDR)
        for x in recs:
            o.write(x)
T0 = 1700000000 * 1000000
d = sys.argv[1]
def plain(n=2000, t0=T0, step=1000, fixed=None):
    out = []
    for i in range(n):
        s, t = (fixed or (addr(), addr()))
        out.append(rec(t0 + i * step, ip4(s, t)))
    return out
# accepted boundaries: a key silent for 7 s across the boundary (its flow start and idle time join)
k = (0x08080808, 0x01010101)
x = [rec(T0 + i * 1000, ip4(*k)) for i in range(1000)] + [rec(T0 + 8000000 + i * 1000, ip4(*k)) for i in range(1000)]
write(d + "/silence.pcap", x)
# a clock jump as part 1's first frame
x = plain(); x[1000] = rec(T0 + 1000 * 1000 + 30 * 86400 * 1000000, ip4(addr(), addr())); write(d + "/jump.pcap", x)
# late frames from the bin before, first in part 1
x = plain(step=10000)
for i in range(1000, 1005):
    x[i] = rec(T0 + 1000 * 10000 - 20000000, ip4(addr(), addr()))
write(d + "/late.pcap", x)
# a time that cannot be represented (fraction >= 1 s) first in part 1
x = plain(); x[1000] = rec(T0 + 1000 * 1000, ip4(addr(), addr()), frac=2000000); write(d + "/badtime.pcap", x)
# times near the epoch (0 is "none" for first/last times)
write(d + "/epoch.pcap", plain(t0=0, step=700))
# a damaged record (caplen above the snapshot length) in the middle of part 1
x = plain(); x[1500] = struct.pack("<IIII", T0 // 1000000, 0, 70000, 70000) + x[1500][16:]; write(d + "/damaged.pcap", x)
# one big record straddling the boundary whose payload mimics 40 records (resync finds them)
fake = b"".join(rec(T0, ip4(addr(), addr())) for _ in range(40))
big = b"\0\0\0\0\0\1\0\0\0\0\0\2\x08\0" + struct.pack(">BBHHHBBH", 0x45, 0, 20 + 60000, 0, 0, 64, 17, 0) + \
      struct.pack(">II", addr(), addr())
big += r.randbytes(30000 - len(big)) + fake
big += r.randbytes(60034 - len(big))
x = plain(1000) + [rec(T0 + 1000 * 1000, big)] + plain(1000, t0=T0 + 1001 * 1000)
write(d + "/mimic.pcap", x)
# tcp in the first half, udp in the second: a filter leaves part 1 (or 0) no frame
x = [rec(T0 + i * 1000, ip4(addr(), addr(), 6 if i < 1000 else 17)) for i in range(2000)]
write(d + "/halves.pcap", x)
# three frames, four parts
write(d + "/tiny.pcap", plain(3))
# part 1's first frames a little behind part 0's last (several capture queues): joined
x = plain()
for i, back in ((1000, 30), (1001, 10), (1002, 900)):
    x[i] = rec(T0 + 999 * 1000 - back, ip4(addr(), addr()))
write(d + "/behind.pcap", x)
# ... and then a frame just within the jump window of part 0's clock, beyond it of part 1's own
x = plain()
x[1000] = rec(T0 + 999 * 1000 - 10000, ip4(addr(), addr()))
x[1001] = rec(T0 + 999 * 1000 + 3600 * 1000000 - 1000, ip4(addr(), addr()))
write(d + "/behind-jump.pcap", x)
PY
trace() {   # trace FILE WORKERS ARGS...: the parts' states
    f=$1 w=$2; shift 2
    GEOTAP_PARTS_TRACE=1 "$GEOTAP_BIN" analyze -q --format csv "$@" --workers "$w" -o /dev/null "$f" 2>&1 >/dev/null |
        sed -n 's/^part \([0-9]*\): \([a-z]*\),.*/\1 \2/p' | tr '\n' ' '
}
expect() {  # expect NAME GOT WANT
    [ "$2" = "$3" ] || { echo "FAIL: $1: parts '$2', expected '$3'"; fail=1; }
}
for c in silence behind behind-jump jump late badtime epoch damaged mimic halves tiny; do
    WS="2 4" same "boundary: $c (bins of 10 s)" --format csv --bin 10 "$tmp/b/$c.pcap"
    WS="2 4" same "boundary: $c (one bin)" --format csv --bin 0 "$tmp/b/$c.pcap"
done
for flt in tcp udp; do
    WS="2 4" same "boundary: halves, filter $flt" --format csv --bin 10 -f $flt "$tmp/b/halves.pcap"
done
expect "silence, 2" "$(trace "$tmp/b/silence.pcap" 2 --bin 10)" "0 final 1 final "
expect "behind, 2" "$(trace "$tmp/b/behind.pcap" 2 --bin 10)" "0 final 1 final "
expect "late, one bin, 2" "$(trace "$tmp/b/late.pcap" 2 --bin 0)" "0 final 1 final "
for c in behind-jump jump late badtime epoch mimic; do
    expect "$c, 2" "$(trace "$tmp/b/$c.pcap" 2 --bin 10)" "0 final 1 void "
done
expect "jump, 4" "$(trace "$tmp/b/jump.pcap" 4 --bin 10)" "0 final 1 final 2 void 3 final "
expect "halves -f udp, 4" "$(trace "$tmp/b/halves.pcap" 4 --bin 10 -f udp)" "0 final 1 void 2 final 3 final "
expect "damaged, 4" "$(trace "$tmp/b/damaged.pcap" 4 --bin 10)" "0 final 1 final 2 final 3 void "
GEOTAP_PARTS_TRACE=1 "$GEOTAP_BIN" analyze -q --format csv --bin 10 --workers 2 -o /dev/null "$tmp/b/damaged.pcap" 2>&1 |
    grep -q "part 1: final.*then libpcap" || { echo "FAIL: damaged: libpcap did not read on after part 1"; fail=1; }
# the silence across the join, by hand: the key is quiet from 0.999 s to 8 s,
# one flow start and 8 - 0.999 - 5 s = 2001 ms past the 5 s gap, per key
"$GEOTAP_BIN" analyze -q --format csv --bin 10 --workers 2 -o "$tmp/s.csv" "$tmp/b/silence.pcap"
[ "$(cut -d, -f7,8 "$tmp/s.csv" | sed 1d | sort -u)" = "1,2001" ] ||
    { echo "FAIL: silence: flow starts and idle time across the join: $(cut -d, -f7,8 "$tmp/s.csv" | tr '\n' ' ')"; fail=1; }
[ $fail = 0 ] && echo "ok: $n captures on their own, all as one, a generated capture and 11 part boundaries: --workers 2, 3, 4 as one thread"
exit $fail
