#!/usr/bin/python3
"""geotap analyze --report in a real browser (headless Debian Chromium).

The demo scenario (bench/gen_scenario --preset kp2014, lower rate): from
file://, after the scripts ran, the page holds one chart per top key plus
every key with an event (the count follows from the scenario's labels, the
generator's ground truth), KP's chart has an outage span whose times equal
the events file's last_seen/first_seen and whose pixels sit where those
times fall on the 20-hour axis, one table row per event line, the map's KP
outlined; no console message at error level; no request but the page
itself (performance log); KP's expected-rate line near the event's rate.
Then reports of a 1-packet capture, a capture with no IP packet and 100k
one-second bins (with one silent bin that the chart must still show as a
zero) open without error; a capture gap is shaded on every chart over the
gap event's span; --by asn and --by country,asn,upstream pages open, and
one with thousands of ASNs keeps to the top 500 and "other"; an
unwritable report and missing libraries are one error line, exit 2. Screenshots go to
BUILD/test-artefacts/ and must not be blank."""
import json
import os
import struct
import subprocess
import sys
import tempfile
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402

GEOTAP = os.environ["GEOTAP_BIN"]
SRC = os.environ["GEOTAP_SRC"]
BUILD = os.environ["GEOTAP_BUILD"]
SHARED = os.environ["GEOTAP_SHARED"]
ART = os.path.join(BUILD, "test-artefacts")
TEST_DB = os.path.join(SHARED, "mmdb", "GeoLite2-Country-Test.mmdb")
TEST_ASN = os.path.join(SHARED, "mmdb", "GeoLite2-ASN-Test.mmdb")
from checks import check, failures  # noqa: E402


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def write_pcap(path, frames, linktype=1):
    """frames: (time in s, bytes) in order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for t, data in frames:
            f.write(struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)), len(data), len(data)))
            f.write(data)


def ipv4_udp(src, dst):
    """Raw IPv4/UDP datagram (linktype 101, raw IP), header checksum left 0."""
    a = bytes(int(x) for x in src.split(".")) + bytes(int(x) for x in dst.split("."))
    return struct.pack("!BBHHHBBH", 0x45, 0, 28, 0, 0, 64, 17, 0) + a + struct.pack("!HHHH", 1234, 53, 8, 0)


def analyze(args, pcap, report):
    cmd = [GEOTAP, "analyze", "-q", "--format", "csv", "-o", os.devnull, "--report", report] + args + [pcap]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, "analyze --report exit 0 (%s): %s" % (os.path.basename(pcap), r.stderr.strip()[:300]))
    check(os.path.getsize(report) < 4_000_000, "%s under 4 MB (%d bytes)" % (report, os.path.getsize(report)))


def open_clean(b, report, name):
    """Load report from file://; no console error, no request but the page; a non-blank screenshot."""
    url = "file://" + os.path.abspath(report)
    b.load(url)
    console, urls = b.logs()
    errors = [c for c in console if c["level"] in ("SEVERE", "ERROR")]
    check(not errors, name + ": no console error (%s)" % errors[:3])
    net = browser.Browser.network(urls)
    check(net == [url], name + ": no request but the page itself (%s)" % net[:5])
    st = b.screenshot(os.path.join(ART, "report-%s.png" % name))
    check(st.get("distinct", 0) >= 8 and st.get("nonwhite", 0) > 0.02,
          name + ": screenshot not blank (%s)" % st)
    return st


