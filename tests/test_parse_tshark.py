#!/usr/bin/env python3
"""gt_parse() against tshark on every real capture in $GEOTAP_SHARED/pcap:
for each packet, the outer IP header geotap finds (addresses, or none) must be
the first ip/ipv6 layer for which tshark shows both addresses (tshark adds the
geoip fields exactly then).  With --decap, gt_parse(GT_PARSE_DECAP) must find
the last such layer (the innermost tunnelled header; ICMP is not dissected, so
quoted headers in ICMP errors don't count).  To keep it fast, the files are concatenated with
mergecap into one pcapng (tshark's start-up dominates otherwise); files that
end in a read error are run through tshark on their own.
Usage: test_parse_tshark.py [--decap] DUMP_PROGRAM"""
import os
import subprocess
import sys
import tempfile


DECAP = False


def tshark_outer(path):
    """Per frame: (src, dst) of the outer (innermost with DECAP) IP header
    tshark shows, or None."""
    # Layers above IP can't change the outer header: skip them for speed.
    # Tunnels ride on UDP (GTP-U, VXLAN, CAPWAP), so keep it with DECAP.
    skip = ["tcp", "icmp", "icmpv6"] + ([] if DECAP else ["udp"])
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-T", "fields",
         "-E", "occurrence=" + ("l" if DECAP else "f")]
        + [a for p in skip for a in ("--disable-protocol", p)] + [
         "-e", "frame.protocols",
         "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst"],
        capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 5:
            continue
        want = None
        for layer in f[0].split(":"):
            if layer == "ip" and f[1] and f[2]:
                want = (f[1], f[2])
                if not DECAP:
                    break
            if layer == "ipv6" and f[3] and f[4]:
                want = (f[3], f[4])
                if not DECAP:
                    break
        res.append(want)
    return res


def geotap_outer(dump, paths):
    """Per file: (list of (src, dst) or None per packet, ended_in_error)."""
    out = subprocess.run([dump] + (["-d"] if DECAP else []) + paths, capture_output=True, text=True).stdout
    files = {}
    cur = None
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "#":
            cur = files.setdefault(f[2], [[], False])
        elif f[0] == "!":
            cur[1] = True
        else:
            cur[0].append(None if f[1] == "-" else (f[1], f[2]))
    return files


def compare(name, t, g):
    bad = 0
    if len(t) != len(g):
        print(f"{name}: tshark read {len(t)} packets, libpcap {len(g)}")
        bad = 1
    diffs = [i for i in range(min(len(t), len(g))) if t[i] != g[i]]
    for i in diffs[:5]:
        print(f"{name} frame {i + 1}: tshark {t[i]} geotap {g[i]}")
    return 1 if bad or diffs else 0


def main():
    global DECAP
    args = sys.argv[1:]
    if args and args[0] == "--decap":
        DECAP = True
        args = args[1:]
    dump = args[0]
    d = os.path.join(os.environ.get("GEOTAP_SHARED") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"), "pcap")
    paths = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".pcap", ".pcapng"))]
    if not paths:
        print("no captures in", d)
        return 1
    g = geotap_outer(dump, paths)
    missing = [p for p in paths if p not in g]
    for p in missing:
        print(f"{p}: libpcap could not open it")
    clean = [p for p in paths if p in g and not g[p][1]]
    odd = [p for p in paths if p in g and g[p][1]]
    bad = len(missing)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "all.pcapng")
        subprocess.run(["mergecap", "-a", "-F", "pcapng", "-w", merged] + clean, check=True)
        t = tshark_outer(merged)
        want_total = sum(len(g[p][0]) for p in clean)
        if len(t) != want_total:
            print(f"merged capture: tshark read {len(t)} packets, libpcap {want_total}")
            return 1
        pos = 0
        for p in clean:
            n = len(g[p][0])
            bad += compare(os.path.basename(p), t[pos:pos + n], g[p][0])
            pos += n
            total += n
    for p in odd:
        t = tshark_outer(p)
        bad += compare(os.path.basename(p), t, g[p][0])
        total += len(g[p][0])
    print(f"{'innermost' if DECAP else 'outer'} header: {len(paths)} files, {total} packets, {bad} files differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
