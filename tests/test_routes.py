#!/usr/bin/env python3
"""Integration test of --routes against an independent oracle.

The oracle runs Debian's `bgpdump -m` on the real MRT files itself, replays
the records per (peer, prefix) in Python and applies the path rules of
include/geotap/routes.h, written here from the documented rules (not from the
C code). The library side is tests/test_routes_dump (gt_routes_load on the
MRT file, which runs bgpdump through a pipe; also on the text and gzip text
forms of the same data)."""
import gzip
import ipaddress
import os
import random
import re
import subprocess
import sys
import tempfile

SHARED = os.environ.get("GEOTAP_SHARED") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BUILD = os.environ.get("GEOTAP_BUILD", "build")
DUMP = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BUILD, "tests", "test_routes_dump")
BGP = os.path.join(SHARED, "bgp")
failures = 0
checks = 0


def check(cond, msg):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        if failures <= 30:
            print("FAIL:", msg, file=sys.stderr)


# ---- oracle -----------------------------------------------------------------

def asn(tok):
    if "." in tok:
        hi, lo = tok.split(".")
        return int(hi) * 65536 + int(lo)
    return int(tok)


SEG = re.compile(r"\{[^}]*\}|\([^)]*\)|\[[^\]]*\]|[0-9.]+")


def origin_upstream(path):
    """(origin, upstream) by the documented rules."""
    elems = []                       # (asn, is_multi_member_set)
    for tok in SEG.findall(path):
        if tok[0] in "([":           # confederation segments: internal, skipped
            continue
        if tok[0] == "{":
            members = [asn(x) for x in re.split(r"[,\s]+", tok[1:-1]) if x]
            if members:
                elems.append((min(members), len(members) > 1))
            continue
        elems.append((asn(tok), False))
    if not elems:
        return 0, 0
    if elems[-1][1]:                 # aggregate: the AS before the set originated it
        if len(elems) == 1:
            return elems[0][0], 0
        elems = elems[:-1]
    seq = []
    for a, _ in elems:
        if not seq or seq[-1] != a:
            seq.append(a)
    return seq[-1], (seq[-2] if len(seq) > 1 else 0)


def norm_prefix(p):
    """Canonical text of a prefix, host bits cleared (IPv4 by hand: it is hot)."""
    if ":" in p:
        return str(ipaddress.ip_network(p, strict=False))
    a, l = p.split("/")
    b = a.split(".")
    v = (int(b[0]) << 24) | (int(b[1]) << 16) | (int(b[2]) << 8) | int(b[3])
    l = int(l)
    v &= (0xFFFFFFFF << (32 - l)) & 0xFFFFFFFF
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}/{l}"


def replay(lines):
    """Final table: {prefix: {peer: (origin, upstream)}}, plus withdrawn-at-end prefixes."""
    table = {}
    ever_withdrawn = set()
    for line in lines:
        f = line.rstrip("\n").split("|")
        if len(f) < 5:
            continue
        kind, sub, peer = f[0], f[2], (f[3], f[4])
        if sub == "STATE":
            if f[5] == "6" and f[6] != "6":          # session down: peer's routes are gone
                for routes in table.values():
                    routes.pop(peer, None)
            continue
        # bgpdump prints prefixes canonically; the IPv6 text is normalised
        # like inet_ntop so both sides spell it the same
        pfx = norm_prefix(f[5]) if ":" in f[5] else f[5]
        if sub in ("A", "B"):
            table.setdefault(pfx, {})[peer] = f[6]      # path, evaluated lazily
        elif sub == "W":
            ever_withdrawn.add(pfx)
            if pfx in table:
                table[pfx].pop(peer, None)
    live = {p: r for p, r in table.items() if r}
    return live, ever_withdrawn


_ou_cache = {}


