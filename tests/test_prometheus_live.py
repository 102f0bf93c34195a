#!/usr/bin/python3
"""geotap live's /metrics against a real Prometheus (Debian prometheus),
capturing on a veth pair fed by tcpreplay from a private network namespace.

  scrape      Prometheus scrapes the sensor every second; after the replay its
              API (/api/v1/query) gives, per country and direction, the last
              sample of geotap_packets_total equal to `geotap analyze` of the
              replayed file and to the oracle (tshark per address, mmdblookup
              per address); frames = capinfos; promtool check metrics is clean;
              bins keep closing once the link is silent.
  reload      ten SIGHUPs during a 16 s replay, each after the country database
              was replaced (rename) by the other of two that differ (MaxMind's
              GeoLite2-Country-Test and one written here with countries the
              first lacks): sum of geotap_packets_total{direction="from"} =
              frames sent, no drops, 10 successful reloads, the new countries
              counted, and the countries of addresses both databases agree on
              exact (addresses they disagree on: exact per group of countries).
  sigterm     SIGTERM mid-replay (the replay frozen with SIGSTOP, so the
              interface's rx counter is the count received): the summary, the
              -o rows (the last partial bin included) equal that count, no
              drops, and the --state file is written and loads.
  privileges  -Z nobody with --listen on port 981: bound as root before the
              drop, then Uid in /proc/PID/status is nobody's and /metrics answers.
Root only; skips (77) otherwise, or fails under CI=true."""
import calendar
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmdb_write  # noqa: E402
from prometheus_harness import (GEOTAP, SHARED, Geotap, Prometheus, by_label, capinfos_count, check,  # noqa: E402
                                finish, mmdb_country, need, rx_packets, sh, skip, tmpdir,
                                tshark_addr_counts, veth, write_pcap)

DB1 = os.path.join(SHARED, "mmdb", "GeoLite2-Country-Test.mmdb")
# Networks of MaxMind's test database, and some that are in neither.
ADDRS = ["81.2.69.142", "81.2.69.160", "89.160.20.112", "89.160.20.129", "216.160.83.57", "202.196.224.5",
         "67.43.156.7", "175.16.199.9", "198.51.100.7", "2001:218::1", "2001:218:1::2", "2001:db8::9"]
# The second database: same countries for most, others for two networks
# (KP, NZ: countries the first one lacks, so a reload adds keys).
DB2_NETS = [("81.2.69.0/24", "GB"), ("89.160.20.0/24", "SE"), ("216.160.83.0/24", "US"),
            ("202.196.224.0/20", "PH"), ("2001:218::/32", "JP"), ("67.43.156.0/24", "KP"),
            ("175.16.199.0/24", "NZ")]


def expected(pcap, dbs):
    """Oracle per direction: {frozenset(countries): frames} over groups of
    countries linked by addresses the databases disagree on (a singleton
    group: a country all databases agree on for every address it has)."""
    src, dst = tshark_addr_counts(pcap)
    cc = {a: [mmdb_country(db, a) for db in dbs] for a in set(src) | set(dst)}
    parent = {}

    def root(c):
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c
    for cs in cc.values():
        for c in cs[1:]:
            parent[root(c)] = root(cs[0])
    out = {}
    for name, counts in (("from", src), ("to", dst)):
        groups = {}
        for a, n in counts.items():
            g = root(cc[a][0])
            groups[g] = groups.get(g, 0) + n
        members = {}
        for c in parent:
            members.setdefault(root(c), set()).add(c)
        out[name] = {frozenset(members[g]): n for g, n in groups.items()}
    return out, cc


def prom_by_country(prom, direction):
    return by_label(prom.query('geotap_packets_total{direction="%s"}' % direction), "country")


