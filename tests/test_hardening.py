#!/usr/bin/env python3
"""Integration: the defects of issue 11, each against the reproducers in
$GEOTAP_SHARED/repro or a capture built here, with independent oracles
(tshark's frame times, the pcap/pcapng formats walked here, gzip -t,
hand-computed bins). Exit 0 pass, 1 fail."""
import os
import struct
import subprocess
import sys
import tempfile

GEOTAP = os.environ["GEOTAP_BIN"]
SHARED = os.environ["GEOTAP_SHARED"]
REPRO = os.path.join(SHARED, "repro")
DB = ["--country-db", os.path.join(SHARED, "mmdb", "GeoLite2-Country-Test.mmdb"),
      "--asn-db", os.path.join(SHARED, "mmdb", "GeoLite2-ASN-Test.mmdb")]
from checks import check, failures  # noqa: E402


def run(args, env=None, stdin=subprocess.DEVNULL, timeout=60, input_=None):
    e = dict(os.environ)
    e.update(env or {})
    try:
        p = subprocess.run([GEOTAP, *args], capture_output=True, env=e, timeout=timeout,
                           stdin=None if input_ is not None else stdin, input=input_, check=False)
    except subprocess.TimeoutExpired:
        return -999, b"", b"(timeout: unbounded read?)"
    return p.returncode, p.stdout, p.stderr


def analyze_bins(path, env=None, bin_=1):
    """{bin start (s): packets_from} and stderr of analyze --format csv."""
    rc, out, err = run(["analyze", *DB, "--bin", str(bin_), "--format", "csv", path], env=env)
    bins = {}
    lines = out.decode().splitlines()
    for l in lines[1:]:
        t, _cc, pf = l.split(",")[:3]
        bins[t] = bins.get(t, 0) + int(pf)
    return rc, bins, err.decode(errors="replace"), len(lines) - 1


def tshark_times(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, check=False).stdout
    return [float(x) for x in out.split()]


def rfc3339(sec):
    import datetime
    return datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_pcap(path, times, nsec=False):
    """Ethernet/IPv4 frames (192.0.2.1 -> 198.51.100.1) at times (s, frac)."""
    ip = bytes.fromhex("450000260000000040110000c0000201c6336401") + b"\0" * 18
    frame = b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00" + ip
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d if nsec else 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for s, frac in times:
            f.write(struct.pack("<IIII", s, frac, len(frame), len(frame)) + frame)


