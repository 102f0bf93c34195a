#!/bin/sh
# Full anomaly evaluation: for each seed, a 30-hour scenario of 120 countries
# (labels + per-bin counts, ~10 MB per seed; add PCAP=1 for the pcap too,
# ~4.6 GB per seed at these rates), replayed through the anomaly module and
# scored, pooled over the seeds.
# usage: bench/anomaly_eval.sh BUILDDIR OUTDIR SEED...
set -eu
build=$1 out=$2
shift 2
mkdir -p "$out"
pairs=""
for s in "$@"; do
    p=""
    [ "${PCAP:-0}" = 1 ] && p="--pcap $out/s$s.pcap"
    [ -s "$out/s$s.bins" ] || "$build/bench/gen_scenario" --seed "$s" --labels "$out/s$s.labels.jsonl" --bins "$out/s$s.bins" $p
    "$build/bench/anomaly_replay" --labels "$out/s$s.labels.jsonl" --bins "$out/s$s.bins" --events "$out/s$s.events.jsonl"
    pairs="$pairs $out/s$s.labels.jsonl $out/s$s.events.jsonl"
done
exec python3 "$(dirname "$0")/score_anomaly.py" $pairs
