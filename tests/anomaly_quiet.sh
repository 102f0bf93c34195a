#!/bin/sh
# The false-alarm budget on one day without outages (the 1-day form of
# bench/anomaly_eval.sh's 7-day `quiet` kind): 120 countries sending flows
# (0.01..2 flows/s, diurnal and weekly cycles) with partial drops to 30 %,
# natural lulls and level shifts but no outage; the scorer allows at most
# twice the budget (0.01/day over all keys), rounded up: 1.
set -eu
. "$GEOTAP_SRC/tests/scenario_env.sh"
"$B/gen_scenario" --seed 201 --flows --weekly --no-outages --hours 24 --max-rate 2 --country-db "$db" \
    --labels "$t/l.jsonl" --bins "$t/bins"
grep -q '"type":"partial"' "$t/l.jsonl"
if grep -q '"type":"outage"' "$t/l.jsonl"; then echo "--no-outages scenario has outages"; exit 1; fi
"$B/anomaly_replay" --labels "$t/l.jsonl" --bins "$t/bins" --events "$t/ev.jsonl"
python3 "$GEOTAP_SRC/bench/score_anomaly.py" "$t/l.jsonl" "$t/ev.jsonl"
