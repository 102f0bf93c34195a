#!/usr/bin/env python3
"""Independent oracle for geotap's per-country counts: what tshark says.

Usage: tshark_oracle.py [options] FILE DB
  DB is a GeoLite2-Country.mmdb file, or a directory holding exactly one .mmdb.

Prints CSV `country,packets_from,bytes_from,packets_to,bytes_to` (sorted by
country) and, on stderr, one `# oracle: ...` line of frame statistics.

Rules (they mirror the geotap analyze contract, issue 2):
  * only the OUTER IP header counts: the first `ip` or `ipv6` token of
    frame.protocols. Tunnels (6in4, 6in6, GTP, CAPWAP), and ICMP errors that
    quote an inner header, produce more ip/ipv6 layers; they are ignored.
  * bytes are frame.len (the original length, link header included).
  * country is that layer's geoip {src,dst}_country_iso, "ZZ" when the address
    is not in the database (tshark then emits no geoip subtree at all).
  * frames without an ip/ipv6 layer are counted as `nonip`; frames whose outer
    ip/ipv6 layer lacks a source or destination address (tshark saw a bogus
    version or header length, or the capture ends inside the header) are
    counted as `noaddr`. Neither appears per country.

Why JSON and not `-T fields`: fields flattens repeated occurrences, so with
two ip layers one cannot tell which geoip value belongs to the outer header
(and a missing geoip value just vanishes from the list). `-T json
--no-duplicate-keys` keeps one subtree per layer, repeated layers as a list
in packet order.

Results are cached (key: sha256 of the capture, the database, this script,
the tshark version and the options) because tshark costs ~1 s per file and
the integration suite runs once per build flavour. GEOTAP_ORACLE_CACHE=off
disables the cache; =DIR moves it.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

# tshark's maxmind code also scans these default directories; a database
# there (e.g. a City or ASN one) would mix into the oracle's answers.
TSHARK_DEFAULT_MMDB_DIRS = ("/usr/share/GeoIP", "/var/lib/GeoIP")

ORACLE_VERSION = 3


class OracleError(Exception):
    pass


def _sha256_file(path, h=None):
    h = h or hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h


def tshark_version():
    """Identifies the installed tshark for the cache key without starting it
    (a start costs ~0.5 s): path, size and mtime of the binary and library."""
    ids = []
    exe = shutil.which("tshark")
    if exe is None:
        raise OracleError("tshark is not installed (Debian package tshark)")
    for path in [exe] + sorted(glob.glob("/usr/lib/*/libwireshark.so.*")):
        try:
            st = os.stat(path)
            ids.append(f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            pass
    return ";".join(ids)


def check_default_dirs():
    """Refuse to run when tshark would silently load other databases."""
    for d in TSHARK_DEFAULT_MMDB_DIRS:
        if os.path.isdir(d) and any(n.endswith(".mmdb") for n in os.listdir(d)):
            raise OracleError(f"{d} holds .mmdb files that tshark loads besides ours; "
                              "the oracle would be polluted")


class MmdbDir:
    """A temporary directory holding only a symlink to the given database, as
    tshark takes directories (uat:maxmind_db_paths) and reads every .mmdb there."""

    def __init__(self, db):
        self.db = os.path.abspath(db)
        self.tmp = None

    def __enter__(self):
        if os.path.isdir(self.db):
            mm = [n for n in os.listdir(self.db) if n.endswith(".mmdb")]
            if len(mm) != 1:
                raise OracleError(f"{self.db}: need exactly one .mmdb in the directory, found {mm}")
            self.file = os.path.join(self.db, mm[0])
        else:
            self.file = self.db
        if not os.path.isfile(self.file):
            raise OracleError(f"{self.file}: no such database")
        self.tmp = tempfile.mkdtemp(prefix="gt-oracle-mmdb.")
        os.symlink(self.file, os.path.join(self.tmp, os.path.basename(self.file)))
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.tmp, ignore_errors=True)


def _iter_json_array(text):
    """Yields the objects of tshark's top-level JSON array. Tolerates an
    output cut short (tshark stopping on a corrupt file): yields what parsed."""
    dec = json.JSONDecoder()
    i = text.find("[")
    if i < 0:
        return
    i += 1
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == "]":
            return
        try:
            obj, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            return
        yield obj


def _layer_occurrence(layers, name, k):
    """The k-th (0-based) layer called name: --no-duplicate-keys turns
    repeated layers into a list in packet order."""
    layer = layers.get(name)
    if layer is None:
        # Named in frame.protocols but no bytes to show: the capture ends
        # right where the header would start.
        return None
    if isinstance(layer, list):
        return layer[k] if k < len(layer) else None
    return layer if k == 0 else None


def _has_addrs(name, layer):
    return layer is not None and name + ".src" in layer and name + ".dst" in layer


def _outer_layer(layers):
    """The outer IP header of the frame: the first ip/ipv6 token of
    frame.protocols, and its layer; (None, None) when the frame has none.

    One exception, tshark's own: an IPv4 ethertype carrying a version-6
    header gives an `ip` layer with no addresses ("Bogus IPv4 version") whose
    dissector hands the bytes to IPv6; the ipv6 layer right after it is then
    the outer header (tshark counts it, geoip and all)."""
    protos = layers.get("frame", {}).get("frame.protocols", "").split(":")
    seen = {"ip": 0, "ipv6": 0}
    for i, tok in enumerate(protos):
        if tok not in seen:
            continue
        layer = _layer_occurrence(layers, tok, seen[tok])
        seen[tok] += 1
        if tok == "ip" and not _has_addrs("ip", layer) and i + 1 < len(protos) \
                and protos[i + 1] == "ipv6":
            return "ipv6", _layer_occurrence(layers, "ipv6", 0)
        return tok, layer
    return None, None


def _find(tree, key):
    """First value of key anywhere in a layer's subtree (geoip fields sit in
    *_summary_tree sub-objects)."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for v in tree.values():
            r = _find(v, key)
            if r is not None:
                return r
    elif isinstance(tree, list):
        for v in tree:
            r = _find(v, key)
            if r is not None:
                return r
    return None


