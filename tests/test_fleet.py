#!/usr/bin/env python3
"""geotap watch against real stores (Prometheus and VictoriaMetrics, started
here on free loopback ports with temporary data directories, stopped at the
end). A flow-clustered scenario (bench/gen_scenario) is split by flow into
three sensors, each analysed by geotap analyze; the metrics the sensors
export are rendered per bin (tests/fleet_data.py) and loaded into both stores
from the same samples (Prometheus: promtool tsdb create-blocks-from
openmetrics; VictoriaMetrics: /api/v1/import/prometheus) — backfilled history
is not remote-written, so the Prometheus config's remote_write to
VictoriaMetrics carries nothing here.

  test_fleet.py replay      watch --from/--to against Prometheus and against
                            VictoriaMetrics: identical events and bins; the
                            bins' counts equal analyze of the whole capture;
                            scored against the scenario's labels, the same
                            recall and precision as analyze --events of the
                            whole, median delay within one bin. Then a
                            restart with --state where a key silent at the
                            restart is not in the store yet (the sensors
                            restarted too): the learned records and events
                            of the two runs are the uninterrupted run's.
  test_fleet.py sensor-gap  the sensor holding all flows of three countries
                            loses every frame for 20 minutes (its drop
                            counter), later is not scraped (up = 0) for 40:
                            one sensor_gap each naming it and holding exactly
                            those three, no drop_to_zero for them, no
                            capture_gap; the other countries' real drops
                            inside are declared and the events around the
                            gaps are analyze's; the control (the same data
                            missing, up = 1) declares the three down; with
                            --max-hold 600 the sensor is released after 10
                            minutes and its countries then declared down.
                            Prometheus and VictoriaMetrics: the same events.
  test_fleet.py live        three real `geotap live` sensors (veth pairs fed
                            by tcpreplay from network namespaces), each a third
                            of a capture, scraped every second by a real
                            Prometheus that remote-writes to VictoriaMetrics;
                            `geotap watch` live (2 s bins) against each store:
                            per country, the watchers' bins add up to the
                            capture's frames (tshark + mmdblookup). Root only.
Missing servers fail the test under CI=true, else skip it (exit 77).
"""
import calendar
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import struct
import time
import urllib.parse
import urllib.request

from checks import free_port
from test_tshark_compare import default_db as db_path  # the real GeoLite2 scripts/setup fetched

SRC = os.environ.get('GEOTAP_SRC', os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ['GEOTAP_BUILD']
GEOTAP = os.environ['GEOTAP_BIN']
T0 = 1419120000          # gen_scenario's start, 2014-12-21T00:00:00Z
HOURS = 8


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def run(*cmd, **kw):
    r = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f'{" ".join(cmd)}: exit {r.returncode}\n{r.stderr[-2000:]}')
    return r.stdout


