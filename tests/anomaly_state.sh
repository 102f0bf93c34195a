#!/bin/sh
# --state: a flow-clustered capture split into two files at a bin boundary
# and analysed in two runs sharing a state file gives the same events as one
# run over the whole (the outages all fall in the second file; the labels
# check the events are the scenario's outages). A state file that is
# corrupt, truncated, of another format version or another bin width, or not
# a state file at all: one line naming the file and the reason, exit 0, and
# the events of a run with no state.
set -eu
. "$GEOTAP_SRC/tests/scenario_env.sh"
# 8 hours; events fall between 3 h and 7 h, the split is at 3 h
"$B/gen_scenario" --flows --no-gap --seed 7 --keys 16 --hours 8 --min-rate 0.02 --max-rate 0.3 \
    --country-db "$db" --labels "$t/l.jsonl" --pcap "$t/s.pcap" 2>/dev/null
python3 - "$t/l.jsonl" "$t/s.pcap" "$t/a.pcap" "$t/b.pcap" <<'PY'
import json, sys
import pcapfile
labels = [json.loads(l) for l in open(sys.argv[1])]
split = next(l for l in labels if l['type'] == 'scenario')['start_s'] + 3 * 3600
outs = [l for l in labels if l['type'] == 'outage']
assert outs and all(o['start_s'] > split for o in outs), 'outages must all be after the split'
hdr, records = pcapfile.read(sys.argv[2])
with open(sys.argv[3], 'wb') as a, open(sys.argv[4], 'wb') as b:
    a.write(hdr); b.write(hdr)
    n = [0, 0]
    for h, sec, body in records:
        (a if sec < split else b).write(h + body)
        n[sec >= split] += 1
print(f'split: {n[0]} + {n[1]} frames, {len(outs)} outages after the split')
PY
an() { "$GEOTAP_BIN" analyze -q --country-db "$db" --home-net 192.0.2.0/24 -o /dev/null "$@"; }
an --events "$t/whole.ev" "$t/s.pcap"
python3 "$GEOTAP_SRC/bench/score_anomaly.py" "$t/l.jsonl" "$t/whole.ev" >/dev/null
grep -q drop_to_zero "$t/whole.ev"
an --state "$t/st" --events "$t/a.ev" "$t/a.pcap"
test -s "$t/st" && test ! -e "$t/st.tmp"
an --state "$t/st" --events "$t/b.ev" "$t/b.pcap"
cat "$t/a.ev" "$t/b.ev" | cmp - "$t/whole.ev"
echo "two runs with --state: the same $(wc -l <"$t/whole.ev") events as one run"

# bad state files: the second half analysed as with no state
an --events "$t/fresh.ev" "$t/b.pcap"
! cmp -s "$t/fresh.ev" "$t/b.ev"     # the state made a difference
an --state "$t/good" --events /dev/null "$t/a.pcap"
size=$(wc -c <"$t/good")
bad() {     # NAME EXPECTED-REASON [extra analyze options]
    name=$1 why=$2
    shift 2
    if ! an --state "$t/$name" --events "$t/$name.ev" "$@" "$t/b.pcap" 2>"$t/$name.err"; then
        echo "FAIL: $name: analyze failed"; cat "$t/$name.err"; exit 1
    fi
    if [ "$(wc -l <"$t/$name.err")" -ne 1 ] || ! grep -q "$t/$name: $why" "$t/$name.err"; then
        echo "FAIL: $name: want one line '$t/$name: $why...', got:"; cat "$t/$name.err"; exit 1
    fi
    echo "$name: $(cat "$t/$name.err")"
}
cp "$t/good" "$t/corrupt"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) // 2); b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 0x55]))' "$t/corrupt" "$size"
bad corrupt "corrupt"
cmp "$t/corrupt.ev" "$t/fresh.ev"
head -c $((size / 3)) "$t/good" >"$t/truncated"
bad truncated "truncated"
cmp "$t/truncated.ev" "$t/fresh.ev"
cp "$t/good" "$t/version"
printf '\377' | dd of="$t/version" bs=1 seek=8 conv=notrunc 2>/dev/null
bad version "state format"
cmp "$t/version.ev" "$t/fresh.ev"
cp "$t/good" "$t/width"
bad width "state learned with bins of 60 s, not 30 s" --bin 30
printf 'hello\n' >"$t/other"
bad other "not a geotap anomaly state file"
cmp "$t/other.ev" "$t/fresh.ev"
: >"$t/empty"
bad empty "not a geotap anomaly state file"
# each bad file was replaced by a good state at exit
an --state "$t/corrupt" --events /dev/null "$t/b.pcap" 2>"$t/again.err"
test ! -s "$t/again.err"
