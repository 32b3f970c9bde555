#!/usr/bin/env python3
"""Seeds for fuzz_info_render: ImageInfo records as src/core/info.c sends
them (members in its order; hostcall_abi.h's records), one call each.
Usage: gen_info_render.py DIR (fuzz/corpus/fuzz_info_render)."""
import struct, sys
BO, EO, BA, EA, STR, INT, UINT, BOOL = range(1, 9)
def rec(t, key=b"", val=b""):
    body = key + val
    return struct.pack("<HHI", t, len(key), len(val)) + body + b"\0" * (-len(body) % 8)
def s(k, v): return rec(STR, k, v)
def i(k, v): return rec(INT, k, struct.pack("<q", v))
def u(k, v): return rec(UINT, k, struct.pack("<Q", v))
def b(k, v): return rec(BOOL, k, bytes([v]))
def obj(key, *members): return rec(BO, key) + b"".join(members) + rec(EO)
def arr(key, *elements): return rec(BA, key) + b"".join(elements) + rec(EA)

def image(name, fmt, *rest, actual=200704, vsize=1 << 30):
    return obj(b"", s(b"filename", name), s(b"format", fmt), b(b"dirty-flag", 0),
               i(b"actual-size", actual), u(b"virtual-size", vsize), *rest)

def snapshot(sid, name, vm_state, date, clock_ns, icount=None):
    return obj(b"", s(b"id", sid), s(b"name", name), i(b"vm-state-size", vm_state),
               i(b"date-sec", date), i(b"date-nsec", 0),
               i(b"vm-clock-sec", clock_ns // 10**9), i(b"vm-clock-nsec", clock_ns % 10**9),
               *([i(b"icount", icount)] if icount is not None else []))

qcow2_data = obj(b"data", s(b"compat", b"1.1"), b(b"extended-l2", 0), b(b"lazy-refcounts", 0),
                 b(b"corrupt", 0), i(b"refcount-bits", 16), s(b"compression-type", b"zlib"))
seeds = {
    # snapshots (one with icount, a name with UTF-8, a control and a stray
    # byte) and qcow2's format specific data
    "qcow2": image(b"disk.qcow2", b"qcow2", u(b"cluster-size", 65536),
                   arr(b"snapshots",
                       snapshot(b"1", b"before-upgrade", 0, 1796162298, 0),
                       snapshot(b"2", b"caf\xc3\xa9\x1b[2J\xff", 1 << 20, 1796165898,
                                3723004005006, icount=42)),
                   obj(b"format-specific", s(b"type", b"qcow2"), qcow2_data)),
    # --backing-chain: an overlay whose full backing path differs, one whose
    # does not, then the base
    "chain": arr(b"",
                 image(b"top.qcow2", b"qcow2", u(b"cluster-size", 65536),
                       s(b"backing-filename", b"mid.qcow2"),
                       s(b"full-backing-filename", b"/images/mid.qcow2"),
                       s(b"backing-filename-format", b"qcow2"),
                       obj(b"format-specific", s(b"type", b"qcow2"),
                           obj(b"data", s(b"compat", b"0.10"), i(b"refcount-bits", 16),
                               s(b"compression-type", b"zlib")))),
                 image(b"/images/mid.qcow2", b"qcow2", u(b"cluster-size", 65536),
                       s(b"backing-filename", b"/images/base.raw"),
                       s(b"full-backing-filename", b"/images/base.raw")),
                 image(b"/images/base.raw", b"raw", vsize=1024 ** 3 + 512)),
    # vmdk: format specific data with an array of extent objects
    "vmdk": image(b"disk.vmdk", b"vmdk", u(b"cluster-size", 65536),
                  obj(b"format-specific", s(b"type", b"vmdk"),
                      obj(b"data", s(b"create-type", b"monolithicSparse"), i(b"cid", 0x1234abcd),
                          i(b"parent-cid", 0xffffffff),
                          arr(b"extents",
                              obj(b"", s(b"filename", b"disk.vmdk"), s(b"format", b"SPARSE"),
                                  u(b"virtual-size", 1 << 30), u(b"cluster-size", 65536)),
                              obj(b"", s(b"filename", b"disk-f001.vmdk"), s(b"format", b"FLAT"),
                                  u(b"virtual-size", 1 << 20)))))),
    # no disk size, encrypted, dirty, a backing file whose path is unknown
    "odd": obj(b"", s(b"filename", b"json:{\"a\":\"\\n\"}"), s(b"format", b"qcow2"),
               b(b"dirty-flag", 1), u(b"virtual-size", 2 ** 64 - 1), u(b"cluster-size", 512),
               b(b"encrypted", 1), s(b"backing-filename", b"nbd://host/x\xc2\x9b")),
}
for name, data in seeds.items():
    open(f"{sys.argv[1]}/{name}", "wb").write(data)
