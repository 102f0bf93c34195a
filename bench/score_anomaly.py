#!/usr/bin/env python3
"""Score anomaly events (JSON lines) against a scenario's labels (bench/gen_scenario).

usage: score_anomaly.py LABELS EVENTS [LABELS EVENTS ...] [--fa-per-day B] [--budget-keys K]

Several label/event pairs are pooled. The theoretical minimum detection delay
of an outage is ln(1/alpha)/lambda, with lambda the key's true rate of
independent arrivals at the outage start (flow starts for a scenario whose
unit is flows, packets for Poisson packets) and alpha = B / (K * 86400 / bin)
(K = the scenario's keys unless --budget-keys). Goals (PASS/FAIL each; exit 1 when any fails):
  recall of drop_to_zero >= 0.99 over outages longer than twice the minimum delay
  precision of drop_to_zero >= 0.99
  median over outages of delay / (1.5 * minimum + one bin) <= 1
  restoration reported within two bins plus three mean inter-arrival times
    (3 / lambda at the outage end) of the outage end (>= 99 % of the detected
    outages of keys expecting >= 10 arrivals per bin at the end; slower keys
    are reported apart)
  zero flaps (a second drop within one outage, a restored event while the
    labelled outage goes on, or one that ends no declared drop; the restored
    event ending a false drop is counted with that false drop, not as a flap)
  no country events inside a capture gap (from its start to two bins after its end)
A scenario without outages (gen_scenario --no-outages) is scored on its false
drops instead: at most twice the budget over its days (B * keys' share * days,
rounded up), the ones at the onset of a partial drop or level shift listed apart.
"""
import json
import math
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ts(s):
    """RFC 3339 UTC with up to 9 fractional digits -> float seconds."""
    import calendar
    import time
    main, _, frac = s.rstrip('Z').partition('.')
    t = calendar.timegm(time.strptime(main, '%Y-%m-%dT%H:%M:%S'))
    return t + (float('0.' + frac) if frac else 0.0)


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float('nan')
    i = min(len(xs) - 1, max(0, int(math.ceil(q * len(xs))) - 1))
    return xs[i]


