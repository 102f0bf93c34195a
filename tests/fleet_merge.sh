#!/bin/sh
# geotap merge: a flow-clustered scenario capture cut into 5 files by packet
# count (editcap -c: the cuts fall inside bins), each analysed on its own
# (csv and jsonl), merged: the per-bin counts, flow starts and first/last
# packet times equal one analyze of the whole, and --events on the merge
# gives the same events. Independent oracle for the merged bins: tshark's
# frames and times with mmdblookup's countries. Bad inputs: one line naming
# the file and line, exit 2.
set -eu
. "$GEOTAP_SRC/tests/scenario_env.sh"
"$B/gen_scenario" --flows --no-gap --seed 7 --keys 16 --hours 8 --min-rate 0.02 --max-rate 0.3 \
    --country-db "$db" --labels "$t/l.jsonl" --pcap "$t/s.pcap" 2>/dev/null
an() { "$GEOTAP_BIN" analyze -q --country-db "$db" --home-net 192.0.2.0/24 "$@"; }
an -o "$t/whole.csv" --events "$t/whole.ev" "$t/s.pcap"
grep -q drop_to_zero "$t/whole.ev"
n=$(capinfos -c -M "$t/s.pcap" | awk '/Number of packets/ { print $NF }')
editcap -c $(((n + 4) / 5)) "$t/s.pcap" "$t/part.pcap"
i=0
for p in "$t"/part_*.pcap; do
    i=$((i + 1))
    if [ $((i % 2)) = 0 ]; then an --format jsonl -o "$t/p$i.jsonl" "$p"; else an -o "$t/p$i.csv" "$p"; fi
done
[ $i = 5 ] || { echo "FAIL: editcap made $i files, want 5"; exit 1; }
# files in any order
"$GEOTAP_BIN" merge -o "$t/merged.csv" --events "$t/merged.ev" "$t/p5.csv" "$t"/p[1-4].* 
# everything but bin_keys (the merge knows the keys seen, analyze its whole key table)
cut -d, -f1-14 "$t/whole.csv" >"$t/w"
cut -d, -f1-14 "$t/merged.csv" >"$t/m"
if ! cmp -s "$t/w" "$t/m"; then echo "FAIL: merged bins differ from analyze of the whole:"; diff "$t/w" "$t/m" | head; exit 1; fi
if ! cmp -s "$t/whole.ev" "$t/merged.ev"; then echo "FAIL: merged events differ:"; diff "$t/whole.ev" "$t/merged.ev"; exit 1; fi
split_bins=$(python3 - "$t" <<'PY'
import csv, glob, sys
# bins that more than one part holds: the joins across cuts were exercised
seen = {}
for f in glob.glob(sys.argv[1] + '/p*.csv') + glob.glob(sys.argv[1] + '/p*.jsonl'):
    import json
    rows = csv.DictReader(open(f)) if f.endswith('.csv') else (json.loads(l) for l in open(f))
    for r in rows:
        if int(r['packets_from']) + int(r['packets_to']):
            seen.setdefault(r['time'], set()).add(f)
print(sum(1 for s in seen.values() if len(s) > 1))
PY
)
[ "$split_bins" -ge 4 ] || { echo "FAIL: only $split_bins bins are cut between files"; exit 1; }

# the oracle: tshark's addresses, lengths and times, mmdblookup's countries
tshark -r "$t/s.pcap" -T fields -e ip.src -e ip.dst -e frame.len -e frame.time_epoch >"$t/f.tsv" 2>/dev/null
cut -f1,2 "$t/f.tsv" | tr '\t' '\n' | sort -u | grep -v '^192\.0\.2\.' | while read -r a; do
    cc=$(mmdblookup --file "$db" --ip "$a" country iso_code 2>/dev/null | sed -n 's/.*"\(..\)".*/\1/p')
    echo "$a ${cc:-ZZ}"
done >"$t/cc.txt"
python3 - "$t/f.tsv" "$t/cc.txt" "$t/merged.csv" <<'PY'
import csv, sys, time, calendar
cc = dict(l.split() for l in open(sys.argv[2]))
def key(a):
    return 'home' if a.startswith('192.0.2.') else cc[a]
want = {}
for line in open(sys.argv[1]):
    src, dst, ln, ts = line.rstrip('\n').split('\t')
    s, _, frac = ts.partition('.')
    ns = int(s) * 10**9 + int((frac + '000000000')[:9])
    b = int(s) // 60 * 60
    for k, d in ((key(src), 0), (key(dst), 1)):
        w = want.setdefault((b, k), [0, 0, 0, 0, None, None])
        w[2 * d] += 1
        w[2 * d + 1] += int(ln)
        w[4] = ns if w[4] is None else min(w[4], ns)
        w[5] = ns if w[5] is None else max(w[5], ns)
got = {}
for r in csv.DictReader(open(sys.argv[3])):
    b = calendar.timegm(time.strptime(r['time'], '%Y-%m-%dT%H:%M:%SZ'))
    v = [int(r[c]) for c in ('packets_from', 'bytes_from', 'packets_to', 'bytes_to', 'first_ns', 'last_ns')]
    if v[0] + v[2]:
        got[(b, r['country'])] = v
bad = [(k, want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)]
if bad:
    print('FAIL: merged bins differ from tshark + mmdblookup (bin, key, tshark, merged):')
    for b in sorted(bad, key=str)[:10]:
        print('  ', b)
    sys.exit(1)
print(f'oracle: {len(want)} (bin, key) cells of tshark + mmdblookup equal the merged bins')
PY
echo "merge of 5 parts ($split_bins bins cut between files): bins and $(wc -l <"$t/whole.ev") events equal analyze of the whole"

# bad inputs: one line FILE:LINE: reason, exit 2
bad() {     # WANT FILE...
    want=$1
    shift
    if "$GEOTAP_BIN" merge -o /dev/null "$@" 2>"$t/err"; then echo "FAIL: merge of bad input '$want' succeeded"; exit 1; fi
    rc=0; "$GEOTAP_BIN" merge -o /dev/null "$@" 2>/dev/null || rc=$?
    [ $rc = 2 ] || { echo "FAIL: exit $rc, want 2 for '$want'"; exit 1; }
    if [ "$(wc -l <"$t/err")" -ne 1 ] || ! grep -qF -- "$want" "$t/err"; then
        echo "FAIL: want one line with '$want', got:"; cat "$t/err"; exit 1
    fi
    echo "rejected: $(cat "$t/err")"
}
an --bin 30 -o "$t/b30.csv" "$t"/part_00001_*.pcap
bad "$t/b30.csv:2: bins of 30 s, but $t/p1.csv has bins of 60 s" "$t/p1.csv" "$t/b30.csv"
an --by asn -o "$t/asn.csv" "$t"/part_00001_*.pcap
bad "$t/asn.csv:1: keys by asn, but $t/p1.csv has keys by country" "$t/p1.csv" "$t/asn.csv"
cut -d, -f1-6 "$t/p1.csv" >"$t/old.csv"
bad "$t/old.csv:1: column 'flow_starts' missing" "$t/old.csv"
sed '5s/,[0-9]*,/,x1,/' "$t/p1.csv" >"$t/row.csv"
bad "$t/row.csv:5: bad number 'x1'" "$t/row.csv"
sed '3s/"packets_to":[0-9]*/"packets_to":-1/' "$t/p2.jsonl" >"$t/neg.jsonl"
bad "$t/neg.jsonl:3: field \"packets_to\" missing or not a count" "$t/neg.jsonl"
bad "$t/none.csv: cannot open" "$t/none.csv"