def times_cases(tmp):
    # 11.2: a fraction >= 1e9 in a nanosecond pcap: both readers agree, and
    # the time is counted as unrepresentable, not as sec + 4.29 s or sec - 1 ns.
    p = os.path.join(REPRO, "nsec_frac_big.pcap")
    a, b = analyze_bins(p), analyze_bins(p, {"GEOTAP_NO_MMAP": "1"})
    check(a[0] == 0 and a[1] == b[1], f"nsec_frac_big: mmap and libpcap readers agree ({a[1]} vs {b[1]})")
    check("1 frames with an unrepresentable timestamp" in a[2] and "1 frames with an unrepresentable" in b[2],
          "nsec_frac_big: counted as an unrepresentable time by both readers")
    # 2^40 s in pcapng (libpcap path): tshark reads 1600000000, 2^40, 1600000060.
    p = os.path.join(REPRO, "pcapng_ts_seconds_2p40.pcapng")
    t = tshark_times(p)
    check(len(t) == 3 and t[1] > 9.3e9, f"2p40: tshark times {t}")
    rc, bins, err, _ = analyze_bins(p)
    want = {rfc3339(int(t[0])): 2, rfc3339(int(t[2])): 1}   # the bad one in the open bin
    got = {k: v for k, v in bins.items() if v}
    check(rc == 0 and got == want, f"2p40: packet bins {got}, want {want}")
    check("1 frames with an unrepresentable timestamp" in err, "2p40: one unrepresentable time reported")
    # coarse if_tsresol: every time beyond int64 ns per tshark -> none wraps to 2016
    p = os.path.join(REPRO, "pcapng-ts-overflow.pcapng")
    t = tshark_times(p)
    rc, bins, err, _ = analyze_bins(p)
    check(all(x > 9.3e9 for x in t) and len(t) >= 5, f"ts-overflow: tshark times beyond 2262 ({len(t)} frames)")
    check(not any(k.startswith("2016") for k in bins), f"ts-overflow: no wrapped 2016 bin ({sorted(bins)[:3]})")
    check("5 frames with an unrepresentable timestamp" in err, "ts-overflow: 5 unrepresentable times reported")
    # year 2128: 300 valid packets, binned as tshark's times say
    p = os.path.join(REPRO, "pcapng_year2128.pcapng")
    want = {}
    for x in tshark_times(p):
        want[rfc3339(int(x))] = want.get(rfc3339(int(x)), 0) + 1
    rc, bins, err, _ = analyze_bins(p)
    got = {k: v for k, v in bins.items() if v}
    check(rc == 0 and got == want and sum(want.values()) == 300, f"year2128: bins equal tshark's ({len(want)} bins)")
    # 11.3: 2020, 1970, 2106, 2020: one bin of 2020 and a true time span
    p = os.path.join(REPRO, "ts_backward.pcap")
    t = tshark_times(p)
    for env in (None, {"GEOTAP_NO_MMAP": "1"}):
        rc, bins, err, _ = analyze_bins(p, env)
        want = {rfc3339(int(t[0])): 4}
        check(rc == 0 and bins == want, f"ts_backward{' (libpcap)' if env else ''}: bins {bins}, want {want}")
        check(f"time span {rfc3339(int(t[0]))} .. {rfc3339(int(t[3]))} (0.000 s)" in err,
              "ts_backward: time span 2020 .. 2020")
        check("2 frames more than" in err and "clock jumps" in err, "ts_backward: 2 clock jumps reported")
    # a real step forward is followed after 4 packets; the gap before it is
    # filled with zero bins, bounded (11.4); a short silence fully filled
    t0 = 1600000000
    times = [(t0, i) for i in range(10)] + [(t0 + 100, i) for i in range(10)] + \
            [(t0 + 100 + 999000 + i, 0) for i in range(6)]
    p = os.path.join(tmp, "step.pcap")
    write_pcap(p, times)
    rc, bins, err, rows = analyze_bins(p)
    check(bins.get(rfc3339(t0)) == 10 and bins.get(rfc3339(t0 + 100)) == 13,
          f"step: 10 packets at t0, 10 + 3 held at t0+100 ({bins.get(rfc3339(t0))}, {bins.get(rfc3339(t0 + 100))})")
    check(all(bins.get(rfc3339(t0 + s)) == 0 for s in range(1, 100)), "step: the 99 s of silence are 99 zero bins")
    check(bins.get(rfc3339(t0 + 100 + 999003)) == 1 and bins.get(rfc3339(t0 + 100 + 999005)) == 1,
          "step: bins follow after the 4th packet of the step")
    check("3 frames more than" in err, "step: 3 clock jumps reported")
    check(rows < 10000 + 16 * 5 + 10 and "empty bins of long silences not written" in err,
          f"step: zero rows bounded ({rows} rows, not ~1M), with a warning")
    check(bins.get(rfc3339(t0 + 101)) == 0 and bins.get(rfc3339(t0 + 5000)) == 0,
          "step: the drop to zero after t0+100 is still written")
    rc, out, err = run(["analyze", *DB, "--bin", "1", "--format", "csv", os.path.join(REPRO, "gap_amplify.pcap")])
    check(rc == 0 and len(out) < 2_000_000, f"gap_amplify: {len(out)} bytes of output (was 1.6 GB)")