def wait_http(url, proc, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            fail(f'{what} exited with {proc.returncode}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    fail(f'{what} not ready after {timeout} s ({url})')


class Servers:
    def __init__(self):
        self.procs = []

    def prometheus(self, tmp, om, remote_write=None, targets=None):
        data = os.path.join(tmp, 'prom-' + os.path.basename(om or 'live'))
        os.mkdir(data)
        if om:
            run('promtool', 'tsdb', 'create-blocks-from', 'openmetrics', om, data)
        cfg = os.path.join(data, 'prometheus.yml')
        with open(cfg, 'w') as f:
            f.write('global:\n  scrape_interval: %s\n' % ('1s\n  scrape_timeout: 900ms' if targets else '15s'))
            if targets:
                f.write('scrape_configs:\n  - job_name: geotap\n    static_configs:\n      - targets: [%s]\n'
                        % ', '.join(f"'{t}'" for t in targets))
            if remote_write:
                f.write(f'remote_write:\n  - url: {remote_write}\n    queue_config:\n      batch_send_deadline: 1s\n')
        port = free_port()
        log = open(os.path.join(tmp, f'prometheus-{port}.log'), 'w')
        p = subprocess.Popen(['prometheus', '--config.file=' + cfg, '--storage.tsdb.path=' + data,
                              '--storage.tsdb.retention.time=100y', f'--web.listen-address=127.0.0.1:{port}'],
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        url = f'http://127.0.0.1:{port}'
        wait_http(url + '/-/ready', p, 'prometheus')
        return url

    def victoria(self, tmp, prom_text, name='vm'):
        data = os.path.join(tmp, name)
        port = free_port()
        log = open(os.path.join(tmp, name + '.log'), 'w')
        # latencyOffset: live reads a bin seconds after it ends, not 30 s
        p = subprocess.Popen(['victoria-metrics', '-storageDataPath', data, '-retentionPeriod', '100y',
                              '-httpListenAddr', f'127.0.0.1:{port}', '-search.latencyOffset', '1s'],
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        url = f'http://127.0.0.1:{port}'
        wait_http(url + '/health', p, 'victoria-metrics')
        if not prom_text:
            return url
        with open(prom_text, 'rb') as f:
            req = urllib.request.Request(url + '/api/v1/import/prometheus', data=f.read(), method='POST')
        with urllib.request.urlopen(req, timeout=60) as r:
            if r.status // 100 != 2:
                fail(f'victoria-metrics import: HTTP {r.status}')
        urllib.request.urlopen(url + '/internal/force_flush', timeout=30).read()
        return url

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def scenario(tmp, db):
    run(os.path.join(BUILD, 'bench', 'gen_scenario'), '--flows', '--no-gap', '--seed', '7', '--keys', '16',
        '--hours', str(HOURS), '--min-rate', '0.02', '--max-rate', '0.3', '--country-db', db,
        '--labels', os.path.join(tmp, 'l.jsonl'), '--pcap', os.path.join(tmp, 's.pcap'))
    # every address's country from mmdblookup (the oracle's lookups)
    addrs = run(sys.executable, os.path.join(SRC, 'tests', 'fleet_data.py'), 'addrs', os.path.join(tmp, 's.pcap'))
    with open(os.path.join(tmp, 'cc.txt'), 'w') as f:
        for a in sorted(set(addrs.split())):
            out = subprocess.run(['mmdblookup', '--file', db, '--ip', a, 'country', 'iso_code'],
                                 capture_output=True, text=True).stdout
            m = re.search(r'"(..)"', out)
            f.write(f'{a} {m.group(1) if m else "ZZ"}\n')


def analyze(db, *args):
    run(GEOTAP, 'analyze', '-q', '--country-db', db, '--home-net', '192.0.2.0/24', *args)


def sensors(tmp, db, prefix, *only):
    run(sys.executable, os.path.join(SRC, 'tests', 'fleet_data.py'), 'split', os.path.join(tmp, 's.pcap'),
        os.path.join(tmp, 'cc.txt'), os.path.join(tmp, prefix), '3', *[x for o in only for x in ('--only', o)])
    out = []
    for i in range(3):
        p = os.path.join(tmp, f'{prefix}{i}')
        analyze(db, '-o', p + '.csv', p + '.pcap')
        out.append(f's{i}={p}.csv')
    return out


def render(tmp, name, sens, *extra):
    om, prom = os.path.join(tmp, name + '.om'), os.path.join(tmp, name + '.prom')
    print(run(sys.executable, os.path.join(SRC, 'tests', 'fleet_data.py'), 'render', om, prom, *sens, *extra).strip())
    return om, prom


def watch(url, tmp, name, *extra, frm=T0, to=T0 + HOURS * 3600):
    ev, bins = os.path.join(tmp, name + '.ev'), os.path.join(tmp, name + '.csv')
    t = time.time()
    run(GEOTAP, 'watch', '--prometheus', url, '--from', str(frm), '--to', str(to),
        '--events', ev, '-o', bins, *extra)
    print(f'watch {name}: {time.time() - t:.2f} s, {sum(1 for _ in open(ev))} events')
    return ev, bins


def score(tmp, labels, ev):
    """recall and precision lines and the median delay of the scorer."""
    kept = ev + '.scored'
    with open(ev) as f, open(kept, 'w') as g:
        for line in f:
            if json.loads(line)['type'] not in ('sensor_gap', 'watch_gap'):
                g.write(line)
    r = subprocess.run([sys.executable, os.path.join(SRC, 'bench', 'score_anomaly.py'), labels, kept],
                       capture_output=True, text=True)
    out = r.stdout
    rec = re.search(r'recall of drop_to_zero[^:]*: (\S+ \(\d+/\d+\))', out)
    prec = re.search(r'precision of drop_to_zero[^:]*: (\S+ \(\d+ true of \d+)', out)
    med = re.search(r'delay median ([\d.]+) s', out)
    if not rec or not prec or not med:
        fail(f'scorer output not understood:\n{out}\n{r.stderr}')
    return rec.group(1), prec.group(1) + ')', float(med.group(1))


def rows(path, cols=6):
    with open(path) as f:
        return [','.join(l.rstrip('\n').split(',')[:cols]) for l in f]


def events(path, types=None):
    out = []
    for line in open(path):
        e = json.loads(line)
        if types is None or e['type'] in types:
            out.append(e)
    return out


def ts(s):
    import calendar
    return calendar.timegm(time.strptime(s[:19], '%Y-%m-%dT%H:%M:%S'))


def test_replay(tmp, db, srv):
    analyze(db, '-o', os.path.join(tmp, 'whole.csv'), '--events', os.path.join(tmp, 'whole.ev'),
            os.path.join(tmp, 's.pcap'))
    sens = sensors(tmp, db, 'sen')
    # split by flow: every country at several sensors
    where = {}
    for s in sens:
        name, _, p = s.partition('=')
        for r in open(p).readlines()[1:]:
            f = r.split(',')
            if int(f[2]) + int(f[4]):
                where.setdefault(f[1], set()).add(name)
    lone = sorted(c for c, s in where.items() if len(s) < 2)
    if lone:
        fail(f'countries at one sensor only: {lone}')
    om, prom = render(tmp, 'm', sens)
    vm = srv.victoria(tmp, prom)
    pr = srv.prometheus(tmp, om, remote_write=vm + '/api/v1/write')
    ev_p, bins_p = watch(pr, tmp, 'prometheus')
    ev_v, bins_v = watch(vm, tmp, 'victoria', '--state', os.path.join(tmp, 'whole.state'))
    if open(ev_p).read() != open(ev_v).read():
        fail('events differ between Prometheus and VictoriaMetrics')
    if open(bins_p).read() != open(bins_v).read():
        fail('bins differ between Prometheus and VictoriaMetrics')
    # the fleet's sums are the whole capture's counts
    w, f = rows(os.path.join(tmp, 'whole.csv')), rows(bins_p)
    if w != f:
        bad = [(a, b) for a, b in zip(w, f) if a != b][:5]
        fail(f'watch bins differ from analyze of the whole ({len(w)} vs {len(f)} rows): {bad}')
    labels = os.path.join(tmp, 'l.jsonl')
    a = score(tmp, labels, os.path.join(tmp, 'whole.ev'))
    p = score(tmp, labels, ev_p)
    print(f'analyze of the whole: recall {a[0]}, precision {a[1]}, delay median {a[2]} s')
    print(f'watch (both stores):  recall {p[0]}, precision {p[1]}, delay median {p[2]} s')
    if a[0] != p[0] or a[1] != p[1]:
        fail('recall or precision differ from analyze of the whole')
    if abs(a[2] - p[2]) > 60:
        fail(f'median delay {p[2]} s vs {a[2]} s: more than one bin apart')
    # per outage: the same drops (key and last packet), each detected within
    # two bins of analyze's. Not one: the fleet's flow-start rate comes from
    # each sensor's silences (a third of the flows each, summed as parallel
    # streams), not from the merged stream's, so a quiet key's rate differs
    # by up to ~10 % and its ~20 minutes to decide by up to two bins.
    da = {(e['key']['country'], e['last_seen'][:16]): e for e in events(os.path.join(tmp, 'whole.ev'), ['drop_to_zero'])}
    dw = {(e['key']['country'], e['last_seen'][:16]): e for e in events(ev_p, ['drop_to_zero'])}
    if set(da) != set(dw):
        fail(f'drops differ from analyze of the whole: only analyze {sorted(set(da) - set(dw))}, only watch {sorted(set(dw) - set(da))}')
    diffs = {k: ts(dw[k]['detected']) - ts(da[k]['detected']) for k in da}
    for k in sorted(da, key=lambda k: da[k]['detected']):
        print(f'  {k[0]} last {k[1][11:]}: watch {dw[k]["detected"][11:16]}, analyze {da[k]["detected"][11:16]}, '
              f'{diffs[k]:+d} s (rate {dw[k]["expected_rate"]:.4f} vs {da[k]["expected_rate"]:.4f}/s)')
    d = sorted(diffs.values())
    print(f'{len(d)} drops matched by key and last packet; watch detected minus analyze: '
          f'median {d[len(d) // 2]} s, range {d[0]}..{d[-1]} s, within one bin: {sum(abs(x) <= 60 for x in d)}/{len(d)}')
    if d[0] < -120 or d[-1] > 120 or abs(d[len(d) // 2]) > 60:
        fail('a drop more than two bins from analyze of the whole, or the median more than one')
    restart(tmp, srv, sens, vm, ev_v)
    print(f'OK: {len(f)} bins rows equal to analyze, identical events from both stores')


def state_records(path):
    """label -> the key's learned record (kst and history) of a state file
    (layout: analysis/detect/anomaly_state.c)."""
    b = open(path, 'rb').read()
    kst, hbin, hist, _, nkeys, nup = struct.unpack_from('<6I', b, 12)
    at, out = 40 + 64 + 8 * nup, {}
    for _ in range(nkeys):
        label = b[at:at + 64].split(b'\0')[0].decode()
        out[label] = b[at + 64:at + 64 + kst + hist * hbin]
        at += 64 + kst + hist * hbin
    return out


def restart(tmp, srv, sens, vm, ev_whole):
    """watch --state stopped at T1 and restarted on a store where the sensors
    restarted at T1 too (counters from zero, each key exported from its
    first packet on), so that a key silent in the bin at T1 is not in the
    store when the watcher starts: it keeps what it learned (the state file's
    keys join at start). Oracle: the uninterrupted run's events after T1 and
    its final state, key by key."""
    W = 60
    pk = {}
    for r in csv.DictReader(open(os.path.join(tmp, 'whole.csv'))):
        t = calendar.timegm(time.strptime(r['time'], '%Y-%m-%dT%H:%M:%SZ'))
        pk[(t, r['country'])] = int(r['packets_from']) + int(r['packets_to'])
    seen = {}
    for (t, c), n in sorted(pk.items()):
        if n:
            seen.setdefault(c, t)
    # the first bin after 4 h where a key seen for an hour or more is silent
    T1, X = next((t, c) for t in range(T0 + 4 * 3600, T0 + (HOURS - 1) * 3600, W)
                 for c in sorted(seen) if seen[c] <= t - 3600 and not pk.get((t, c)))
    state = os.path.join(tmp, 'restart.state')
    ev1, _ = watch(vm, tmp, 'before', '--state', state, to=T1)
    cut = []
    for s in sens:
        name, _, p = s.partition('=')
        with open(p) as f, open(p + '.cut', 'w') as g:
            rd = csv.DictReader(f)
            wr = csv.DictWriter(g, rd.fieldnames)
            wr.writeheader()
            for r in rd:
                if calendar.timegm(time.strptime(r['time'], '%Y-%m-%dT%H:%M:%SZ')) >= T1:
                    wr.writerow(r)
        cut.append(f'{name}={p}.cut')
    _, prom2 = render(tmp, 'cut', cut)
    back = min(t for (t, c), n in pk.items() if c == X and n and t >= T1)
    if back < T1 + W:
        fail(f'{X} has packets in the bin at {T1}')
    vm2 = srv.victoria(tmp, prom2, 'vm2')
    ev2, _ = watch(vm2, tmp, 'after', '--state', state, frm=T1)
    whole, mine = state_records(os.path.join(tmp, 'whole.state')), state_records(state)
    lx = f'{X}/0/0/0'
    if lx not in mine or mine[lx] != whole.get(lx):
        fail(f'{X} (silent at the restart, back {back - T1} s later): its learned record differs from the '
             f'uninterrupted run\'s ({"missing" if lx not in mine else "other bytes"})')
    diff = sorted(k for k in set(whole) | set(mine) if whole.get(k) != mine.get(k))
    if diff:
        fail(f'learned records differ from the uninterrupted run\'s: {diff}')
    got = sorted(open(ev1).readlines() + open(ev2).readlines())
    want = sorted(open(ev_whole).readlines())
    if got != want:
        fail(f'events of the two runs differ from the uninterrupted run\'s: only restarted '
             f'{[l for l in got if l not in want][:3]}, only uninterrupted {[l for l in want if l not in got][:3]}')
    print(f'restart at {T1 - T0} s with {X} silent (back {back - T1} s later): {len(mine)} learned records and '
          f'{len(got)} events equal to the uninterrupted run\'s')


def test_sensor_gap(tmp, db, srv):
    analyze(db, '-o', '/dev/null', '--events', os.path.join(tmp, 'whole.ev'), os.path.join(tmp, 's.pcap'))
    keys = [json.loads(l) for l in open(os.path.join(tmp, 'l.jsonl')) if '"key"' in l]
    top = sorted(k['country'] for k in sorted(keys, key=lambda k: -k['rate'])[:3])
    outs = [json.loads(l) for l in open(os.path.join(tmp, 'l.jsonl')) if '"outage"' in l]
    l0, l1 = T0 + 5400, T0 + 6600         # 01:30 .. 01:50: s2's capture loses every frame
    g0, g1 = T0 + 10200, T0 + 12600       # 02:50 .. 03:30: s2 not scraped (up = 0)
    if any(o['country'] in top and o['start_s'] < g1 + 300 for o in outs) or min(o['start_s'] for o in outs) < l1 + 600:
        fail('scenario: an outage of the held countries inside a sensor gap, or one too early')
    others = [o for o in outs if g0 + 600 <= o['start_s'] < g1 - 900]
    if not others:
        fail('scenario: no outage of another country while s2 is down')
    sens = sensors(tmp, db, 'gs', '2:' + ','.join(top))
    om, prom = render(tmp, 'g', sens, '--down', f's2:{g0}:{g1}', '--lossy', f's2:{l0}:{l1}')
    om_c, _ = render(tmp, 'c', sens, '--silent', f's2:{g0}:{g1}')
    pg = srv.prometheus(tmp, om)
    ev, _ = watch(pg, tmp, 'gap')
    ev_v, _ = watch(srv.victoria(tmp, prom), tmp, 'gap-victoria')
    if open(ev).read() != open(ev_v).read():
        fail('events with the sensor gaps differ between Prometheus and VictoriaMetrics')
    # a sensor down longer than --max-hold is released: reported then, and
    # its countries are judged on what the others see
    ev_r, _ = watch(pg, tmp, 'released', '--max-hold', '600')
    rel = [e for e in events(ev_r, ['sensor_gap']) if e['reason'] == 'down']
    if len(rel) != 1 or not (g0 + 600 <= ts(rel[0]['end']) <= g0 + 660):
        fail(f'--max-hold 600: want one sensor_gap ending 600 s into the gap, got {rel}')
    late = {e['key']['country'] for e in events(ev_r, ['drop_to_zero']) if g0 + 600 <= ts(e['detected']) <= g1}
    if not set(top) <= late:
        fail(f'--max-hold 600: {top} should be declared down after the release, got {sorted(late)}')
    ev_c, _ = watch(srv.prometheus(tmp, om_c), tmp, 'control')
    # one sensor_gap per stretch, naming s2, holding exactly the countries it carries
    gaps = events(ev, ['sensor_gap'])
    want = [('s2', 'capture drops', l0, l1), ('s2', 'down', g0, g1)]
    got = [(e['sensor'], e['reason'], ts(e['start']), ts(e['end'])) for e in gaps]
    if got != want:
        fail(f'sensor_gap events {got}, want {want}')
    if any(sorted(e['held']) != top for e in gaps):
        fail(f'sensor_gap holds {[e["held"] for e in gaps]}, want exactly {top}')
    if events(ev, ['capture_gap']):
        fail(f'a capture_gap of the fleet: {events(ev, ["capture_gap"])}')
    inside = lambda e: any(a - 60 <= ts(e['detected']) <= b + 600 for a, b in ((l0, l1), (g0, g1)))
    false_c = [e['key']['country'] for e in events(ev_c, ['drop_to_zero']) if inside(e)]
    if not set(top) <= set(false_c):
        fail(f'control: without up = 0 the silence should read as outages of {top}, got {false_c}')
    # while s2 is out and just after, the events are the whole capture's
    # (the other countries' real drops and returns), none for its countries
    sig = lambda e: (e['type'], e['key']['country'], e['last_seen'][:16])
    real = {sig(e) for e in events(os.path.join(tmp, 'whole.ev'), ['drop_to_zero', 'restored'])}
    mine = [e for e in events(ev, ['drop_to_zero', 'restored']) if inside(e)]
    held = lambda e: e['key']['country'] in top and any(a <= ts(e['detected']) <= b + 60 for a, b in ((l0, l1), (g0, g1)))
    false = [sig(e) for e in mine if sig(e) not in real or held(e)]
    if false:
        fail(f'drop_to_zero/restored while s2 was out or just back that analyze of the whole has not: {false}')
    whole_in = {sig(e): e for e in events(os.path.join(tmp, 'whole.ev'), ['drop_to_zero']) if g0 <= ts(e['detected']) <= g1}
    got_in = {sig(e): e for e in mine if e['type'] == 'drop_to_zero'}
    if not whole_in or set(whole_in) - set(got_in):
        fail(f'drops of the other countries while s2 was down: analyze {sorted(whole_in)}, watch {sorted(got_in)}')
    for k, e in sorted(whole_in.items()):
        print(f'{k[1]} dropped at {k[2]} while s2 was down: watch detected {got_in[k]["detected"]}, '
              f'analyze {e["detected"]} ({ts(got_in[k]["detected"]) - ts(e["detected"]):+d} s)')
    labels = os.path.join(tmp, 'l.jsonl')
    a, p = score(tmp, labels, os.path.join(tmp, 'whole.ev')), score(tmp, labels, ev)
    print(f'analyze of the whole: recall {a[0]}, precision {a[1]}; watch with the gaps: recall {p[0]}, precision {p[1]}')
    if a[0] != p[0] or a[1] != p[1]:
        fail('recall or precision differ from analyze of the whole')
    print(f'OK: s2 held {gaps[0]["held"]} for {gaps[0]["duration_s"]:.0f} s (capture drops) and '
          f'{gaps[1]["duration_s"]:.0f} s (down); no capture_gap; the control declared {sorted(set(false_c))} down')


def test_live(tmp, db, srv):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import prometheus_harness as h
    h.need('ip', 'tcpreplay', 'tshark', 'capinfos')
    db = os.path.join(os.environ['GEOTAP_SHARED'], 'mmdb', 'GeoLite2-Country-Test.mmdb')
    addrs = ['81.2.69.142', '81.2.69.160', '89.160.20.112', '216.160.83.57', '202.196.224.5',
             '67.43.156.7', '175.16.199.9', '198.51.100.7', '2001:218::1', '2001:db8::9']
    W = 2
    pcaps = {}
    for name, n, seed in (('warm', 300, 2), ('main', 3000, 3)):
        whole = os.path.join(tmp, name + '.pcap')
        h.write_pcap(whole, addrs, n, seed)
        # a third of the frames (each its own flow) to each sensor
        with open(whole, 'rb') as f:
            hdr, body = f.read(24), f.read()
        parts = [bytearray(hdr) for _ in range(3)]
        off, i = 0, 0
        while off < len(body):
            cap = struct.unpack('<IIII', body[off:off + 16])[2]
            parts[i % 3] += body[off:off + 16 + cap]
            off += 16 + cap
            i += 1
        pcaps[name] = (whole, [])
        for j in range(3):
            p = os.path.join(tmp, f'{name}{j}.pcap')
            open(p, 'wb').write(parts[j])
            pcaps[name][1].append(p)
    nets = [h.veth(f'gfl{j}') for j in range(3)]
    sens = []
    for j, (ns, a, b) in enumerate(nets):
        d = os.path.join(tmp, f'sensor{j}')
        os.mkdir(d)
        sens.append(h.Geotap(d, ['-i', a, '--country-db', db, '--bin', str(W), '--duration', '150', '-o', os.devnull]))
    vm = srv.victoria(tmp, None)
    pr = srv.prometheus(tmp, None, remote_write=vm + '/api/v1/write',
                        targets=[f'127.0.0.1:{g.port}' for g in sens])

    def frames():
        with urllib.request.urlopen(pr + '/api/v1/query?query=' + urllib.parse.quote(
                'sum(geotap_frames_total{result="ip"})'), timeout=10) as r:
            v = json.load(r)['data']['result']
        return int(float(v[0]['value'][1])) if v else 0

    def replay(which):
        ps = [subprocess.Popen(['ip', 'netns', 'exec', ns, 'tcpreplay', '-q', '-i', b, '--pps', '400', p],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
              for (ns, _, b), p in zip(nets, pcaps[which][1])]
        for p in ps:
            p.wait(timeout=60)
        want = sum(h.capinfos_count(p) for p in pcaps['warm'][1] + (pcaps['main'][1] if which == 'main' else []))
        end = time.time() + 30
        while frames() != want and time.time() < end:
            time.sleep(0.5)
        if frames() != want:
            fail(f'Prometheus has {frames()} IP frames of the sensors, capinfos {want}')
    # the keys exist before the watchers start (they watch the keys seen)
    replay('warm')
    time.sleep(3 * W + 8)
    outs = {}
    watchers = []
    for name, url, delay in (('prometheus', pr, 2), ('victoria', vm, 6)):
        o = os.path.join(tmp, f'live-{name}.csv')
        outs[name] = o
        watchers.append(subprocess.Popen([GEOTAP, 'watch', '--prometheus', url, '--bin', str(W), '--lag', '1',
                                          '--delay', str(delay), '--duration', '28', '--lookback', '600',
                                          '-o', o, '--events', o + '.ev'], stderr=subprocess.PIPE, text=True))
    time.sleep(4)
    t = time.time()
    replay('main')
    print(f'replayed {h.capinfos_count(pcaps["main"][0])} frames over three sensors in {time.time() - t:.1f} s')
    for wp in watchers:
        err = wp.communicate(timeout=90)[1]
        if wp.returncode != 0:
            fail(f'geotap watch exit {wp.returncode}: {err}')
    # the oracle: tshark per address, mmdblookup per address
    src, dst = h.tshark_addr_counts(pcaps['main'][0])
    cc = {a: h.mmdb_country(db, a) for a in set(src) | set(dst)}
    want = {}
    for d, counts in (('from', src), ('to', dst)):
        for a, n in counts.items():
            want[(cc[a], d)] = want.get((cc[a], d), 0) + n
    for name, o in outs.items():
        got = {}
        for r in csv.DictReader(open(o)):
            for d in ('from', 'to'):
                if int(r['packets_' + d]):
                    got[(r['country'], d)] = got.get((r['country'], d), 0) + int(r['packets_' + d])
        if got != want:
            fail(f'watch live against {name}: per country {sorted(got.items())}, tshark + mmdblookup {sorted(want.items())}')
        print(f'watch live against {name}: {sum(got.values())} packets in {sum(1 for _ in open(o)) - 1} rows, '
              f'equal to the oracle per country and direction')
    for g in sens:
        g.stop()
    print('OK: live sensors -> Prometheus -> remote write -> VictoriaMetrics; both watchers counted every frame')


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    tests = {'replay': test_replay, 'sensor-gap': test_sensor_gap, 'live': test_live}
    if mode not in tests:
        print(__doc__)
        return 2
    need = ['prometheus', 'promtool', 'mmdblookup', 'victoria-metrics']
    missing = [n for n in need if not shutil.which(n)]
    if missing:
        msg = f'missing {missing} (scripts/setup installs them)'
        if os.environ.get('CI') == 'true':
            fail(msg)
        print('SKIP: ' + msg)
        return 77
    db = db_path()
    if not os.path.exists(db):
        fail(f'no GeoLite2 country DB at {db} (run scripts/setup)')
    srv = Servers()
    tmp = tempfile.mkdtemp(prefix='geotap-fleet-')
    try:
        if mode != 'live':
            scenario(tmp, db)
        tests[mode](tmp, db, srv)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
