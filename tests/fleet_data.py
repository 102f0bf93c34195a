#!/usr/bin/env python3
"""Test data for the fleet tests (geotap watch): a capture split into
sensors, and the sensors' metrics rendered for backfilling a store.

  fleet_data.py split PCAP CCMAP PREFIX N [--only SENSOR:CC,CC...]
      Split a pcap (Ethernet, IPv4 UDP/TCP) by flow (the unordered address
      and port pair, crc32) into PREFIX0.pcap .. PREFIX{N-1}.pcap. --only:
      the flows of those countries (CCMAP: "address CC" lines, the
      mmdblookup of every address) all go to SENSOR.
  fleet_data.py addrs PCAP
      Every IPv4 address of the capture, one a line (for mmdblookup).
  fleet_data.py render OM PROM NAME=CSV... [--down NAME:T0:T1]
      The metrics each sensor would have exported (include/geotap/
      metric_names.h), sampled at every bin end, from its `geotap analyze`
      csv (with the merge columns): counters cumulated, the last-packet and
      bin-first-packet gauges, up = 1. --down: from T0 to T1 (epoch s) the
      sensor was not scraped: up = 0 and none of its other samples.
      --silent NAME:T0:T1: none of its samples but up stays 1 (the control:
      missing data the watcher cannot tell from silence). --lossy
      NAME:T0:T1: up and scraped, but its capture lost every frame of
      those bins: its counters stand still, geotap_capture_drops_total
      grows by the packets it missed. A sensor exports a key from its
      first packet on (with zeros after), geotap_keys its key table.
      Written twice from the same samples: OpenMetrics (OM, seconds, for
      promtool tsdb create-blocks-from openmetrics) and the Prometheus text
      format with ms timestamps (PROM, for VictoriaMetrics'
      /api/v1/import/prometheus). Times are rendered to 10 ms: VictoriaMetrics
      keeps 12 significant digits, so both stores then hold the same values.
"""
import csv
import struct
import sys
import zlib
import calendar
import time


def split(pcap, ccmap, prefix, n, only):
    cc = {}
    for line in open(ccmap):
        a, c = line.split()
        cc[a] = c
    force = {}
    for o in only:
        s, _, ccs = o.partition(':')
        for c in ccs.split(','):
            force[c] = int(s)
    with open(pcap, 'rb') as f:
        hdr = f.read(24)
        outs = [open(f'{prefix}{i}.pcap', 'wb') for i in range(n)]
        for o in outs:
            o.write(hdr)
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            _, _, cap, _ = struct.unpack('<IIII', h)
            body = f.read(cap)
            ip = body[14:]
            ihl = (ip[0] & 15) * 4
            src, dst = ip[12:16], ip[16:20]
            sp, dp = struct.unpack('>HH', ip[ihl:ihl + 4]) if ip[9] in (6, 17) else (0, 0)
            a, b = sorted([(src, sp), (dst, dp)])
            s = zlib.crc32(a[0] + struct.pack('>H', a[1]) + b[0] + struct.pack('>H', b[1])) % n
            for addr in (src, dst):
                c = cc.get('.'.join(str(x) for x in addr))
                if c in force:
                    s = force[c]
            outs[s].write(h + body)
        for o in outs:
            o.close()


def addrs(pcap):
    seen = set()
    with open(pcap, 'rb') as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            cap = struct.unpack('<IIII', h)[2]
            ip = f.read(cap)[14:]
            seen.add(ip[12:16])
            seen.add(ip[16:20])
    for a in sorted(seen):
        print('.'.join(str(x) for x in a))


def t10ms(ns):
    return '%.2f' % (round(ns / 1e7) / 100)