def input_cases(tmp):
    # 11.11: a gzip --routes cut short (gzip -t agrees it is) is an error naming it
    cut = os.path.join(REPRO, "kp_cut_ok_6354.gz")
    check(subprocess.run(["gzip", "-t", cut], capture_output=True).returncode != 0, "kp_cut: gzip -t rejects it")
    rc, out, err = run(["lookup", *DB, "--routes", cut, "221.4.64.1"])
    check(rc == 2 and b"kp_cut_ok_6354.gz" in err and b"cut short" in err and err.count(b"\n") == 1,
          f"routes cut short: exit {rc}, {err.decode(errors='replace').strip()}")
    rc, out, err = run(["lookup", *DB, "--routes", tmp, "1.2.3.4"])
    check(rc == 2 and b"is a directory" in err, f"--routes DIRECTORY: exit {rc}, {err.decode().strip()}")
    empty = os.path.join(tmp, "empty.csv")
    open(empty, "w").close()
    rc, out, err = run(["lookup", "--country-db", DB[1], "--asn-db", empty, "1.2.3.4"])
    check(rc == 0 and out.decode().splitlines()[1].split("\t")[2] == "0", f"empty ASN CSV: exit {rc}, AS 0")
    # 11.9: bounded lines
    rc, out, err = run(["lookup", *DB, "--upstream-map", "/dev/zero", "1.2.3.4"], timeout=30)
    check(rc == 2 and b"/dev/zero:1: line too long" in err, f"--upstream-map /dev/zero: exit {rc}, {err[:200]!r}")
    rc, out, err = run(["lookup", *DB], stdin=open("/dev/zero", "rb"), timeout=30)
    check(rc == 2 and b"standard input:1: line too long" in err and len(err) < 300,
          f"lookup < /dev/zero: exit {rc}, {len(err)} bytes of stderr")
    rc, out, err = run(["lookup", *DB], input_=b"1.2.3.4\n" + b"a" * 50_000_000 + b"\n")
    check(rc == 2 and len(err) < 1000 and b"standard input:2: line too long" in err,
          f"lookup, 50 MB line: exit {rc}, {len(err)} bytes of stderr (no echo)")
    rc, out, err = run(["lookup", *DB], input_=b"1.2.3.4\x1b[31mred\n")
    check(rc == 1 and b"\x1b" not in err and b"\\x1b[31mred" in err, f"lookup: control bytes escaped: {err!r}")
    m = os.path.join(tmp, "ctl.map")
    with open(m, "wb") as f:
        f.write(b"prefix 10.0.0.0/8\x07\x1b[2J NAME\n")
    rc, out, err = run(["lookup", *DB, "--upstream-map", m, "1.2.3.4"])
    check(rc == 2 and b"\x1b" not in err and b"ctl.map:1: bad prefix '10.0.0.0/8\\x07\\x1b[2J'" in err,
          f"upstream map: control bytes escaped: {err!r}")


def load_cases(tmp):
    # 11.10: 200k interface rules and 200k prefix rules load well within 60 s
    # (the quadratic duplicate checks took 140 s for 100k interface rules)
    m = os.path.join(tmp, "big.map")
    with open(m, "w") as f:
        for i in range(200_000):
            f.write(f"interface if{i} U{i % 50}\n")
            a = (i * 2654435761) & 0xffffffff
            f.write(f"prefix {a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}/32 P{i % 50}\n")
    import time
    t = time.monotonic()
    rc, out, err = run(["lookup", *DB, "--upstream-map", m, "1.2.3.4"], timeout=60)
    check(rc == 0, f"400k upstream-map rules loaded in {time.monotonic() - t:.1f} s (exit {rc}, limit 60 s)")


def offset_cases(tmp):
    # 11.12: the offset named is where the damaged record starts (walked here)
    src = os.path.join(SHARED, "pcap", "NTPv4.pcap")
    data = open(src, "rb").read()
    off, recs = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(off)
        off += 16 + caplen
    k = len(recs) // 2
    p = os.path.join(tmp, "cut.pcap")
    open(p, "wb").write(data[:recs[k] + 20])
    for env in (None, {"GEOTAP_NO_MMAP": "1"}):
        rc, out, err = run(["analyze", *DB, "--bin", "0", "--format", "csv", p], env=env)
        check(rc == 2 and f"byte offset {recs[k]}, after {k} frames".encode() in err,
              f"cut pcap{' (libpcap)' if env else ''}: offset {recs[k]} named: {err.splitlines()[:1]}")
    src = os.path.join(SHARED, "pcap", "c1222.pcapng")
    data = open(src, "rb").read()
    off, blocks = 0, []
    while off + 8 <= len(data):
        btype, blen = struct.unpack("<II", data[off:off + 8])
        blocks.append((off, btype))
        off += blen
    epb = [o for o, t in blocks if t == 6]
    p = os.path.join(tmp, "cut.pcapng")
    open(p, "wb").write(data[:epb[2] + 30])
    rc, out, err = run(["analyze", *DB, "--bin", "0", "--format", "csv", p])
    check(rc == 2 and f"byte offset {epb[2]}, after 2 frames".encode() in err,
          f"cut pcapng: offset {epb[2]} named: {err.splitlines()[:1]}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        times_cases(tmp)
        input_cases(tmp)
        offset_cases(tmp)
        load_cases(tmp)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