def _first(v):
    return v[0] if isinstance(v, list) else v


def run_tshark(path, mmdb_dir, count=None, timeout=600):
    """Runs tshark; returns (its JSON text, exit status, stderr)."""
    cfg = tempfile.mkdtemp(prefix="gt-oracle-cfg.")
    try:
        env = dict(os.environ)
        # An empty profile: no user preferences, no user maxmind_db_paths.
        env["WIRESHARK_CONFIG_DIR"] = cfg
        env["HOME"] = cfg
        env["XDG_CONFIG_HOME"] = cfg
        cmd = ["tshark", "-n", "-r", path,
               "-o", f'uat:maxmind_db_paths:"{mmdb_dir}"',
               "-o", "ip.use_geoip:TRUE",
               "-o", "ipv6.use_geoip:TRUE",
               "-T", "json", "--no-duplicate-keys", "-J", "frame ip ipv6"]
        if count is not None:
            cmd += ["-c", str(count)]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, errors="replace", check=False,
                           timeout=timeout)
        err = "\n".join(l for l in p.stderr.splitlines() if "could be dangerous" not in l)
        return p.stdout, p.returncode, err
    finally:
        shutil.rmtree(cfg, ignore_errors=True)


def analyse(text):
    """Counts per country from tshark's JSON text."""
    countries = {}
    stats = {"frames": 0, "ip": 0, "ip4": 0, "ip6": 0, "nonip": 0, "noaddr": 0,
             "zz_src": 0, "zz_dst": 0, "inner_ip": 0, "bytes": 0, "geoip_no_iso": 0,
             "ip_options": 0, "snapped": 0}
    notes = []
    nonip_kinds = {}
    addrs = {}   # address -> country ISO or "ZZ", for independent spot checks

    def row(cc):
        return countries.setdefault(cc, [0, 0, 0, 0])

    for pkt in _iter_json_array(text):
        layers = pkt["_source"]["layers"]
        frame = layers["frame"]
        flen = int(frame["frame.len"])
        stats["frames"] += 1
        stats["bytes"] += flen
        name, layer = _outer_layer(layers)
        if name is None:
            stats["nonip"] += 1
            k = frame.get("frame.protocols", "")
            nonip_kinds[k] = nonip_kinds.get(k, 0) + 1
            continue
        protos = frame.get("frame.protocols", "").split(":")
        if sum(1 for t in protos if t in ("ip", "ipv6")) > 1:
            stats["inner_ip"] += 1
        layer = layer or {}
        if name == "ip" and int(layer.get("ip.hdr_len", "20")) > 20:
            # tshark reads the addresses (bytes 12-19) even when the frame
            # ends inside the options; a parser calling that "truncated"
            # would differ. The shared data's options (IGMP router alert)
            # are all complete.
            stats["ip_options"] += 1
        if int(frame["frame.cap_len"]) < flen:
            stats["snapped"] += 1
        src = _first(layer.get(name + ".src"))
        dst = _first(layer.get(name + ".dst"))
        if src is None or dst is None:
            stats["noaddr"] += 1
            notes.append(f"frame {frame.get('frame.number')}: {name} layer without "
                         f"{'src' if src is None else 'dst'} address "
                         f"(len {flen}, caplen {frame.get('frame.cap_len')}, protocols {':'.join(protos)})")
            continue
        stats["ip"] += 1
        stats["ip4" if name == "ip" else "ip6"] += 1
        scc = _find(layer, name + ".geoip.src_country_iso")
        dcc = _find(layer, name + ".geoip.dst_country_iso")
        scc = _first(scc) if scc else None
        dcc = _first(dcc) if dcc else None
        for d in ("src", "dst"):
            # A geoip subtree without a country ISO code (an entry with only
            # continent or registered_country): still "ZZ", but worth knowing.
            if _find(layer, f"{name}.geoip.{d}_summary") is not None and \
                    _find(layer, f"{name}.geoip.{d}_country_iso") is None:
                stats["geoip_no_iso"] += 1
        if not scc:
            scc = "ZZ"
            stats["zz_src"] += 1
        if not dcc:
            dcc = "ZZ"
            stats["zz_dst"] += 1
        addrs[src] = scc
        addrs[dst] = dcc
        r = row(scc)
        r[0] += 1
        r[1] += flen
        r = row(dcc)
        r[2] += 1
        r[3] += flen
    return countries, stats, notes, nonip_kinds, addrs


