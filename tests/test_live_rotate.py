#!/usr/bin/python3
"""Rotating outputs (-o and --events with strftime names, rotate.h) and the
SIGUSR1 reopen for logrotate.

1. analyze of a synthetic 4-hour capture across the new year (GB all along,
   SE silent from 22:59:00 to 23:10 UTC) with
   -o DIR/%Y/%m/%d/traffic-%H.csv --events DIR/ev-%H.jsonl: the files are
   exactly the hand-computed names; each starts with the csv header; every
   row of a plain run of the same capture appears exactly once across them,
   in the file named by its own bin's time; every event too, in the file of
   its deciding bin (the drop decided by the 22:59 bin, at 23:00:00, is in
   ev-22).
2. live, 1 s bins, -o DIR/%H%M%S.csv while a capture is replayed on a veth pair:
   every file holds one bin, named by that bin's time, and the packets per
   country summed over the files are the capture's own (oracle: the frames
   written by this test).
3. live -o traffic.csv: after 3 s of replay, while live runs, the file already
   holds the closed bins' rows (flushed each bin, for tail -f); it is then
   renamed (as logrotate does), SIGUSR1; a new traffic.csv appears with a
   header and the following bins; no bin is in both files and the two
   together hold every packet sent.
Part 1 runs anywhere; 2 and 3 need root, netns and tcpreplay (else skipped)."""
import csv
import glob
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402

# The csv columns as the README lists them: the counts, then what geotap merge needs.
HEADER = ["time", "country", "packets_from", "bytes_from", "packets_to", "bytes_to",
          "flow_starts", "idle_ms", "first_ns", "last_ns", "bin_seconds", "bin_frames",
          "bin_drops", "bin_workers", "bin_keys"]
T2030 = 1798747200 + 1800          # 2026-12-31T20:30:00Z (date -u -d 2026-12-31T20:00:00Z +%s = 1798747200)


def rows(path):
    """(header, rows) of a csv file; (None, []) when it is empty."""
    with open(path) as f:
        r = list(csv.reader(f))
    return (r[0], [tuple(x) for x in r[1:]]) if r else (None, [])


def packets_by_cc(rowlist):
    """Packets from each source country (the home network only receives)."""
    out = {}
    for r in rowlist:
        if r[1] != "home":
            out[r[1]] = out.get(r[1], 0) + int(r[2])
    return out


def hour_name(ts):
    """'2026-12-31T22:59:00Z' -> ('2026', '12', '31', '22'), by hand."""
    return ts[0:4], ts[5:7], ts[8:10], ts[11:13]


