#!/usr/bin/env python3
"""Integration: geotap analyze's behaviour on bad input (issue 2).

  * missing / corrupt / truncated country database, or a directory given as
    one: exit 2, one stderr line naming the file;
  * nonexistent or empty capture: exit 2, naming it;
  * bad option values (--bin, --format): non-zero exit, naming the value;
  * a pcap cut in the middle of a record (data, then header): exit 2, a line
    naming the file, and the counts of what was read still written, equal to
    tshark's counts of the intact prefix (tshark -c N on the original file,
    N = records wholly before the cut, computed here from the pcap format).

Exit 0 pass, 1 fail (also when geotap has no working `analyze`).
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_oracle  # noqa: E402
from test_tshark_compare import default_db, diff_counts, has_analyze, parse_geotap_csv  # noqa: E402

# A classic-format Ethernet capture with public addresses from many
# countries (47 per the oracle), IPv4 and IPv6.
TRUNC_SOURCE = "gnutella.pcap"

from checks import check, failures  # noqa: E402


def analyze(binary, *args):
    try:
        p = subprocess.run([binary, "analyze", *args], capture_output=True, text=True,
                           errors="replace", stdin=subprocess.DEVNULL, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return -999, "", "(geotap did not finish within 60 s: hang?)"
    return p.returncode, p.stdout, p.stderr


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


def expect_fatal(binary, what, name, args, rc_wanted=2, one_line=True):
    rc, out, err = analyze(binary, *args)
    ok = check(rc == rc_wanted if rc_wanted is not None else rc > 0,
               f"{what}: exit {rc}, want {rc_wanted if rc_wanted is not None else 'non-zero'}")
    ok &= check(name in err, f"{what}: stderr names {name!r}")
    if one_line:
        ok &= check(len(lines(err)) == 1, f"{what}: one stderr line (got {len(lines(err))})")
    if not ok:
        print("     stderr: " + " | ".join(lines(err)[:5]))


def pcap_records(path):
    """(header length, [(offset, caplen)]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    recs, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        recs.append((off, caplen))
        off += 16 + caplen
    return data, recs


def truncated_case(binary, db, src, tmp, label, cut_of):
    """Cuts src at cut_of(record offset, caplen) of its middle record."""
    data, recs = pcap_records(src)
    k = len(recs) // 2
    off, caplen = recs[k]
    cut = cut_of(off, caplen)
    path = os.path.join(tmp, f"cut-{label}.pcap")
    with open(path, "wb") as f:
        f.write(data[:cut])
    rc, out, err = analyze(binary, "--bin", "0", "--format", "csv", "--country-db", db, path)
    check(rc == 2, f"truncated pcap ({label}, byte {cut} of {len(data)}): exit {rc}, want 2")
    named = [l for l in lines(err) if os.path.basename(path) in l]
    check(bool(named), f"truncated pcap ({label}): a stderr line names the file")
    try:
        got = parse_geotap_csv(out)
    except ValueError as e:
        check(False, f"truncated pcap ({label}): counts still written ({e})")
        return
    # Independent: tshark on the ORIGINAL file, first k frames only.
    want = tshark_oracle.oracle(src, db, count=k)
    check(want["stats"]["frames"] == k, f"truncated pcap ({label}): tshark read {k} frames of the prefix")
    d = diff_counts(got, want["countries"])
    check(not d and got, f"truncated pcap ({label}): counts of the {k} intact records equal "
          f"tshark -c {k} ({len(want['countries'])} countries)")
    for l in d:
        print(l)


def main():
    binary = os.environ.get("GEOTAP_BIN")
    shared = os.environ.get("GEOTAP_SHARED")
    db = os.environ.get("GEOTAP_COUNTRY_DB") or default_db()
    if not binary or not shared or not os.path.isfile(db):
        print("test_cli_errors: need GEOTAP_BIN, GEOTAP_SHARED and the country database")
        return 1
    if not has_analyze(binary):
        print(f"{binary} has no working 'analyze --help'")
        return 1
    pcap = os.path.join(shared, "pcap", TRUNC_SOURCE)
    common = ["--bin", "0", "--format", "csv"]
    with tempfile.TemporaryDirectory(prefix="gt-cli-errors.") as tmp:
        missing_db = os.path.join(tmp, "no-such-dir", "Missing-Country.mmdb")
        expect_fatal(binary, "missing database", missing_db,
                     common + ["--country-db", missing_db, pcap])

        garbage_db = os.path.join(tmp, "garbage.mmdb")
        with open(garbage_db, "wb") as f:
            f.write(b"this is not a MaxMind database\n" * 200)
        expect_fatal(binary, "corrupt database (garbage)", garbage_db,
                     common + ["--country-db", garbage_db, pcap])

        half_db = os.path.join(tmp, "half.mmdb")
        with open(db, "rb") as f:
            blob = f.read()
        with open(half_db, "wb") as f:
            f.write(blob[:len(blob) // 2])  # loses the metadata section at the end
        expect_fatal(binary, "corrupt database (first half)", half_db,
                     common + ["--country-db", half_db, pcap])

        expect_fatal(binary, "database is a directory", tmp,
                     common + ["--country-db", tmp, pcap])

        missing_pcap = os.path.join(tmp, "no-such-capture.pcap")
        expect_fatal(binary, "nonexistent capture", missing_pcap,
                     common + ["--country-db", db, missing_pcap], one_line=False)

        empty_pcap = os.path.join(tmp, "empty.pcap")
        open(empty_pcap, "wb").close()
        expect_fatal(binary, "empty capture", empty_pcap,
                     common + ["--country-db", db, empty_pcap], one_line=False)

        expect_fatal(binary, "bad --bin value", "xyz",
                     ["--bin", "xyz", "--country-db", db, pcap], rc_wanted=None, one_line=False)
        expect_fatal(binary, "bad --format value", "xml",
                     ["--format", "xml", "--country-db", db, pcap], rc_wanted=None, one_line=False)

        truncated_case(binary, db, pcap, tmp, "inside-data",
                       lambda off, caplen: off + 16 + max(1, caplen // 2))
        truncated_case(binary, db, pcap, tmp, "inside-record-header",
                       lambda off, caplen: off + 8)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
