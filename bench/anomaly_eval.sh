#!/bin/sh
# Full anomaly evaluation: for each seed, four scenarios (labels + per-bin
# counts; add PCAP=1 for the pcaps too, GBs at these rates), the counts
# replayed through the detector chain (anomaly_replay --bins: the budget
# shared over the scenario's countries) and scored per kind, pooled over
# the seeds:
#   poisson  30 h, 120 countries, Poisson packets at 0.01..50 /s
#   flows    12 h, 120 countries, flows (Poisson starts at 0.01..10 /s,
#            heavy-tailed sizes), level shifts
#   weekly   10 days, 40 countries, flows at 0.01..2 /s with a weekly cycle
#   quiet    7 days, 120 countries, flows at 0.01..2 /s, weekly cycle, no
#            outage (partial drops, lulls and shifts still): false drops
# Each kind prints its goals PASS/FAIL; the exit status is 1 when any fails.
# Scenarios already generated in OUTDIR are reused. KINDS="flows quiet" runs
# some of them. About 2-5 minutes per seed and kind on a busy machine.
# usage: bench/anomaly_eval.sh BUILDDIR OUTDIR SEED...
set -eu
build=$1 out=$2
shift 2
mkdir -p "$out"
args_of() {
    case $1 in
    poisson) echo "" ;;
    flows) echo "--flows --hours 12 --max-rate 10" ;;
    weekly) echo "--flows --weekly --hours 240 --keys 40 --max-rate 2" ;;
    quiet) echo "--flows --weekly --no-outages --hours 168 --max-rate 2" ;;
    esac
}
rc=0
for kind in ${KINDS:-poisson flows weekly quiet}; do
    pairs=""
    for s in "$@"; do
        base="$out/$kind.s$s"
        p=""
        [ "${PCAP:-0}" = 1 ] && p="--pcap $base.pcap"
        # shellcheck disable=SC2046
        [ -s "$base.bins" ] || "$build/bench/gen_scenario" --seed "$s" $(args_of "$kind") \
            --labels "$base.labels.jsonl" --bins "$base.bins" $p
        "$build/bench/anomaly_replay" --labels "$base.labels.jsonl" --bins "$base.bins" --events "$base.events.jsonl"
        pairs="$pairs $base.labels.jsonl $base.events.jsonl"
    done
    echo "== $kind (seeds $*)"
    # shellcheck disable=SC2086
    python3 "$(dirname "$0")/score_anomaly.py" $pairs || rc=1
done
exit $rc