def main(argv):
    args, fa, bk = [], 0.01, None
    i = 0
    while i < len(argv):
        if argv[i] == '--fa-per-day':
            fa = float(argv[i + 1]); i += 2
        elif argv[i] == '--budget-keys':
            bk = int(argv[i + 1]); i += 2
        else:
            args.append(argv[i]); i += 1
    if len(args) < 2 or len(args) % 2:
        print(__doc__, file=sys.stderr)
        return 2

    outages = []            # dicts with key, start, end, rate, tmin, matched drop, restored
    fp = []                 # (event, context)
    flaps = []
    gap_events = []
    fp_restored = []
    gaps_labelled = 0
    gaps_reported = 0
    not_meas = []
    binw = None
    nev = 0
    days = 0.0
    partials = 0
    for li in range(0, len(args), 2):
        labels, events = load(args[li]), load(args[li + 1])
        scen = next(l for l in labels if l['type'] == 'scenario')
        binw = scen['bin']
        K = bk or scen['keys']
        days += (scen['end_s'] - scen['start_s']) / 86400.0
        alpha = fa / (K * 86400.0 / binw)
        lthr = math.log(1 / alpha)
        rate = {l['country']: l for l in labels if l['type'] == 'key'}
        outs = [dict(key=l['country'], start=l['start_s'], end=l['end_s'], rate=l['rate_at_start'],
                     tmin=lthr / l['rate_at_start'], drop=None, restored=None, strays=l['strays'],
                     end_rate=None)
                for l in labels if l['type'] == 'outage']
        outages.extend(outs)
        for o, l in zip(outs, [l for l in labels if l['type'] == 'outage']):
            k = rate[o['key']]
            h = (o['end'] / 3600.0) % 24
            o['end_rate'] = l.get('rate_at_end') or \
                k['rate'] * (1 + k['amplitude'] * math.sin(2 * math.pi * (h - k['phase_h']) / 24))
        others = [l for l in labels if l['type'] in ('partial', 'lull', 'shift')]
        partials += sum(1 for l in others if l['type'] == 'partial')
        gaps = [l for l in labels if l['type'] == 'capture_gap']
        gaps_labelled += len(gaps)
        by_key = {}
        for o in outs:
            by_key.setdefault(o['key'], []).append(o)
        for e in events:
            nev += 1
            t = e['type']
            if t == 'capture_gap':
                gs, ge = ts(e['start']), ts(e['end']) if e.get('end') else float('inf')
                if any(gs < g['end_s'] + binw and g['start_s'] - binw < ge for g in gaps):
                    gaps_reported += 1
                else:
                    fp.append((e, 'capture_gap not labelled'))
                continue
            if t == 'not_measurable':
                not_meas.append(e['key'].get('country'))
                continue
            key = e['key'].get('country')
            det = ts(e['detected'])
            in_gap = any(g['start_s'] <= det <= g['end_s'] + 2 * binw for g in gaps)
            if t == 'drop_to_zero':
                # the drop is about an outage when its silence (last_seen ..
                # detected) reaches into it: a slow key may be declared just
                # after the labelled end, before its first packet back
                ls = ts(e['last_seen'])
                m = [o for o in by_key.get(key, []) if ls <= o['end'] and o['start'] <= det]
                if m:
                    o = m[0]
                    if o['drop'] is None:
                        o['drop'] = det
                    else:
                        flaps.append((e, 'second drop in one outage'))
                    continue
                if in_gap:
                    gap_events.append(e)
                ctx = 'other'
                for l in others:
                    if l['country'] == key and l['start_s'] <= det <= l['end_s'] + 2 * binw:
                        ctx = l['type']
                fp.append((e, 'inside capture gap' if in_gap else ctx))
            elif t == 'restored':
                fs = ts(e['first_seen'])
                inside = [o for o in by_key.get(key, []) if o['start'] <= fs < o['end']]
                m = [o for o in by_key.get(key, []) if o['drop'] is not None and o['start'] <= fs
                     and o['end'] - 1e-6 <= det and o['restored'] is None]
                if inside:
                    flaps.append((e, 'restored while the outage went on'))
                elif m:
                    m[0]['restored'] = det
                elif any(f['type'] == 'drop_to_zero' and f['key'] == e['key'] and f['last_seen'] == e['last_seen']
                         for f, c in fp):
                    fp_restored.append(e)       # the end of a false drop: counted with it
                else:
                    if in_gap:
                        gap_events.append(e)
                    flaps.append((e, 'restored ending no outage'))

    if not outages:
        return quiet(fp, fa, days, K, bk, partials)
    return report(outages, fa, binw, nev, fp, flaps, gap_events, gaps_labelled, gaps_reported, not_meas, fp_restored)


def quiet(fp, fa, days, K, bk, partials):
    drops = [(e, c) for e, c in fp if e['type'] == 'drop_to_zero']
    budget = fa * days * (K / bk if bk else 1)
    allowed = math.ceil(2 * budget)
    ctx = {}
    for e, c in drops:
        ctx[c] = ctx.get(c, 0) + 1
    ok = len(drops) <= allowed
    print(f"{'PASS' if ok else 'FAIL'}  false drops over {days:.1f} days without outages <= 2 x budget "
          f"(rounded up, {allowed}): {len(drops)} (budget {fa}/day -> {budget:.3f} expected; " +
          (", ".join(f"{v} {k}" for k, v in sorted(ctx.items())) or "none") + ")")
    print(f"      {len(drops) / days:.3f} false drops/day = {len(drops) / budget:.1f} x the budget; "
          f"{ctx.get('partial', 0)} at the onset of {partials} partial drops")
    for e, c in drops[:10]:
        print(f"      false drop: {e['key']} detected {e['detected']} silent {e.get('silence_s')} s "
              f"expected {e.get('expected_rate')}/s ({c})")
    print("ALL GOALS PASS" if ok else "SOME GOALS FAIL")
    return 0 if ok else 1


