#!/bin/sh
# Smoke run of the anomaly evaluation: a small labelled scenario (pcap of a
# few MB + its per-bin counts). The per-bin totals of the counts are checked
# against the pcap read independently (python); the counts replayed through
# the detector chain (--bins, the scenario's 20 keys) and the pcap through
# the sensor (--pcap, every key of the database) must each pass the
# scorer's goals against the labels, the chain's threshold must be
# ln(keys x bins/day / budget) computed here, and the pcap replay must be
# the events of geotap analyze --events on the pcap (one pipeline). Once
# with Poisson packets, once with flows (--flows).
set -eu
. "$GEOTAP_SRC/tests/scenario_env.sh"
for kind in "--max-rate 0.5" "--flows --max-rate 0.1"; do
echo "== gen_scenario $kind"
# shellcheck disable=SC2086
"$B/gen_scenario" --seed 5 --keys 20 --hours 5 $kind --country-db "$db" \
    --labels "$t/l.jsonl" --bins "$t/bins" --pcap "$t/s.pcap"
"$B/anomaly_replay" --labels "$t/l.jsonl" --pcap "$t/s.pcap" --country-db "$db" --events "$t/ev.pcap"
"$B/anomaly_replay" --labels "$t/l.jsonl" --bins "$t/bins" --events "$t/ev.bins" 2>"$t/bins.err"
cat "$t/bins.err"
# 20 keys, 60 s bins, the default budget of 0.01 false alarms a day
python3 -c 'import math, re, sys
m = re.search(r"threshold ([0-9.]+)", open(sys.argv[1]).read())
want = math.log(20 * 86400 / 60 / 0.01)
assert m and abs(float(m.group(1)) - want) < 0.006, (m and m.group(1), want)' "$t/bins.err"
python3 - "$t/s.pcap" "$t/bins" <<'PY'
import sys
import pcapfile
tot = {}
for _, sec, _ in pcapfile.read(sys.argv[1])[1]:
    b = sec - sec % 60
    tot[b] = tot.get(b, 0) + 1
mine, cur = {}, None
for line in open(sys.argv[2]):
    p = line.split()
    if p[0] == 'B':
        cur = int(p[1])
    elif p[0] == 'K':
        mine[cur] = mine.get(cur, 0) + int(p[2])
assert tot == mine, 'per-bin totals of the counts file differ from the pcap'
print(f'pcap: {sum(tot.values())} frames in {len(tot)} bins, equal to the counts file')
PY
test -s "$t/ev.bins"
python3 "$GEOTAP_SRC/bench/score_anomaly.py" "$t/l.jsonl" "$t/ev.bins"
# The same pcap through the command users run: geotap analyze --events
# (the far end of every packet is the scenario's sensor network).
"$GEOTAP_BIN" analyze -q --country-db "$db" --home-net 192.0.2.0/24 --events "$t/ev.cli" -o /dev/null "$t/s.pcap"
test -s "$t/ev.cli"
cmp "$t/ev.pcap" "$t/ev.cli"
# analyze shares the false-alarm budget over every key of the database (about
# 250 countries), not the scenario's 20: its minimum delay is ln(1/alpha)/mu
# with that alpha (an error of a few keys moves ln(1/alpha) by under 0.1 %).
python3 "$GEOTAP_SRC/bench/score_anomaly.py" "$t/l.jsonl" "$t/ev.cli" --budget-keys 250
done
