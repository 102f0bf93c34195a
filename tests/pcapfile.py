"""Classic pcap files as the tests read them (those gen_scenario and the tests
write: little-endian, micro- or nanosecond stamps), for the oracles that
count or split frames by hand."""
import struct


def read(path):
    """(the 24-byte file header, an iterator of (16-byte record header,
    timestamp seconds, frame)) of the capture at path; ValueError when it is
    not a little-endian classic pcap."""
    f = open(path, 'rb')
    hdr = f.read(24)
    if len(hdr) < 24 or struct.unpack('<I', hdr[:4])[0] not in (0xa1b2c3d4, 0xa1b23c4d):
        f.close()
        raise ValueError(f'{path}: not a little-endian classic pcap file')

    def records():
        with f:
            while True:
                h = f.read(16)
                if len(h) < 16:
                    return
                sec, _, cap, _ = struct.unpack('<IIII', h)
                yield h, sec, f.read(cap)
    return hdr, records()