def report(outages, fa, binw, nev, fp, flaps, gap_events, gaps_labelled, gaps_reported, not_meas, fp_restored):
    goals = []

    def goal(name, ok, detail):
        goals.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    drops_tp = [o for o in outages if o['drop'] is not None]
    n_drop_events = len(drops_tp) + len(fp) - sum(1 for e, c in fp if e['type'] != 'drop_to_zero') \
        + sum(1 for e, c in flaps if e['type'] == 'drop_to_zero')
    fp_drops = [(e, c) for e, c in fp if e['type'] == 'drop_to_zero']
    elig = [o for o in outages if o['end'] - o['start'] > 2 * o['tmin']]
    found = [o for o in elig if o['drop'] is not None]
    short = [o for o in outages if o not in elig]
    print(f"events read: {nev}; labelled outages: {len(outages)} "
          f"({len(elig)} longer than twice the minimum delay, {len(short)} shorter)")
    recall = len(found) / len(elig) if elig else 1.0
    missed = [o for o in elig if o['drop'] is None]
    goal("recall of drop_to_zero >= 0.99", recall >= 0.99,
         f"{recall:.4f} ({len(found)}/{len(elig)})" +
         ("; missed: " + ", ".join(f"{o['key']}@{o['rate']:.3g}/s {o['end'] - o['start']:.0f}s"
                                   for o in missed[:8]) if missed else ""))
    if short:
        print(f"      short outages detected anyway: {sum(1 for o in short if o['drop'] is not None)}/{len(short)}")
    ndrop = len(drops_tp) + len(fp_drops) + sum(1 for e, c in flaps if e['type'] == 'drop_to_zero')
    prec = len(drops_tp) / ndrop if ndrop else 1.0
    ctx = {}
    for e, c in fp_drops:
        ctx[c] = ctx.get(c, 0) + 1
    goal("precision of drop_to_zero >= 0.99", prec >= 0.99,
         f"{prec:.4f} ({len(drops_tp)} true of {ndrop}; false: " +
         (", ".join(f"{v} {k}" for k, v in sorted(ctx.items())) or "none") + ")")
    for e, c in fp_drops[:10]:
        print(f"      false drop: {e['key']} detected {e['detected']} silent {e.get('silence_s')} s "
              f"expected {e.get('expected_rate')}/s ({c})")

    ratios = [(o['drop'] - o['start']) / (1.5 * o['tmin'] + binw) for o in drops_tp]
    delays = [o['drop'] - o['start'] for o in drops_tp]
    excess = [(o['drop'] - o['start']) / o['tmin'] for o in drops_tp if o['tmin'] > binw]
    med = statistics.median(ratios) if ratios else float('nan')
    goal("median delay <= 1.5 x minimum + one bin", med <= 1.0,
         f"median of delay/(1.5*min+bin) = {med:.3f}; delay median {statistics.median(delays) if delays else 0:.1f} s, "
         f"p90 {pct(delays, 0.9):.1f} s; max ratio {max(ratios) if ratios else 0:.2f}")
    if excess:
        print(f"      keys slower than one bin to decide ({len(excess)} outages): delay/minimum median "
              f"{statistics.median(excess):.3f}, p90 {pct(excess, 0.9):.3f}")

    rest = [o for o in drops_tp if o['end_rate'] * binw >= 10]
    slow = [o for o in drops_tp if o['end_rate'] * binw < 10]
    ontime = [o for o in rest if o['restored'] is not None and o['restored'] - o['end'] <= 2 * binw + 3 / o['end_rate']]
    rd = [o['restored'] - o['end'] for o in rest if o['restored'] is not None]
    share = len(ontime) / len(rest) if rest else 1.0
    goal("restoration within two bins + 3 inter-arrivals", share >= 0.99,
         f"{len(ontime)}/{len(rest)} ({share:.4f}); delay median {statistics.median(rd) if rd else 0:.1f} s, "
         f"max {max(rd) if rd else 0:.1f} s")
    sd = [o['restored'] - o['end'] for o in slow if o['restored'] is not None]
    if slow:
        print(f"      slower keys (< 10 arrivals per bin): restored {len(sd)}/{len(slow)}, delay median "
              f"{statistics.median(sd) if sd else 0:.0f} s, p90 {pct(sd, 0.9):.0f} s")
    nrest = sum(1 for o in drops_tp if o['restored'] is not None)
    print(f"      restored events matched: {nrest}/{len(drops_tp)} detected outages; "
          f"stray packets inside outages: {sum(o['strays'] for o in outages)}")
    if fp_restored:
        print(f"      restored events ending a false drop: {len(fp_restored)}")
    goal("zero flaps", not flaps, f"{len(flaps)}" +
         ("; " + ", ".join(f"{e['type']} {e['key']} {e['detected']} ({c})" for e, c in flaps[:6]) if flaps else ""))
    goal("no country events inside the capture gap", not gap_events,
         f"{len(gap_events)} events; capture gaps reported {gaps_reported} for {gaps_labelled} labelled")
    if not_meas:
        print(f"      not measurable: {', '.join(sorted(set(filter(None, not_meas))))}")
    print("ALL GOALS PASS" if all(goals) else "SOME GOALS FAIL")
    return 0 if all(goals) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
