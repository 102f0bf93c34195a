#!/bin/bash
# bench/analyze_parts.sh TRACE [ROUNDS]: analyze --workers 2 (one classic pcap file in parts) on a loaded machine.
# Alternating runs on trace $1 ($2 rounds): bare libpcap loop (build/bench/bench_pcap_read --passes 1),
# analyze --workers 1, analyze --workers 2 (GEOTAP_PARTS_TRACE=1: per-part thread CPU).
# Prints medians of wall, process CPU (user+sys), and for --workers 2 the critical path
# estimate (collector-thread CPU incl. start-up + the largest part thread's CPU; thread CPU
# from clock_gettime, process CPU from /usr/bin/time in 10 ms steps).
T=$1; R=${2:-7}; BUILD=${GEOTAP_BUILD:-$(dirname "$0")/../build}; G=$BUILD/cli/geotap; B=$BUILD/bench/bench_pcap_read
DB=$(ls ~/.cache/geotap/*/GeoLite2-Country.mmdb | head -1); L=$(mktemp)
echo "trace $T; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$R"); do
  /usr/bin/time -f "bare %e %U %S" -o $L.t $B $T --passes 1 >/dev/null; cat $L.t >> $L
  /usr/bin/time -f "w1 %e %U %S" -o $L.t $G analyze -q --bin 0 --format csv --country-db $DB --workers 1 -o $L.o1 $T; cat $L.t >> $L
  GEOTAP_PARTS_TRACE=1 /usr/bin/time -f "w2 %e %U %S" -o $L.t $G analyze -q --bin 0 --format csv --country-db $DB --workers 2 -o $L.o2 $T 2>$L.e; cat $L.t >> $L
  awk '/^part/ {v=$(NF-1)+0; if (v>m) m=v} /collector/ {k=$(NF-1)+0} END {printf "crit %.3f %.3f %.3f\n", m+k, m, k}' $L.e >> $L
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
cmp -s $L.o1 $L.o2 && echo "outputs identical" || echo "OUTPUTS DIFFER"
python3 - $L <<'PY'
import sys, statistics as st
d={}
for l in open(sys.argv[1]):
    f=l.split(); d.setdefault(f[0],[]).append([float(x) for x in f[1:]])
med=lambda v,i: st.median([x[i] for x in v])
b,w1,w2,cr=d["bare"],d["w1"],d["w2"],d["crit"]
bw,w1w,w2w=med(b,0),med(w1,0),med(w2,0)
bc=st.median([x[1]+x[2] for x in b]); w1c=st.median([x[1]+x[2] for x in w1]); w2c=st.median([x[1]+x[2] for x in w2])
print("medians of %d: wall bare %.3f s, w1 %.3f s, w2 %.3f s; CPU bare %.3f s, w1 %.3f s, w2 %.3f s"%(len(b),bw,w1w,w2w,bc,w1c,w2c))
print("w2 critical path (collector thread incl. start-up + largest part): median %.3f s (part %.3f s, collector %.3f s)"%(med(cr,0),med(cr,1),med(cr,2)))
print("loaded wall: w2/w1 %.2fx, w2 vs bare %.2fx, w1 vs bare %.2fx"%(w1w/w2w,bw/w2w,bw/w1w))
nz=lambda x: max(x, 1e-9)   # /usr/bin/time counts CPU in 10 ms steps
print("CPU-based: bare CPU / w2 critical path %.2fx; w1 CPU / w2 critical path %.2fx; w2 CPU / w1 CPU %.2f"%(bc/nz(med(cr,0)),w1c/nz(med(cr,0)),w2c/nz(w1c)))
PY
rm -f $L $L.t $L.e $L.o1 $L.o2
