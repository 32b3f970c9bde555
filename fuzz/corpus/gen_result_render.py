#!/usr/bin/env python3
"""Seeds for fuzz_result_render: qemu-info-shaped records in one call, the
same split over two calls with progress reports between, a top-level array.
Usage: gen_result_render.py DIR (fuzz/corpus/fuzz_result_render)."""
import struct, sys
def rec(t, key=b"", val=b""):
    body = key + val
    body += b"\0" * ((-len(body)) % 8)
    return struct.pack("<HHI", t, len(key), len(val)) + body
def u(k, v): return rec(7, k, struct.pack("<Q", v))
def i(k, v): return rec(6, k, struct.pack("<q", v))
def s(k, v): return rec(5, k, v)
def b(k, v): return rec(8, k, bytes([v]))
BO, EO, BA, EA = 1, 2, 3, 4
def chunk(kind, data): return bytes([kind]) + struct.pack("<H", len(data)) + data
info = (rec(BO) + rec(BA, b"snapshots") + rec(BO) + u(b"icount", 0) + s(b"name", b"snap1") +
        i(b"date-sec", 1796162298) + rec(EO) + rec(EA) + u(b"virtual-size", 1048576) +
        s(b"filename", b"a\x01b\tc\"d\\e\xc3\xa9f\xf0\x9f\x98\x80g\xffh") +
        rec(BO, b"format-specific") + s(b"type", b"qcow2") + rec(BA, b"flags") + rec(EA) +
        b(b"corrupt", 0) + rec(EO) + rec(EO))
open(sys.argv[1] + "/info", "wb").write(chunk(0, info))
half = len(info) // 2
# the same split over two calls at a record boundary
recs = []
p = 0
while p < len(info):
    t, kl, vl = struct.unpack_from("<HHI", info, p)
    n = 8 + ((kl + vl + 7) // 8) * 8
    recs.append(info[p:p+n]); p += n
first = b"".join(recs[:len(recs)//2]); second = b"".join(recs[len(recs)//2:])
prog = chunk(1, struct.pack("<QQ", 0, 1000)) + chunk(1, struct.pack("<QQ", 500, 1000)) + chunk(1, struct.pack("<QQ", 1000, 1000))
open(sys.argv[1] + "/split", "wb").write(chunk(0, first) + prog + chunk(0, second))
chain = rec(BA) + rec(BO) + s(b"filename", b"top") + rec(EO) + rec(BO) + s(b"filename", b"base") + rec(EO) + rec(EA)
open(sys.argv[1] + "/chain", "wb").write(chunk(0, chain))
