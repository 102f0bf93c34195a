#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/)
from the shared test data: frames split out of the captures (byte 0 = link
type index and decap flag, as fuzz_parse.c reads it), capture heads of a few
records, map/route/CSV lines. Deterministic; kept small (a few hundred KB).
Usage: GEOTAP_SHARED=... make_corpus.py [OUTDIR]"""
import glob
import gzip
import hashlib
import os
import random
import struct
import sys

SHARED = os.environ["GEOTAP_SHARED"]
SRC = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "corpus")
# fuzz_parse.c's dlts[] order
DLTS = [0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228, 229, 276]


def put(kind, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def records(path):
    """(link type, [(frame bytes, header+record bytes)], file header, kind) of a capture."""
    data = open(path, "rb").read()
    m = data[:4]
    if m in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if m in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        dlt = struct.unpack(e + "I", data[20:24])[0] & 0xffff
        off, out = 24, []
        while off + 16 <= len(data) and len(out) < 64:
            cl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            out.append((data[off + 16:off + 16 + cl], data[off:off + 16 + cl]))
            off += 16 + cl
        return dlt, out, data[:24], "pcap"
    if m == b"\n\r\r\n":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, out, dlt, head = 0, [], None, b""
        while off + 12 <= len(data) and len(out) < 64:
            bt, bl = struct.unpack(e + "II", data[off:off + 8])
            if bl < 12:
                break
            blk = data[off:off + bl]
            if bt == 1 and dlt is None:
                dlt = struct.unpack(e + "H", blk[8:10])[0]
            if bt == 6 and len(blk) >= 28:
                cl = struct.unpack(e + "I", blk[20:24])[0]
                out.append((blk[28:28 + cl], blk))
            elif not out:
                head += blk
            off += bl
        return dlt, out, head, "pcapng"
    return None, [], b"", None


def main():
    rng = random.Random(11)
    caps = sorted(glob.glob(os.path.join(SHARED, "pcap", "*")))
    heads = 0
    for p in caps:
        dlt, recs, head, kind = records(p)
        if dlt is None or not recs:
            continue
        if dlt in DLTS:
            for i in sorted({0, len(recs) // 2, len(recs) - 1})[:3]:
                fr = recs[i][0][:256]
                put("parse", bytes([DLTS.index(dlt) + 17 * rng.randrange(2)]) + fr)
        # capture heads: header + the first records, under 3 kB
        if heads < 40:
            body = b""
            for _, r in recs[:6]:
                if len(head) + len(body) + len(r) > 3000:
                    break
                body += r
            if body:
                put("pcap", head + body)
                heads += 1
    for n in ("nsec_frac_big.pcap", "ts_backward.pcap", "pcapng_ts_seconds_2p40.pcapng"):
        put("pcap", open(os.path.join(SHARED, "repro", n), "rb").read())
    # upstream maps
    put("upstream_map", b"# comment\nprefix 10.0.0.0/8 Transit A\nprefix 2001:db8::/32 AS64500\n"
        b"asn 3356 Lumen\nasn AS174 Cogent # trailing\nvlan 100 Peering\n"
        b"mac 00:11:22:33:44:55 IX\ninterface eth1 Upstream B\n")
    put("upstream_map", b"prefix 0.0.0.0/1 Outer\nprefix 10.0.0.0/24 Inner\nprefix 10.0.2.0/24 Inner\n")
    put("upstream_map", b"prefix 10.0.0.0/8 A\nprefix 10.0.0.0/8 B\n")
    put("upstream_map", b"mac 00-11-22-33-44-55 A\r\nvlan 4094 B\n\n   \n")
    # routes: bgpdump -m lines (byte 0 even: line mode; odd: a gzip file)
    lines = gzip.open(os.path.join(SRC, "..", "..", "bench", "data", "kp2014-routes.txt.gz"), "rb").read().splitlines()
    for k in range(0, 120, 30):
        put("routes", b"\x00" + b"\n".join(lines[k:k + 30]) + b"\n")
    put("routes", b"\x01" + gzip.compress(b"\n".join(lines[:10]) + b"\n", mtime=0))
    put("routes", b"\x00BGP4MP|1|A|192.0.2.1|65000|10.0.0.0/8|65000 {1,2} (3 4) 5|IGP\n"
        b"BGP4MP|2|W|192.0.2.1|65000|10.0.0.0/8\nBGP4MP|3|STATE|192.0.2.1|65000|6|1\n"
        b"TABLE_DUMP2|4|B|2001:db8::1|65001|2001:db8::/32|65001 174 3356|IGP\n")
    # ASN CSVs: lines of the cached @ip-location-db/asn files
    asn = sorted(glob.glob(os.path.expanduser("~/.cache/geotap/asn-*/*.csv")))
    for p in asn[:2]:
        with open(p, "rb") as f:
            ls = f.read(1 << 20).splitlines()
        six = b"ipv6" in os.path.basename(p).encode()
        put("asn_csv", bytes([six]) + b"\n".join(ls[:40]) + b"\n")
        put("asn_csv", bytes([six]) + b"\n".join(ls[1000:1030]) + b"\n")
    put("asn_csv", b"\x00" + open(os.path.join(SHARED, "repro", "asn_nested_shuffled.csv"), "rb").read()[:3000])
    put("asn_csv", b"\x01" + b'0,4294967295,1,"Org, with ""quotes"""\n::,ffff::,2,X\n')
    # config files (byte 0 odd: live, even: analyze): the shipped example and a few lines
    put("config", b"\x01" + open(os.path.join(SRC, "..", "..", "dist", "geotap.conf.example"), "rb").read())
    put("config", b"\x01# sensor\ninterface: eth0\nworkers: 4   # cores\nhome-net: 10.0.0.0/8\r\n"
        b"home-net: fd00::/8\ndecap: yes\nalertmanager: http://127.0.0.1:9093/#x\nbin: 0\n")
    put("config", b"\x00bin: 60\nformat: csv\nby: country,asn\nfa-budget: 0.5\nbytes: l3\nquiet: no\n")
    put("config", b"\x01wokers: 3\nbin x\ninterface:\n")
    for k in range(6):
        put("classifier", bytes(rng.randrange(256) for _ in range(9 * (4 + 8 * k))))
        put("anomaly", bytes(rng.randrange(256) for _ in range(600 * (k + 1))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