def render(om, prom, sensors, down):
    rows = {}          # name -> {bin start: [row]}
    keys = set()
    width = None
    table = {}         # name -> its key table (bin_keys): geotap_keys
    for name, path in sensors:
        d = rows.setdefault(name, {})
        for r in csv.DictReader(open(path)):
            t = calendar.timegm(time.strptime(r['time'], '%Y-%m-%dT%H:%M:%SZ'))
            d.setdefault(t, []).append(r)
            keys.add(r['country'])
            width = int(r['bin_seconds'])
            table[name] = r['bin_keys']
    starts = sorted({t for d in rows.values() for t in d})
    first, last = starts[0], starts[-1]
    samples = []       # (name, labels, value, t)
    for name, _ in sensors:
        cum = {}
        gauges = {}
        frames = lost = 0
        seen = set()   # a sensor exports a key from its first packet on
        for t in range(first - width, last + width, width):
            end = t + width
            mode = next((md for n, t0, t1, md in down if n == name and t0 <= t < t1), None) if t >= first else None
            up = '0' if mode == 'down' else '1'
            for r in rows[name].get(t, []) if t >= first else []:
                c = r['country']
                if mode == 'lossy':
                    lost += int(r['packets_from']) + int(r['packets_to'])
                    continue
                if int(r['packets_from']) + int(r['packets_to']):
                    seen.add(c)
                for m, col in (('geotap_packets_total{direction="from",', 'packets_from'),
                               ('geotap_packets_total{direction="to",', 'packets_to'),
                               ('geotap_bytes_total{direction="from",', 'bytes_from'),
                               ('geotap_bytes_total{direction="to",', 'bytes_to'),
                               ('geotap_flow_starts_total{', 'flow_starts')):
                    cum[(m, c)] = cum.get((m, c), 0) + int(r[col])
                cum[('geotap_flow_idle_seconds_total{', c)] = cum.get(('geotap_flow_idle_seconds_total{', c), 0) + int(r['idle_ms'])
                if int(r['packets_from']) + int(r['packets_to']):
                    gauges[('geotap_last_packet_timestamp_seconds{', c)] = t10ms(int(r['last_ns']))
                    gauges[('geotap_bin_first_packet_timestamp_seconds{', c)] = t10ms(int(r['first_ns']))
            if rows[name].get(t) and mode != 'lossy':
                frames += int(rows[name][t][0]['bin_frames'])
            samples.append(('up', f'{{instance="{name}",job="geotap"}}', up if t >= first else '1', end if t >= first else t + width))
            if mode in ('down', 'silent'):
                continue
            ts = end if t >= first else first
            for c in sorted(seen):
                for m in ('geotap_packets_total{direction="from",', 'geotap_packets_total{direction="to",',
                          'geotap_bytes_total{direction="from",', 'geotap_bytes_total{direction="to",',
                          'geotap_flow_starts_total{'):
                    samples.append((m.split('{')[0], m[m.index('{'):] + f'country="{c}",instance="{name}",job="geotap"}}',
                                    str(cum.get((m, c), 0)), ts))
                samples.append(('geotap_flow_idle_seconds_total', f'{{country="{c}",instance="{name}",job="geotap"}}',
                                '%.3f' % (cum.get(('geotap_flow_idle_seconds_total{', c), 0) / 1000), ts))
                for g in ('geotap_last_packet_timestamp_seconds{', 'geotap_bin_first_packet_timestamp_seconds{'):
                    if (g, c) in gauges:
                        samples.append((g[:-1], f'{{country="{c}",instance="{name}",job="geotap"}}', gauges[(g, c)], ts))
            samples.append(('geotap_frames_total', f'{{instance="{name}",interface="tap0",job="geotap",result="ip"}}', str(frames), ts))
            samples.append(('geotap_capture_drops_total', f'{{instance="{name}",interface="tap0",job="geotap"}}',
                            str(lost), ts))
            samples.append(('geotap_keys', f'{{instance="{name}",job="geotap"}}', table[name], ts))
    types = {'up': 'gauge', 'geotap_keys': 'gauge', 'geotap_last_packet_timestamp_seconds': 'gauge',
             'geotap_bin_first_packet_timestamp_seconds': 'gauge'}
    by = {}
    for m, lab, v, t in samples:
        by.setdefault(m, []).append((lab, v, t))
    with open(om, 'w') as f, open(prom, 'w') as g:
        for m, ss in by.items():
            ty = types.get(m, 'counter')
            fam = m[:-len('_total')] if ty == 'counter' else m
            f.write(f'# TYPE {fam} {ty}\n')
            for lab, v, t in sorted(ss, key=lambda x: (x[0], x[2])):
                f.write(f'{m}{lab} {v} {t}\n')
                g.write(f'{m}{lab} {v} {t * 1000}\n')
        f.write('# EOF\n')
    print(f'rendered {len(samples)} samples of {len(sensors)} sensors, {len(keys)} keys, bins of {width} s '
          f'from {first} to {last + width}')


def main(a):
    if a[0] == 'split':
        only = [a[i + 1] for i in range(len(a)) if a[i] == '--only']
        split(a[1], a[2], a[3], int(a[4]), only)
    elif a[0] == 'addrs':
        addrs(a[1])
    elif a[0] == 'render':
        down = []
        sensors = []
        i = 3
        while i < len(a):
            if a[i] in ('--down', '--silent', '--lossy'):
                n, t0, t1 = a[i + 1].split(':')
                down.append((n, int(t0), int(t1), a[i][2:]))
                i += 2
            else:
                n, _, p = a[i].partition('=')
                sensors.append((n, p))
                i += 1
        render(a[1], a[2], sensors, down)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
