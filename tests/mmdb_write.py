"""Writes a small MaxMind DB (format 2.0, IPv6 tree, 24-bit records) that maps
networks to country.iso_code, for tests that need a country database with
chosen contents (e.g. countries another database lacks). IPv4 networks go
under ::/96, where MaxMind's readers look them up. Read back with
libmaxminddb (mmdblookup) by the tests that use it: it is the oracle.

usage as a module: write(path, [("81.2.69.0/24", "GB"), ("2001:db8::/32", "JP")], epoch)
"""
import ipaddress
import struct


def _ctrl(typ, size):
    """Control byte(s) of a field of type typ (1..15) and size (< 29 here)."""
    assert size < 29
    if typ <= 7:
        return bytes([(typ << 5) | size])
    return bytes([size, typ - 7])


def _enc(v):
    if isinstance(v, str):
        b = v.encode()
        return _ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = _ctrl(7, len(v))
        for k, x in v.items():
            out += _enc(k) + _enc(x)
        return out
    if isinstance(v, list):
        out = _ctrl(11, len(v))
        for x in v:
            out += _enc(x)
        return out
    if isinstance(v, tuple):   # (kind, int): explicit unsigned width
        kind, n = v
        typ, width = {"u16": (5, 2), "u32": (6, 4), "u64": (9, 8)}[kind]
        b = n.to_bytes(width, "big").lstrip(b"\0")
        return _ctrl(typ, len(b)) + b
    raise TypeError(v)


def _bits(net):
    """The network's prefix bits in the 128-bit tree."""
    if net.version == 4:
        value, plen = int(net.network_address), 96 + net.prefixlen
    else:
        value, plen = int(net.network_address), net.prefixlen
    return [(value >> (127 - i)) & 1 for i in range(plen)]


def write(path, networks, epoch, db_type="geotap-test-Country"):
    # Data section: one record per distinct country.
    data, offset_of = b"", {}
    for _, cc in networks:
        if cc not in offset_of:
            offset_of[cc] = len(data)
            data += _enc({"country": {"iso_code": cc}})
    # The trie: node = [left, right], each None, ("node", i) or ("data", cc).
    nodes = [[None, None]]
    for cidr, cc in networks:
        n, bits = 0, _bits(ipaddress.ip_network(cidr))
        for depth, b in enumerate(bits):
            last = depth == len(bits) - 1
            if last:
                nodes[n][b] = ("data", cc)
                break
            child = nodes[n][b]
            if child is None or child[0] == "data":
                nodes.append([child, child] if child else [None, None])
                nodes[n][b] = ("node", len(nodes) - 1)
            n = nodes[n][b][1]
    count = len(nodes)

    def rec(r):
        if r is None:
            return count
        if r[0] == "node":
            return r[1]
        return count + 16 + offset_of[r[1]]

    tree = b""
    for left, right in nodes:
        tree += struct.pack(">I", rec(left))[1:] + struct.pack(">I", rec(right))[1:]
    meta = _enc({
        "node_count": ("u32", count),
        "record_size": ("u16", 24),
        "ip_version": ("u16", 6),
        "database_type": db_type,
        "languages": ["en"],
        "binary_format_major_version": ("u16", 2),
        "binary_format_minor_version": ("u16", 0),
        "build_epoch": ("u64", epoch),
        "description": {"en": "geotap test database"},
    })
    with open(path, "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)