def summary(routes):
    """(origin, dominant upstream, {upstream: paths}) of {peer: path}."""
    oc, uc = {}, {}
    for path in routes.values():
        ou = _ou_cache.get(path)
        if ou is None:
            ou = _ou_cache[path] = origin_upstream(path)
        o, u = ou
        oc[o] = oc.get(o, 0) + 1
        uc[u] = uc.get(u, 0) + 1
    origin = min(oc, key=lambda a: (-oc[a], a))
    real = [a for a in uc if a]
    up = min(real, key=lambda a: (-uc[a], a)) if real else 0
    return origin, up, uc


def bgpdump_lines(path):
    out = subprocess.run(["bgpdump", "-m", path], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    return out.splitlines()


# ---- library side -------------------------------------------------------------

def lib_dump(path, addrs=None):
    """Library table {prefix: (origin, upstream, paths, distinct, shares)} and,
    with addrs, {addr: (prefix, origin, upstream, exported name)}."""
    with tempfile.NamedTemporaryFile("w", suffix=".addrs") as af:
        args = [DUMP, path]
        if addrs:
            af.write("\n".join(addrs) + "\n")
            af.flush()
            args = [DUMP, "-q", af.name, path]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"test_routes_dump {path} failed: {r.stderr}")
    sys.stderr.write(f"  {os.path.basename(path)}: {r.stderr}")
    out, res = {}, {}
    for line in r.stdout.splitlines():
        if line.startswith("Q|"):
            _, a, p, o, u, name = line.split("|")
            res[a] = (p, int(o), int(u), name)
            continue
        out[line[:line.index("|")]] = line     # parsed on demand (parse_lib)
    return (out, res) if addrs else out


def parse_lib(line):
    p, o, u, n, ntot, ups = line.split("|")
    shares = {}
    for item in ups.split(","):
        a, c, s = item.split(":")
        shares[int(a)] = (int(c), float(s))
    return (int(o), int(u), int(n), int(ntot), shares)


class LazySummary(dict):
    """{prefix: summary(routes)} computed on first use."""
    def __init__(self, live):
        super().__init__()
        self.live = live

    def __contains__(self, p):
        return p in self.live

    def __missing__(self, p):
        v = self[p] = summary(self.live[p])
        return v


def oracle_lpm(live_summ, addr):
    bits = 128 if ":" in addr else 32
    for l in range(bits, -1, -1):
        net = norm_prefix(f"{addr}/{l}")
        if net in live_summ:
            return net
    return None


def compare_tables(name, live, lib, sample):
    """Every live prefix present on both sides; sampled ones compared in full."""
    a, b = set(live), set(lib)
    if a != b:
        check(False, f"{name}: live prefix sets differ: oracle-only {sorted(a - b)[:5]}, "
              f"library-only {sorted(b - a)[:5]}")
    else:
        check(True, "")
    mism = 0
    for p in sample:
        o, u, uc = summary(live[p])
        got = lib.get(p)
        if got is None:
            continue
        got = parse_lib(got)
        go, gu, gn, gtot, gshares = got
        n = len(live[p])
        ok = (go, gu, gn, gtot) == (o, u, n, len(uc)) and \
            {a: c for a, (c, _) in gshares.items()} == uc and \
            all(abs(s - uc[a] / n) < 1e-9 for a, (_, s) in gshares.items())
        if not ok:
            mism += 1
        check(ok, f"{name} {p}: oracle origin {o} upstream {u} paths {n} {uc}; library {got}")
    print(f"{name}: {len(live)} live prefixes, {len(sample)} sampled, {mism} disagree", file=sys.stderr)


