#!/bin/sh
# A capture of two bursts 13 months apart, keyed by country, AS and upstream
# (tens of thousands of keys): the engine fills the first 10,017 bins of the
# silence with empty bins (GT_GAP_FREE + GT_GAP_RATIO x 1 bin with packets,
# engine.h) and the detector must get through them in about the time of one
# bin each, not of every key each (the old walk took over 5 minutes; meson's
# timeout is 30 s). Oracle: tshark's frame times and the gap-fill bound.
set -eu
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
pcap="$GEOTAP_SRC/tests/data/pcap/dtls_certificate_fragments.pcap"
"$GEOTAP_BIN" analyze -q --by country,asn,upstream --routes "$GEOTAP_SRC/bench/data/kp2014-routes.txt.gz" \
    --format table --events "$t/ev.json" "$pcap" >/dev/null
tshark -r "$pcap" -T fields -e frame.time_epoch 2>/dev/null >"$t/times"
python3 - "$t/ev.json" "$t/times" <<'PY'
import calendar, json, sys, time
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
times = [float(x) for x in open(sys.argv[2]).read().split()]
def ts(s):
    main, _, frac = s.rstrip('Z').partition('.')
    return calendar.timegm(time.strptime(main, '%Y-%m-%dT%H:%M:%S')) + float('0.' + (frac or '0'))
first_bin = int(times[0]) // 60 * 60
late = [x for x in times if x > times[0] + 86400]
gaps = [e for e in ev if e['type'] == 'capture_gap']
bad = [e for e in ev if e['type'] in ('drop_to_zero', 'restored')]
ok = True
def check(c, what):
    global ok
    print(('ok   ' if c else 'FAIL ') + what)
    ok &= bool(c)
check(len(gaps) == 1, f"one capture_gap event ({len(gaps)})")
check(not bad, f"no drop or restoration inside the silence ({len(bad)})")
if gaps:
    g = gaps[0]
    want = first_bin + (1 + 10000 + 16) * 60       # the end of the last bin filled
    check(ts(g['start']) == want, f"gap starts after the filled bins: {g['start']} = {want}")
    check(min(late) <= ts(g['end']) <= max(late), f"gap ends at the second burst: {g['end']}")
    check(g['reason'] == 'silence', f"reason {g['reason']}")
sys.exit(0 if ok else 1)
PY