def replay(ns, b, pcap, pps):
    return subprocess.Popen(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", b, "--pps", str(pps), pcap],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def analyze_counts(pcap, db):
    r = sh(GEOTAP, "analyze", "--country-db", db, "--bin", "0", "--format", "csv", pcap)
    out = {"from": {}, "to": {}}
    for line in r.stdout.splitlines()[1:]:
        f = line.split(",")
        out["from"][f[1]] = out["from"].get(f[1], 0) + int(f[2])
        out["to"][f[1]] = out["to"].get(f[1], 0) + int(f[4])
    return out


def scrape():
    need("ip", "tcpreplay", "prometheus", "promtool", "tshark", "capinfos", "mmdblookup")
    d = tmpdir()
    ns, a, b = veth("gpsc")
    pcap = os.path.join(d, "replay.pcap")
    write_pcap(pcap, ADDRS, 6000, seed=1)
    n = capinfos_count(pcap)
    g = Geotap(d, ["-i", a, "--country-db", DB1, "--bin", "1", "--format", "csv", "-o", os.path.join(d, "live.csv"),
                   "--events", os.path.join(d, "events.jsonl"), "--duration", "50"])
    prom = Prometheus(d, ["127.0.0.1:%d" % g.port])
    check(prom.wait_for("up", 1, 15) == 1, "Prometheus scrapes the sensor (up == 1)")
    r = replay(ns, b, pcap, 3000)
    r.wait(timeout=30)
    ip = 'sum(geotap_frames_total{result="ip"})'
    got = prom.wait_for(ip, n, 20)
    check(got == n, 'sum(geotap_frames_total{result="ip"}) = %s, capinfos: %d frames' % (got, n))
    time.sleep(2)   # one more scrape of the same figures: nothing moves after the last bin
    ana = analyze_counts(pcap, DB1)
    oracle, _ = expected(pcap, [DB1])
    for direction in ("from", "to"):
        p = {c: int(v) for c, v in prom_by_country(prom, direction).items()}
        check(p == ana[direction], "direction=%s: Prometheus %s, geotap analyze %s" % (direction, p, ana[direction]))
        o = {next(iter(k)): v for k, v in oracle[direction].items()}
        check(p == o, "direction=%s: Prometheus = tshark + mmdblookup %s" % (direction, o))
    check(prom.scalar("sum(geotap_capture_drops_total)") == 0, "geotap_capture_drops_total = 0")
    # The link is silent now: bins still close (zero rows for the keys seen).
    rows0 = len(open(os.path.join(d, "live.csv")).read().splitlines())
    time.sleep(2.5)
    rows1 = len(open(os.path.join(d, "live.csv")).read().splitlines())
    check(rows1 - rows0 >= 2 * 7, "silent link: %d more -o rows in 2.5 s (zero bins of 7 keys)" % (rows1 - rows0))
    text = g.metrics()
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    check(lint.returncode == 0, "promtool check metrics on /metrics: %s" % (lint.stdout + lint.stderr).strip())
    for name in ("geotap_key_state", "geotap_expected_rate", "geotap_flow_starts_total", "geotap_build_info",
                 "process_start_time_seconds", "geotap_last_packet_timestamp_seconds"):
        check(prom.scalar("count(%s)" % name) is not None, "Prometheus has %s" % name)
    check(g.stop() == 0, "geotap live exits 0 on SIGTERM")


def reload():
    need("ip", "tcpreplay", "prometheus", "tshark", "capinfos", "mmdblookup")
    d = tmpdir()
    ns, a, b = veth("gprl")
    db2 = os.path.join(d, "db2.mmdb")
    mmdb_write.write(db2, DB2_NETS, 1760000000)
    live_db = os.path.join(d, "country.mmdb")
    shutil.copy(DB1, live_db)
    pcap = os.path.join(d, "replay.pcap")
    write_pcap(pcap, ADDRS, 32000, seed=2)
    n = capinfos_count(pcap)
    os.environ["GEOTAP_CACHE_DIR"] = os.path.join(d, "cache")
    csv = os.path.join(d, "live.csv")
    g = Geotap(d, ["-i", a, "--country-db", live_db, "--bin", "1", "--format", "csv", "-o", csv,
                   "--events", os.path.join(d, "events.jsonl"), "--duration", "55"])
    prom = Prometheus(d, ["127.0.0.1:%d" % g.port])
    check(prom.wait_for("up", 1, 15) == 1, "Prometheus scrapes the sensor (up == 1)")
    res = {}   # the oracle (tshark, mmdblookup) meanwhile: the replay waits on the clock anyway
    th = threading.Thread(target=lambda: res.update(o=expected(pcap, [DB1, db2])))
    th.start()
    t0 = time.monotonic()
    r = replay(ns, b, pcap, 2000)   # 16 s
    for i in range(10):
        time.sleep(1.3)
        tmp = live_db + ".new"
        shutil.copy(db2 if i % 2 == 0 else DB1, tmp)
        os.rename(tmp, live_db)     # readers never see a half-written file
        g.p.send_signal(signal.SIGHUP)
    out, _ = r.communicate(timeout=40)
    check(r.returncode == 0, "tcpreplay sent the file (%.1f s)" % (time.monotonic() - t0))
    frm = 'sum(geotap_packets_total{direction="from"})'
    got = prom.wait_for(frm, n, 20)
    check(got == n, 'sum(geotap_packets_total{direction="from"}) = %s, frames sent (capinfos): %d' % (got, n))
    check(prom.scalar("sum(geotap_capture_drops_total)") == 0, "geotap_capture_drops_total = 0 (the kernel dropped none)")
    check(prom.scalar('geotap_reloads_total{result="success"}') == 10, "10 successful reloads")
    check(prom.scalar('geotap_reloads_total{result="failure"}') == 0, "no failed reload")
    th.join()
    oracle, cc = res["o"]
    only2 = {c[1] for c in cc.values()} - {c[0] for c in cc.values()}
    for direction in ("from", "to"):
        p = prom_by_country(prom, direction)
        for group, want in sorted(oracle[direction].items(), key=lambda kv: sorted(kv[0])):
            have = int(sum(p.get(c, 0) for c in group))
            what = "country %s" % next(iter(group)) if len(group) == 1 else "countries %s together" % "+".join(sorted(group))
            check(have == want, "direction=%s %s: %d, oracle %d" % (direction, what, have, want))
        for c in sorted(only2):
            check(p.get(c, 0) > 0, "direction=%s: %s (only in the second database) counted after a reload" % (direction, c))
    epoch = prom.query("geotap_build_info")
    check(any(dict(k).get("country_db_build_epoch") == str(mmdb_epoch(DB1)) for k in epoch),
          "geotap_build_info names the database loaded last")
    check(g.stop() == 0, "geotap live exits 0 on SIGTERM")
    rows = [line.split(",") for line in open(csv).read().splitlines()[1:]]
    check(sum(int(f[2]) for f in rows) == n, "-o rows: packets_from sums to the frames sent")
    check({f[1] for f in rows} >= only2, "-o rows name the new countries %s" % sorted(only2))
    check("reload failed" not in g.stderr(), "no reload failed: " + g.stderr()[-300:])


def mmdb_epoch(db):
    r = sh("mmdblookup", "-f", db, "-v", "-i", "127.0.0.1", check_rc=False)
    for line in r.stdout.splitlines():
        if "Build epoch:" in line:
            return int(line.split()[2])
    return None


def sigterm():
    need("ip", "tcpreplay", "capinfos")
    d = tmpdir()
    ns, a, b = veth("gpst")
    pcap = os.path.join(d, "replay.pcap")
    write_pcap(pcap, ADDRS, 30000, seed=3)
    csv, state = os.path.join(d, "live.csv"), os.path.join(d, "state.bin")
    g = Geotap(d, ["-i", a, "--workers", "2", "--country-db", DB1, "--bin", "1", "--format", "csv", "-o", csv,
                   "--events", os.path.join(d, "events.jsonl"), "--state", state, "--duration", "50"])
    base = rx_packets(a)
    r = replay(ns, b, pcap, 3000)   # 10 s
    time.sleep(3)
    r.send_signal(signal.SIGSTOP)   # mid-replay: the link goes quiet, the rx counter is final
    t_stop = time.time()
    time.sleep(0.05)
    received = rx_packets(a) - base
    rc = g.stop()
    r.send_signal(signal.SIGCONT)
    r.kill()
    r.wait()
    err = g.stderr()
    print(err)
    check(rc == 0, "geotap live exits 0 on SIGTERM")
    check(0 < received < 30000, "SIGTERM mid-replay: %d of 30000 frames received by %s (its rx counter)" % (received, a))
    check("geotap: %d frames" % received in err, "the summary counts the %d frames received" % received)
    check("drops: 0 by the kernel, 0 by the interface" in err, "no drops")
    rows = [line.split(",") for line in open(csv).read().splitlines()[1:]]
    check(sum(int(f[2]) for f in rows) == received, "-o rows: packets_from sums to the frames received")
    last = max(calendar.timegm(time.strptime(f[0], "%Y-%m-%dT%H:%M:%SZ")) for f in rows) if rows else 0
    check(last >= int(t_stop) - 1, "the last bin written (%s) is the partial one at the SIGTERM (%d)" % (last, t_stop))
    check(os.path.getsize(state) > 0 if os.path.exists(state) else False, "--state file written at exit")
    copy = os.path.join(d, "state.copy")
    shutil.copy(state, copy)
    ld = sh(GEOTAP, "analyze", "--country-db", DB1, "--bin", "1", "--state", copy, "--events", os.devnull,
            "-o", os.devnull, pcap, check_rc=False)
    check(ld.returncode == 0 and "no learned state" not in ld.stderr, "the state file loads: " + ld.stderr.strip()[-200:])


def privileges():
    need("ip", "curl")
    d = tmpdir()
    uid = sh("id", "-u", "nobody", check_rc=False).stdout.strip()
    if not uid:
        skip("no user nobody")
    ns = "gppv%d" % (os.getpid() % 100000)
    if sh("ip", "netns", "add", ns, check_rc=False).returncode != 0:
        skip("cannot create a network namespace")
    try:
        sh("ip", "link", "set", "lo", "up", ns=ns)
        g = Geotap(d, ["-i", "lo", "-Z", "nobody", "--listen", "127.0.0.1:981", "--country-db", DB1, "--bin", "1",
                       "--format", "csv", "-o", os.devnull, "--duration", "30"], ns=ns)
        seen, t = "", time.monotonic()
        while time.monotonic() - t < 10:
            try:
                with open("/proc/%d/status" % g.p.pid) as f:
                    seen = next(line.split()[1] for line in f if line.startswith("Uid:"))
            except (OSError, StopIteration):
                pass
            if seen == uid:
                break
            time.sleep(0.1)
        check(seen == uid, "Uid in /proc/PID/status is %s, nobody is %s" % (seen, uid))
        m = sh("curl", "-sf", "http://127.0.0.1:981/metrics", ns=ns, check_rc=False)
        check(m.returncode == 0 and "geotap_build_info{" in m.stdout,
              "/metrics on port 981 (bound before the drop) answers as nobody")
        check(g.stop() == 0, "geotap live -Z exits 0 on SIGTERM")
    finally:
        sh("ip", "netns", "del", ns, check_rc=False)


if __name__ == "__main__":
    if not GEOTAP or not SHARED:
        print("GEOTAP_BIN and GEOTAP_SHARED must be set")
        sys.exit(2)
    {"scrape": scrape, "reload": reload, "sigterm": sigterm, "privileges": privileges}[sys.argv[1]]()
    finish()