def main():
    rnd = random.Random(20141222)

    # 1. updates.et-header.2015.gz: one peer, full table (BGP4MP_ET)
    path = os.path.join(BGP, "updates.et-header.2015.gz")
    lines = bgpdump_lines(path)
    live, _ = replay(lines)
    summ = LazySummary(live)
    addrs = ["175.45.176.1", "175.45.179.255", "175.45.177.77", "10.0.0.1", "2001:db8::1"]
    for p in rnd.sample(sorted(live), 2000):
        net = ipaddress.ip_network(p)
        addrs.append(str(net[0]))
        addrs.append(str(net[-1]))
        addrs.append(str(net[rnd.randrange(net.num_addresses)]))
    lib, res = lib_dump(path, addrs)
    for i in range(4):
        p = f"175.45.{176 + i}.0/24"
        got = parse_lib(lib[p]) if p in lib else None
        check(got and got[:2] == (131279, 4837), f"{p}: want origin 131279 upstream 4837, got {got}")
        check(summ[p][:2] == (131279, 4837), f"oracle {p}: {summ[p]}")
    sample = rnd.sample(sorted(live), 3000)
    compare_tables("et-header", live, lib, sample)

    # longest-prefix query and the exported rangeset, at addresses inside sampled prefixes
    mism = 0
    for a in addrs:
        best = oracle_lpm(summ, a)
        exp = (best or "-", summ[best][0] if best else 0, summ[best][1] if best else 0,
               f"AS{summ[best][1]}" if best and summ[best][1] else "")
        got = res.get(a)
        if got != exp:
            mism += 1
            check(False, f"lookup {a}: oracle {exp}, library {got}")
    check(res["175.45.177.77"][3] == "AS4837", "175.45.177.77 exported upstream must be AS4837")
    print(f"lookups: {len(addrs)} addresses, {mism} disagree", file=sys.stderr)

    # the same data as bgpdump text, plain and gzip, read without bgpdump
    with tempfile.TemporaryDirectory() as tmp:
        txt = os.path.join(tmp, "et.txt")
        with open(txt, "w") as f:
            f.write("\n".join(lines[:30000]) + "\n")
        gz = os.path.join(tmp, "et.txt.gz")
        with gzip.open(gz, "wt", compresslevel=1) as f:
            f.write("\n".join(lines[:80000]) + "\n")
        for name, fpath, n in (("plain text", txt, 30000), ("gzip text", gz, 80000)):
            live_t, _ = replay(lines[:n])
            compare_tables(f"et-header ({name}, first {n} lines)", live_t, lib_dump(fpath),
                           rnd.sample(sorted(live_t), 1000))

    # 2. updates.20160811.1600.gz: 35 peers, v4+v6, withdrawals and session resets in order
    path = os.path.join(BGP, "updates.20160811.1600.gz")
    lines = bgpdump_lines(path)
    live, withdrawn = replay(lines)
    lib = lib_dump(path)
    gone = sorted(withdrawn - set(live))
    check(len(gone) > 0, "expected prefixes withdrawn at the end")
    for p in gone:
        check(p not in lib, f"{p} is withdrawn at the end but the library still has it")
    check(any(":" in p for p in live), "expected IPv6 prefixes")
    compare_tables("updates.20160811", live, lib, sorted(live))
    print(f"updates.20160811: {len(gone)} prefixes withdrawn at the end, absent", file=sys.stderr)

    # 3. bview.20020722.2337.gz: RIB with 36 peers; shares sum to 1
    path = os.path.join(BGP, "bview.20020722.2337.gz")
    lines = bgpdump_lines(path)
    live, _ = replay(lines)
    lib = lib_dump(path)
    bad = 0
    for p, line in lib.items():
        o, u, n, ntot, shares = parse_lib(line)
        ok = ntot == len(shares) and abs(sum(s for _, s in shares.values()) - 1.0) < 1e-9 and \
            sum(c for c, _ in shares.values()) == n
        bad += not ok
        check(ok, f"bview {p}: shares {shares} do not sum to 1 over {n} paths")
    maxpaths = max(len(r) for r in live.values())
    check(maxpaths >= 3 and max(parse_lib(v)[2] for v in lib.values()) == maxpaths,
          f"most paths for one prefix: oracle {maxpaths}")
    multi = sorted(p for p in live if len(live[p]) > 1)
    sample = rnd.sample(multi, min(2000, len(multi))) + rnd.sample(sorted(live), 2000)
    compare_tables("bview", live, lib, sample)
    print(f"bview: {len(lib)} prefixes, shares not summing to 1: {bad}; {len(multi)} with several paths",
          file=sys.stderr)

    print(f"{checks} checks, {failures} failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