def demo(b, tmp):
    pcap, labels = os.path.join(tmp, "kp.pcap"), os.path.join(tmp, "kp.labels")
    binsf = os.path.join(tmp, "kp.bins")
    subprocess.run([os.path.join(BUILD, "bench", "gen_scenario"), "--preset", "kp2014", "--seed", "1",
                    "--rate-scale", "0.25", "--labels", labels, "--pcap", pcap, "--bins", binsf],
                   check=True, stdout=subprocess.DEVNULL, timeout=300)
    events, report = os.path.join(tmp, "kp.events"), os.path.join(tmp, "kp.html")
    analyze(["--home-net", "192.0.2.0/24", "--routes", os.path.join(SRC, "bench/data/kp2014-routes.txt.gz"),
             "--events", events], pcap, report)
    ev = [json.loads(line) for line in open(events)]
    lab = [json.loads(line) for line in open(labels)]
    scen = lab[0]
    # the busiest keys by the packets the generator wrote (its per-bin counts:
    # flows are heavy-tailed, so the rates alone do not rank them)
    klab = [x for x in lab if x.get("type") == "key"]
    tot = [0] * len(klab)
    for line in open(binsf):
        p = line.split()
        if p and p[0] == "K":
            tot[int(p[1])] += int(p[2])
    keys = [klab[i] for i in sorted(range(len(klab)), key=lambda i: -tot[i])]
    drop = [e for e in ev if e["type"] == "drop_to_zero" and e["key"].get("country") == "KP"]
    rest = [e for e in ev if e["type"] == "restored" and e["key"].get("country") == "KP"]
    check(len(drop) == 1 and len(rest) == 1, "events file: one KP drop and one KP restoration")
    open_clean(b, report, "demo")

    # Charts: the 12 busiest keys (by the scenario's rates; home is not charted) and every event key.
    top = [k["country"] for k in keys[:12]]
    ev_cc = {e["key"].get("country") for e in ev if e["type"] != "capture_gap"}
    want = 12 + len(ev_cc - set(top))
    charts = b.js("return Array.from(document.querySelectorAll('.chart')).map(c => c.dataset.key)")
    check(len(charts) == want, "%d charts (want %d: top 12 + event keys)" % (len(charts), want))
    check(set(top[:8]) <= set(charts), "the 8 busiest countries of the scenario are charted")
    check("KP" in charts and "home" not in charts, "KP charted, home not")
    check(len(b.js("return document.querySelectorAll('.chart canvas')")) == len(charts), "every chart drew a canvas")

    # KP's outage span: times from the events file, pixels where those times fall on the axis.
    sp = b.js("""
        const c = document.querySelector('.chart[data-key="KP"]');
        const s = c && c.querySelector('.span.outage');
        if (!s) return null;
        const o = c.querySelector('.u-over').getBoundingClientRect(), r = s.getBoundingClientRect();
        return {from: +s.dataset.from, to: +s.dataset.to, left: (r.left - o.left) / o.width,
                right: (r.right - o.left) / o.width, h: r.height / o.height};""")
    check(sp is not None, "KP's chart has an outage span")
    if sp and drop and rest:
        t_last, t_first = ts(drop[0]["last_seen"]), ts(rest[0]["first_seen"])
        check(abs(sp["from"] - t_last) < 0.01 and abs(sp["to"] - t_first) < 0.01,
              "KP span %s .. %s = events' last_seen .. first_seen" % (
                  datetime.utcfromtimestamp(sp["from"]).strftime("%H:%M:%S"),
                  datetime.utcfromtimestamp(sp["to"]).strftime("%H:%M:%S")))
        check(datetime.utcfromtimestamp(t_last).strftime("%H:%M") in ("16:14", "16:15")
              and datetime.utcfromtimestamp(t_first).strftime("%H:%M") in ("01:45", "01:46"),
              "the outage runs from about 16:14 to about 01:46 UTC")
        span = scen["end_s"] - scen["start_s"]
        fl, fr = (t_last - scen["start_s"]) / span, (t_first - scen["start_s"]) / span
        check(abs(sp["left"] - fl) < 0.01 and abs(sp["right"] - fr) < 0.01 and sp["h"] > 0.9,
              "span drawn at %.3f..%.3f of the axis (times give %.3f..%.3f)" % (sp["left"], sp["right"], fl, fr))
    # The expected rate drawn at the decision is close to the one the event reports
    # (the line samples gt_anomaly_expected_rate per bin; the event keeps its frozen r0).
    if drop:
        e = b.js("""const c = GT.data.charts.filter(c => c.label === 'KP')[0], g = GT.grid(GT.data);
                    const j = Math.floor((%f - g.t0) / (g.step * g.w)); return c.e0 ? c.e0[j] : null;"""
                 % (ts(drop[0]["detected"]) - 30))
        check(e is not None and abs(e - drop[0]["expected_rate"]) <= 0.2 * drop[0]["expected_rate"],
              "KP's expected-rate line at the detection: %s pkt/s, the event says %.3f" % (e, drop[0]["expected_rate"]))
    others = b.js("return document.querySelectorAll('.chart:not([data-key=\"KP\"]) .span.outage').length")
    check(others == 0, "no outage span on any other chart")

    rows = b.js("return Array.from(document.querySelectorAll('#events tbody tr')).map(r => r.dataset.type)")
    check(rows == [e["type"] for e in ev], "one event row per events-file line, in order (%s)" % rows)
    link = b.js("""const a = document.querySelector('#events tbody tr a');
                   return a && document.querySelector(a.getAttribute('href')).dataset.key""")
    check(link == "KP", "the event row links to KP's chart")
    kp = b.js("""const p = document.querySelector('#map path.outage[data-cc="KP"]'),
                       o = document.querySelector('#map path.outage-outline[data-cc="KP"]');
                 if (!p || !o) return null;
                 const r = o.getBoundingClientRect();
                 return {w: r.width, h: r.height, stroke: getComputedStyle(o).stroke,
                         n: document.querySelectorAll('#map path.outage').length};""")
    check(kp is not None and kp["w"] > 2 and kp["h"] > 2 and kp["n"] == 1,
          "map: KP (only) outlined and hatched (%s)" % kp)
    # Coloured: every scenario country that has a shape at 1:110m (the atlas and the
    # ISO code table, read here from the setup's cache, are the oracle).
    cache = os.environ.get("GEOTAP_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "geotap")
    atlas = json.load(open(os.path.join(cache, "world-atlas-2.0.2", "countries-110m.json")))
    codes = {int(c[2]): c[0] for c in json.load(open(os.path.join(cache, "i18n-iso-countries-7.14.0", "codes.json")))}
    shapes = {codes.get(int(g["id"])) for g in atlas["objects"]["countries"]["geometries"] if "id" in g}
    want_cc = sorted(k["country"] for k in keys if k["country"] in shapes)
    got_cc = sorted(set(b.js("return Array.from(document.querySelectorAll('#map path.country'))"
                             ".filter(p => p.getAttribute('fill') !== '#e8e8e8').map(p => p.dataset.cc)")))
    check(got_cc == want_cc, "map: the %d scenario countries with a 1:110m shape are coloured, no other (%s)"
          % (len(want_cc), sorted(set(got_cc) ^ set(want_cc))))

    # Sorting: the key table by packets from, descending then ascending.
    def col(i):
        return b.js("return Array.from(document.querySelectorAll('#keys tbody tr')).map(r => r.children[%d].textContent)" % i)
    before = col(0)
    b.js("document.querySelectorAll('#keys th')[0].click()")
    after = col(0)
    check(after == sorted(before), "key table sorts by key on a header click")
    nrows = len(before)
    check(nrows == len(keys) + 1, "key table: %d rows (the scenario's %d countries and home)" % (nrows, len(keys)))


def small_cases(b, tmp):
    # One packet: 81.2.69.142 is GB in MaxMind's test database.
    one = os.path.join(tmp, "one.pcap")
    write_pcap(one, [(1419235200.5, ipv4_udp("81.2.69.142", "10.0.0.1"))], linktype=101)
    rep = os.path.join(tmp, "one.html")
    analyze(["--country-db", TEST_DB, "--asn-db", TEST_ASN], one, rep)
    open_clean(b, rep, "one-packet")
    got = sorted(b.js("return Array.from(document.querySelectorAll('.chart')).map(c => c.dataset.key)"))
    check(got == ["GB", "ZZ"], "one-packet: two charts, GB (source) and ZZ (10.0.0.1) (%s)" % got)

    # No IP packet: one ARP request on Ethernet.
    arp = bytes.fromhex("ffffffffffff" "020000000001" "0806" "0001080006040001" "020000000001" "0a000001"
                        "000000000000" "0a000002") + bytes(18)
    noip = os.path.join(tmp, "noip.pcap")
    write_pcap(noip, [(1419235200.0, arp)])
    rep = os.path.join(tmp, "noip.html")
    analyze(["--country-db", TEST_DB, "--asn-db", TEST_ASN], noip, rep)
    open_clean(b, rep, "no-ip")
    txt = b.js("return document.body.innerText")
    check("1 non-IP" in txt and "No key had traffic" in txt, "no-ip: header says 1 non-IP, no charts")

    # 100k one-second bins, a packet in each but one (bin 54321): the silent bin stays a zero.
    t0, n, hole = 1419235200, 100_001, 54_321
    frames = [(t0 + i + 0.5, ipv4_udp("81.2.69.142", "10.0.0.1")) for i in range(n) if i != hole]
    big = os.path.join(tmp, "big.pcap")
    write_pcap(big, frames, linktype=101)
    rep = os.path.join(tmp, "big.html")
    analyze(["--country-db", TEST_DB, "--asn-db", TEST_ASN, "--bin", "1"], big, rep)
    open_clean(b, rep, "100k-bins")
    z = b.js("""const d = JSON.parse(document.getElementById('gt-data').textContent);
                const s = GT.series(d, d.charts.filter(c => c.label === 'GB')[0]);
                const near = [];
                for (let i = 0; i < s[0].length; i++) if (s[0][i] >= %d && s[0][i] <= %d) near.push(s[1][i]);
                return {bins: d.grid.bins, points: s[0].length, zero: near.length ? Math.min(...near) : null,
                        ones: s[1].filter(v => v === 1).length};""" % (t0 + hole - 200, t0 + hole + 200))
    check(z["bins"] == n and z["points"] <= 2 * 2048, "100k bins: %d bins drawn as %d points" % (z["bins"], z["points"]))
    check(z["zero"] == 0 and z["ones"] > 1000, "100k bins: the one silent bin is still a zero (%s)" % z)


def gap_case(b, tmp):
    """A capture gap (every key silent at once for 20 minutes): shaded on every chart, over
    the event's span, and unlike an outage. Three countries of MaxMind's test database
    (mmdblookup gives GB, SE, US) at 1, 1 and 0.5 packets/s for 3 h, then silence, then 1 h."""
    t0 = 1419235200
    src = [("81.2.69.142", 1), ("89.160.20.112", 1), ("216.160.83.56", 2)]
    frames = []
    for s in range(0, 4 * 3600 + 1200):
        if 3 * 3600 <= s < 3 * 3600 + 1200:
            continue
        for ip, every in src:
            if s % every == 0:
                frames.append((t0 + s + 0.25, ipv4_udp(ip, "10.0.0.1")))
    pcap, events, rep = (os.path.join(tmp, "gap" + x) for x in (".pcap", ".events", ".html"))
    write_pcap(pcap, frames, linktype=101)
    analyze(["--country-db", TEST_DB, "--asn-db", TEST_ASN, "--events", events], pcap, rep)
    ev = [json.loads(line) for line in open(events)]
    gaps = [e for e in ev if e["type"] == "capture_gap"]
    check(len(gaps) == 1 and not [e for e in ev if e["type"] == "drop_to_zero"],
          "gap: one capture_gap event, no drop (%s)" % [e["type"] for e in ev])
    open_clean(b, rep, "capture-gap")
    if not gaps:
        return
    g = b.js("""return Array.from(document.querySelectorAll('.chart')).map(c => {
                  const s = c.querySelector('.span.gap');
                  return {key: c.dataset.key, gap: s ? [+s.dataset.from, +s.dataset.to] : null,
                          outage: c.querySelectorAll('.span.outage').length,
                          bg: s ? getComputedStyle(s).backgroundImage : ''};});""")
    want = [ts(gaps[0]["start"]), ts(gaps[0]["end"])]
    check(len(g) == 4 and all(c["gap"] and abs(c["gap"][0] - want[0]) < 0.01 and abs(c["gap"][1] - want[1]) < 0.01
                              and not c["outage"] for c in g),
          "gap: every chart (GB, SE, US, ZZ) shades the event's span, none an outage (%s)" % g)
    check(all("gradient" in c["bg"] for c in g), "gap: shaded with a hatch, unlike an outage")


def other_keys(b, tmp):
    """--by asn and --by country,asn,upstream (with routes) on a real capture: pages open cleanly."""
    pcap = os.path.join(SHARED, "pcap", "whatsapp_login_call.pcap")
    for name, args in (("by-asn", ["--by", "asn"]),
                       ("by-all", ["--by", "country,asn,upstream", "--routes",
                                   os.path.join(SRC, "bench/data/kp2014-routes.txt.gz")])):
        rep = os.path.join(tmp, name + ".html")
        analyze(args + ["--events", os.path.join(tmp, name + ".events")], pcap, rep)
        open_clean(b, rep, name)
        labels = b.js("return Array.from(document.querySelectorAll('.chart')).map(c => c.dataset.key)")
        check(len(labels) >= 3 and all(labels), name + ": charts with labels (%s)" % labels[:4])
        if name == "by-asn":
            check("counts by asn, not by country" in b.js("return document.body.innerText"),
                  "by-asn: the map says why it is empty")


def many_asns(b, tmp):
    """Thousands of ASNs (bench/gen_trace: addresses from the real GeoLite2 networks, Zipf 0.6
    over 100k flows): the key table is the top 500 and one "other" row, the charts stay a
    dozen, the not_measurable flood is counted, not listed, and the page stays small."""
    pcap, rep, events = (os.path.join(tmp, "asns" + x) for x in (".pcap", ".html", ".events"))
    subprocess.run([os.path.join(BUILD, "bench", "gen_trace"), "--packets", "100000", "--flows", "100000",
                    "--zipf", "0.6", "--rate", "20", "--out", pcap], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    analyze(["--by", "asn", "--events", events], pcap, rep)
    n_ev = sum(1 for _ in open(events))
    open_clean(b, rep, "many-asns")
    got = b.js("""return {rows: document.querySelectorAll('#keys tbody tr').length,
                          last: document.querySelector('#keys tbody tr:last-child td').textContent,
                          charts: document.querySelectorAll('.chart').length,
                          listed: document.querySelectorAll('#events tbody tr').length,
                          head: document.querySelector('#events-section h2').textContent};""")
    check(got["rows"] == 501 and got["last"].startswith("other (") and got["charts"] <= 12 + 60,
          "many ASNs: 500 rows + other, %d charts (%s)" % (got["charts"], got["last"]))
    check(got["head"] == "%d events" % n_ev and got["listed"] <= n_ev, "many ASNs: %s, %d listed, events file has %d"
          % (got["head"], got["listed"], n_ev))
    check(os.path.getsize(rep) < 2_000_000, "many ASNs: report %d bytes" % os.path.getsize(rep))


def cli_errors(tmp):
    """Errors are one line naming the file, exit 2, and no half-written report."""
    one = os.path.join(tmp, "one.pcap")
    base = [GEOTAP, "analyze", "-q", "--country-db", TEST_DB, "--asn-db", TEST_ASN, "-o", os.devnull]
    r = subprocess.run(base + ["--report", "/nonexistent/dir/r.html", one], capture_output=True, text=True)
    check(r.returncode == 2 and "/nonexistent/dir/r.html" in r.stderr and r.stderr.count("\n") == 1,
          "unwritable report: exit 2, one line naming it (%r)" % r.stderr)
    env = dict(os.environ, GEOTAP_DATA=os.path.join(tmp, "empty-cache"))
    rep = os.path.join(tmp, "nolib.html")
    r = subprocess.run(base + ["--report", rep, one], capture_output=True, text=True, env=env)
    check(r.returncode == 2 and "internmap.min.js" in r.stderr and "scripts/setup" in r.stderr
          and not os.path.exists(rep), "libraries missing: exit 2 naming the file, no report (%r)" % r.stderr)


def main():
    why = browser.available()
    if why:
        print("SKIP: " + why)
        return 77
    b = browser.Browser()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            demo(b, tmp)
            small_cases(b, tmp)
            gap_case(b, tmp)
            other_keys(b, tmp)
            many_asns(b, tmp)
            cli_errors(tmp)
    finally:
        b.close()
    print("screenshots in " + ART)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