def oracle(path, db, count=None, cache=None):
    """Per-country counts of capture `path` as tshark sees them with database
    `db`: returns {"countries": {cc: [pf, bf, pt, bt]}, "stats": {...},
    "notes": [...], "nonip_protocols": {frame.protocols: n},
    "addresses": {addr: cc}, "tshark_rc": int, "tshark_stderr": str}."""
    check_default_dirs()
    if cache is None:
        cache = os.environ.get("GEOTAP_ORACLE_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "geotap", "tshark-oracle")
    with MmdbDir(db) as mm:
        key = None
        if cache != "off":
            h = hashlib.sha256()
            h.update(f"{ORACLE_VERSION}|{tshark_version()}|{count}|".encode())
            _sha256_file(os.path.abspath(__file__), h)
            _sha256_file(path, h)
            _sha256_file(mm.file, h)
            key = os.path.join(cache, h.hexdigest() + ".json")
            try:
                with open(key) as f:
                    return json.load(f)
            except (OSError, ValueError):
                pass
        try:
            text, rc, err = run_tshark(path, mm.tmp, count)
        except subprocess.TimeoutExpired:
            raise OracleError(f"{path}: tshark did not finish in time") from None
        countries, stats, notes, nonip_kinds, addrs = analyse(text)
        res = {"file": path, "countries": countries, "stats": stats, "notes": notes,
               "nonip_protocols": nonip_kinds, "addresses": addrs,
               "tshark_rc": rc, "tshark_stderr": err}
        if key:
            try:
                os.makedirs(cache, exist_ok=True)
                tmp = key + f".{os.getpid()}.tmp"
                with open(tmp, "w") as f:
                    json.dump(res, f)
                os.replace(tmp, key)
            except OSError:
                pass  # a cache we cannot write only costs time
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("db", help="GeoLite2-Country.mmdb, or a directory holding only it")
    ap.add_argument("-c", "--count", type=int, help="read only the first N frames (tshark -c N)")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("--notes", action="store_true", help="list odd frames on stderr")
    ap.add_argument("--no-cache", action="store_true")
    a = ap.parse_args()
    try:
        res = oracle(a.file, a.db, a.count, cache="off" if a.no_cache else None)
    except OracleError as e:
        print(f"tshark_oracle: {e}", file=sys.stderr)
        return 2
    if a.json:
        json.dump(res, sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        print("country,packets_from,bytes_from,packets_to,bytes_to")
        for cc in sorted(res["countries"]):
            print(cc + "," + ",".join(str(v) for v in res["countries"][cc]))
    s = res["stats"]
    print("# oracle: " + " ".join(f"{k}={s[k]}" for k in sorted(s)) +
          f" tshark_rc={res['tshark_rc']}", file=sys.stderr)
    if res["tshark_stderr"]:
        print("# tshark: " + res["tshark_stderr"].replace("\n", " | "), file=sys.stderr)
    if a.notes:
        for n in res["notes"]:
            print("# " + n, file=sys.stderr)
        for k, n in sorted(res["nonip_protocols"].items()):
            print(f"# non-IP: {n} x {k}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
