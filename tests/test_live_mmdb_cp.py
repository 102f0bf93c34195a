#!/usr/bin/python3
"""A country DB replaced by cp (rewritten in place) while geotap live runs and
SIGHUPs reload it: the sensor must not crash, counts stay exact, failed
reloads are counted and named.

The DB is the real GeoLite2-Country.mmdb (4 MB, from scripts/setup's cache),
copied to a private path. While tcpreplay sends teams.pcap from a
network namespace (3 times):
  1. the file is truncated and half of it written (what cp leaves mid-copy),
     SIGHUP: the reload fails with a line naming the file, the sensor goes on;
     the rest is written, SIGHUP: it reloads;
  2. a loop of `cp BIG PATH` runs while a SIGHUP is sent every 100 ms.
Oracles: the process is alive throughout and exits 0; capinfos' frame count
times 3 is what was counted; the packets per country equal `geotap analyze`
of the same pcap with the same DB, times 3 (the DB content never changes, so
every classifier that ran gives the same countries); the summary's failed
reloads are at least the one of step 1, and each failure is logged.
Root only; skips (77) without root, netns, tcpreplay or the GeoLite2 DB
(under CI=true a missing DB fails)."""
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402
from test_tshark_compare import default_db  # noqa: E402

LOOPS = 3


def per_country(text):
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        c = out.setdefault(r["country"], [0, 0])
        c[0] += int(r["packets_from"])
        c[1] += int(r["packets_to"])
    return {k: v for k, v in out.items() if v != [0, 0]}


def main():
    big = default_db()
    if not os.access(big, os.R_OK):
        L.skip("no %s (scripts/setup fetches it)" % big)
    pcap = os.path.join(L.SHARED, "pcap", "teams.pcap")
    if not shutil.which("capinfos"):
        L.skip("no capinfos")
    n = L.Netns("gtcp")
    try:
        db = n.path("country.mmdb")
        shutil.copy(big, db)
        cls = ["--country-db", db, "--asn-db", L.TEST_ASN]
        r = subprocess.run([L.GEOTAP, "analyze", "-q", "--bin", "0", "--format", "csv"] + cls + [pcap],
                           capture_output=True, text=True)
        want = {k: [v[0] * LOOPS, v[1] * LOOPS] for k, v in per_country(r.stdout).items()}
        nframes = int(subprocess.run(["capinfos", "-M", "-c", "-T", pcap], capture_output=True,
                                     text=True).stdout.splitlines()[1].split("\t")[1])
        out = n.path("live.csv")
        # a ring that holds the whole replay: a worker starved of CPU by the
        # compiles (under sanitizers, on a loaded machine) catches up instead of dropping
        live = n.live(["--bin", "1", "-B", "64", "--format", "csv", "-o", out] + cls)
        replay = n.replay_bg(pcap, ["--pps", "800", "--loop", str(LOOPS)])

        # 1. half a file, as cp leaves it mid-copy
        data = open(big, "rb").read()
        with open(db, "r+b") as f:
            f.truncate(0)
            f.write(data[:len(data) // 2])
            f.flush()
            live.send_signal(signal.SIGHUP)
            end = time.time() + 20
            while "reload failed" not in n.log("live") and time.time() < end and live.poll() is None:
                time.sleep(0.05)
            check("reload failed" in n.log("live") and db in n.log("live"),
                  "the half-written DB: the reload failed, naming the file")
            f.write(data[len(data) // 2:])
        live.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        check(live.poll() is None, "alive after the half-written DB")

        # 2. cp in a loop over the live file, SIGHUPs meanwhile
        stop = threading.Event()
        copies = [0]

        def cp_loop():
            while not stop.is_set():
                subprocess.run(["cp", big, db])
                copies[0] += 1
        th = threading.Thread(target=cp_loop)
        th.start()
        hups = 0
        while replay.poll() is None and live.poll() is None:
            live.send_signal(signal.SIGHUP)
            hups += 1
            time.sleep(0.1)
        stop.set()
        th.join()
        check(live.poll() is None, "alive through %d SIGHUPs during %d copies" % (hups, copies[0]))
        time.sleep(3)
        rc = n.stop(live)
        err = n.log("live")
        print("\n".join(x for x in err.splitlines() if "reload failed" not in x))
        check(rc == 0, "exit 0 (got %r)" % rc)
        check(L.summary_frames(err) == nframes * LOOPS, "counted %r frames, capinfos x %d = %d"
              % (L.summary_frames(err), LOOPS, nframes * LOOPS))
        got = per_country(open(out).read())
        check(got == want, "packets per country equal analyze x %d (%d countries)" % (LOOPS, len(want)))
        if got != want:
            print("live   ", sorted(got.items()))
            print("analyze", sorted(want.items()))
        line = [x for x in err.splitlines() if x.startswith("geotap live: reloads:")]
        failed_lines = err.count("reload failed")
        f = line[0].split() if line else []
        check(len(f) >= 6 and int(f[5]) >= 1 and int(f[5]) == failed_lines,
              "failed reloads counted (%r) and each logged (%d lines)" % (line, failed_lines))
    finally:
        n.close()
    L.finish()


main()
