#!/usr/bin/env python3
"""Rewrite an Ethernet pcap into the same packets in another link type or file form, for the
per-decoder callgrind measure (scripts/bench-decoders.sh): the IP packets stay the same, only
what is around them changes.
    encapsulate.py IN.pcap OUT KIND    KIND: ppp-ether juniper juniper-nol2 ipoib chdlc-mpls
                                             ppp-mpls big-endian gzip repeat3
"""
import gzip, struct, sys

src, dst, kind = sys.argv[1:4]
data = open(src, 'rb').read()
magic, vmaj, vmin, zone, sigfigs, snap, link = struct.unpack('<IHHiIII', data[:24])
assert magic == 0xA1B2C3D4 and link == 1, 'a little-endian microsecond Ethernet pcap'
records, at = [], 24
while at + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack('<IIII', data[at:at + 16])
    records.append((sec, usec, orig, data[at + 16:at + 16 + incl]))
    at += 16 + incl

def wrap(frame):
    ethertype, ip = frame[12:14], frame[14:]
    v4 = ethertype == b'\x08\x00'
    if kind == 'ppp-ether':   # DLT_PPP_ETHER: the PPPoE session header, PPP's protocol
        return 51, struct.pack('>BBHH', 0x11, 0, 1, len(ip) + 2) + (b'\x00\x21' if v4 else b'\x00\x57') + ip
    if kind == 'juniper':     # DLT_JUNIPER_ETHER: "MGC", flags 0x01 (in), then the frame
        return 178, b'MGC\x01' + frame
    if kind == 'juniper-nol2':  # with the extension TLVs and "no layer 2": family, then IP
        return 178, b'MGC\x83' + struct.pack('>H', 4) + b'\x01\x02\x00\x07' + b'\x00\x00\x00\x02' + ip
    if kind == 'ipoib':       # DLT_IPOIB: 20 + 20 bytes of addresses, the type, 2 reserved
        return 242, bytes(40) + ethertype + b'\x00\x00' + ip
    if kind == 'chdlc-mpls':  # DLT_C_HDLC: address, control, 0x8847; one MPLS label (bottom)
        return 104, b'\x0f\x00\x88\x47' + struct.pack('>I', (100 << 12) | 0x100 | 64) + ip
    if kind == 'ppp-mpls':    # DLT_PPP: address, control, 0x0281; one label
        return 9, b'\xff\x03\x02\x81' + struct.pack('>I', (100 << 12) | 0x100 | 64) + ip
    return 1, frame

out = bytearray()
if kind == 'big-endian':
    out += struct.pack('>IHHiIII', 0xA1B2C3D4, vmaj, vmin, zone, sigfigs, snap, 1)
    for sec, usec, orig, frame in records:
        out += struct.pack('>IIII', sec, usec, len(frame), orig) + frame
elif kind == 'repeat3':
    out += data[:24]
    for _ in range(3):
        for sec, usec, orig, frame in records:
            out += struct.pack('<IIII', sec, usec, len(frame), orig) + frame
else:
    linktype = wrap(records[0][3])[0] if kind != 'gzip' else 1
    out += struct.pack('<IHHiIII', 0xA1B2C3D4, vmaj, vmin, zone, sigfigs, 262144, linktype)
    for sec, usec, orig, frame in records:
        wrapped = wrap(frame)[1]
        out += struct.pack('<IIII', sec, usec, len(wrapped), orig - len(frame) + len(wrapped)) + wrapped
if kind == 'gzip':
    open(dst, 'wb').write(gzip.compress(bytes(out)))
else:
    open(dst, 'wb').write(out)
