#!/usr/bin/env python3
"""Host-route lists and MRT dumps for the benches (copied from the shared test bed and extended).

usage:
  gen_mrt.py list 4|6 N            print N prefixes, one per line (the same list every sender uses)
  gen_mrt.py mrt 4|6 N PAD out.mrt  write a TABLE_DUMP_V2 file with the N prefixes, then the first PAD
                                    again (gobgp 3.10 `mrt inject` silently drops the tail of a file:
                                    the repeats absorb that loss without adding prefixes)

IPv6: /128s from 2001:db8:1::/64. IPv4: /32s from 198.51.100.0/24, 203.0.113.0/24, 192.0.2.3-255 and
169.254.255.3-255 (the link and peer addresses .1/.2 are left out: the node puts these VIPs on an
interface) - 1018 at most."""
import ipaddress, struct, sys, time

NODE_AS = 4200000001

def prefixes(fam, n):
    if fam == 6:
        base = ipaddress.ip_address('2001:db8:1::1')
        return [base + i for i in range(n)]
    hosts = [ipaddress.ip_address('198.51.100.0') + i for i in range(256)]
    hosts += [ipaddress.ip_address('203.0.113.0') + i for i in range(256)]
    hosts += [ipaddress.ip_address('192.0.2.0') + i for i in range(3, 256)]
    hosts += [ipaddress.ip_address('169.254.255.0') + i for i in range(3, 256)]
    if n > len(hosts):
        sys.exit(f"only {len(hosts)} IPv4 host routes are allowed, asked for {n}")
    return hosts[:n]

def write_mrt(fam, n, pad, out):
    ts = int(time.time())
    def mrt(sub, body): return struct.pack('>IHHI', ts, 13, sub, len(body)) + body
    peer = struct.pack('>B4s4sI', 0x02, bytes([192, 0, 2, 2]), bytes([192, 0, 2, 2]), NODE_AS)
    pit = struct.pack('>4sHH', bytes([192, 0, 2, 2]), 0, 1) + peer
    def attr(flags, code, val):
        return struct.pack('>BBH', flags | 0x10, code, len(val)) + val  # always extended length
    aspath = attr(0x40, 2, struct.pack('>BBI', 2, 1, NODE_AS))
    origin = attr(0x40, 1, b'\x00')
    hosts = prefixes(fam, n)
    hosts = hosts + hosts[:pad]
    nh6 = ipaddress.ip_address('2001:db8:ff::2').packed
    out_b = bytearray(mrt(1, pit))
    for seq, h in enumerate(hosts):
        if fam == 4:
            plen, sub = 32, 2
            a = origin + aspath + attr(0x40, 3, bytes([192, 0, 2, 2]))
        else:
            plen, sub = 128, 4
            # GoBGP's MRT reader wants a full MP_REACH (AFI/SAFI/NH/reserved/NLRI)
            a = origin + aspath + attr(0x80, 14, struct.pack('>HBB', 2, 1, 16) + nh6 + b'\x00' + bytes([128]) + h.packed)
        entry = struct.pack('>HIH', 0, ts, len(a)) + a
        body = struct.pack('>IB', seq, plen) + h.packed + struct.pack('>H', 1) + entry
        out_b += mrt(sub, body)
    with open(out, 'wb') as f:
        f.write(out_b)

if __name__ == '__main__':
    if len(sys.argv) >= 4 and sys.argv[1] == 'list':
        for h in prefixes(int(sys.argv[2]), int(sys.argv[3])):
            print(h)
    elif len(sys.argv) == 6 and sys.argv[1] == 'mrt':
        write_mrt(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