def part_analyze(tmp):
    frames = L.scenario(T2030, {"GB": [(0, 4 * 3600)], "SE": [(0, 8940), (9600, 4 * 3600)]}, 2, 3)
    L.write_pcap(os.path.join(tmp, "multi.pcap"), frames)
    base = [L.GEOTAP, "analyze", "-q", "--bin", "60", "--country-db", L.TEST_DB, "--home-net", L.HOME]
    r = subprocess.run(base + ["-o", tmp + "/plain.csv", "--events", tmp + "/plain.ev", tmp + "/multi.pcap"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "plain analyze: %s" % r.stderr.strip())
    r = subprocess.run(base + ["-o", tmp + "/rot/%Y/%m/%d/traffic-%H.csv", "--events", tmp + "/rot/ev-%H.jsonl",
                               tmp + "/multi.pcap"], capture_output=True, text=True)
    check(r.returncode == 0, "rotating analyze: %s" % r.stderr.strip())
    want = ["2026/12/31/traffic-20.csv", "2026/12/31/traffic-21.csv", "2026/12/31/traffic-22.csv",
            "2026/12/31/traffic-23.csv", "2027/01/01/traffic-00.csv"]
    got = sorted(os.path.relpath(p, tmp + "/rot") for p in glob.glob(tmp + "/rot/*/*/*/*.csv"))
    check(got == want, "hourly files %r" % got)
    hdr, plain = rows(tmp + "/plain.csv")
    seen = []
    for name in got:
        h, rs = rows(os.path.join(tmp, "rot", name))
        check(h == HEADER, "%s starts with the header" % name)
        y, m, d, hh = name[0:4], name[5:7], name[8:10], name[-6:-4]
        check(all(hour_name(x[0]) == (y, m, d, hh) for x in rs), "%s: every row is of its hour" % name)
        seen += rs
    check(sorted(seen) == sorted(plain) and len(seen) == len(set(seen)),
          "the %d rows of the plain run, each once across the files (got %d)" % (len(plain), len(seen)))
    import json
    ev_plain = [json.loads(x) for x in open(tmp + "/plain.ev")]
    check([e["type"] for e in ev_plain] == ["drop_to_zero", "restored"] and
          ev_plain[0]["detected"] == "2026-12-31T23:00:00.000000Z",
          "the drop of SE decided by the 22:59 bin: %r" % [(e["type"], e["detected"]) for e in ev_plain])
    files = {os.path.basename(p): [json.loads(x) for x in open(p)] for p in glob.glob(tmp + "/rot/ev-*.jsonl")}
    check(files == {"ev-22.jsonl": ev_plain[:1], "ev-23.jsonl": ev_plain[1:]},
          "events by deciding bin: drop in ev-22, restored in ev-23 (%r)" % sorted(files))


def part_live(n):
    # 2. per-second files
    frames = L.scenario(0, {"GB": [(0, 6)], "US": [(0, 6)]}, 40, 4)
    L.write_pcap(n.path("six.pcap"), frames)
    sent = {"GB": sum(1 for f in frames if f[1] == L.SRC["GB"]), "US": sum(1 for f in frames if f[1] == L.SRC["US"])}
    out = n.path("sec")
    p = n.live(["--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME, "--format", "csv",
                "-o", out + "/%H%M%S.csv"], name="sec")
    n.replay(n.path("six.pcap"))
    time.sleep(1.5)
    check(n.stop(p) == 0, "live per-second: exit 0")
    files = sorted(glob.glob(out + "/*.csv"))
    allrows = []
    ok = True
    with_rows = empty = 0
    for f in files:
        h, rs = rows(f)
        times = {r[0] for r in rs}
        name = os.path.basename(f)[:-4]
        # A bin before the replay's first frame (tcpreplay starting late on a
        # loaded machine) has no key yet: its file holds the header only. The
        # file opened at start (before -Z could take the right to create it)
        # stays empty when the first bin is of a later second (a slow start).
        if h is None:
            empty += 1
            continue
        ok &= h == HEADER and len(times) <= 1 and all(t[11:13] + t[14:16] + t[17:19] == name for t in times)
        with_rows += len(times)
        allrows += rs
    check(with_rows >= 6 and ok and empty <= 1, "%d per-second files (%d with rows, %d empty), each one bin named by its time"
          % (len(files), with_rows, empty))
    check(packets_by_cc(allrows) == sent, "packets per country over the files %r == sent %r"
          % (packets_by_cc(allrows), sent))

    # 3. logrotate, mid-replay: rename, SIGUSR1, a new file at the same path
    path = n.path("traffic.csv")
    p = n.live(["--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME, "--format", "csv", "-o", path],
               name="usr1")
    replay = n.replay_bg(n.path("six.pcap"))
    time.sleep(3)
    # Each closed bin is in the file at once, not when the process ends (or
    # stdio's buffer fills): what an operator tailing it sees.
    now = time.time()
    h0, r0 = rows(path)
    closed = [r for r in r0 if L.parse_time(r[0]) + 1 <= now]
    check(p.poll() is None and h0 == HEADER and closed,
          "while live runs, %s holds the rows of the bins closed so far (%d)" % (os.path.basename(path), len(closed)))
    os.rename(path, path + ".1")
    p.send_signal(signal.SIGUSR1)
    time.sleep(1.5)
    check(os.path.exists(path), "SIGUSR1 after the rename: a new %s within 1.5 s" % os.path.basename(path))
    replay.wait(timeout=60)
    time.sleep(1.5)
    check(n.stop(p) == 0, "live with SIGUSR1: exit 0")
    h1, r1 = rows(path + ".1")
    h2, r2 = rows(path)
    check(h1 == HEADER and h2 == HEADER, "both files start with the header")
    t1, t2 = {r[0] for r in r1}, {r[0] for r in r2}
    check(r1 and r2 and not (t1 & t2) and max(t1) < min(t2),
          "no bin in both files, the new one has the following bins (%d + %d bins)" % (len(t1), len(t2)))
    total = packets_by_cc(r1 + r2)
    check(total == sent, "the two files hold every packet sent %r" % total)


def main():
    import tempfile
    import shutil
    tmp = tempfile.mkdtemp(prefix="geotap-rot-")
    try:
        part_analyze(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if os.geteuid() != 0:
        print("SKIP: live parts (not root)")
        L.finish()
    n = L.Netns("gtro")
    try:
        part_live(n)
    finally:
        n.close()
    L.finish()


main()
