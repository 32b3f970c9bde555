#!/usr/bin/python3
"""
Differential fuzzing of `cordon dd`, `cordon convert` and `cordon info`
against `qemu-img dd`, `qemu-img convert` and `qemu-img info`
(docs/difffuzz.md).

Random images (every input format in FORMATS, random sizes, qemu-io content,
qcow2 options, compressed clusters, backing chains) and random operands
(every size spelling qemu's parser knows and many it refuses) are given to
both tools; exit status, messages, the output's format, size and content
must agree, except for the deliberate differences in KNOWN_DIVERGENCES.
info runs on the images and on mutated copies of them (a flipped byte, a
header field, a truncation; snapshots added; TZ set), comparing exit
status, stderr and stdout byte for byte.

    scripts/differential-fuzz.py --seed 1 --iterations 100
    scripts/differential-fuzz.py --seed 1 --iterations 2000 --jobs 2 --keep-failures /tmp/df

Reproducible: iteration i of a run depends only on the seed (images are
made per group of 5-10 iterations, each group from its own seeded RNG), not
on --jobs or timing.  --keep-failures DIR saves every failing case as
DIR/<case>/replay.sh plus its input image(s): the script needs nothing from
the fuzzer.  Python standard library only.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cordon_messages import normalise  # beside this script: the tests' rule too

ROOT = Path(__file__).resolve().parents[1]
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
INT64_MAX = (1 << 63) - 1
INT_MAX = (1 << 31) - 1

# qemu-img dd does one read and one write per bs block, writing every byte
# (bs=1 over 200000 bytes takes 8-15 s):
# windows are kept to at most this many blocks and bytes.
MAX_BLOCKS = 50000
MAX_WINDOW = 64 * MiB
# Blocks smaller than a sector cost qemu-img far more: a read-modify-write of
# the output sector for each, and on qcow2 a full read path (bs=1 over 50000
# blocks of a qcow2 input took over 120 s).  Their window is capped lower.
MAX_SMALL_BLOCKS = 5000


# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------

@dataclass
class Result:
    rc: int            # exit status; None on timeout
    out: str
    err: str           # normalised: program names replaced by PROG
    secs: float
    raw_out: bytes = b""   # the bytes (err normalised), for escaped-controls
    raw_err: bytes = b""


def run(argv, cwd=None, env=None, timeout=60, prog=None):
    """Runs argv in its own process group; kills the group on timeout."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        rc = None
    raw_out = out
    raw_err = err.decode(errors="surrogateescape")
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    if prog:
        err = normalise(err, prog)
        raw_err = normalise(raw_err, prog)
    return Result(rc, out, err, time.monotonic() - t0, raw_out,
                  raw_err.encode(errors="surrogateescape"))


def must(argv, cwd=None, timeout=300):
    r = run(argv, cwd=cwd, timeout=timeout)
    if r.rc != 0:
        raise RuntimeError(f"setup command failed ({r.rc}): {shlex.join(argv)}\n{r.err}{r.out}")
    return r


def qemu_io(fmt, img, cmds, cwd):
    # Batched: one qemu-io process for every write into one image.
    for i in range(0, len(cmds), 40):
        argv = ["qemu-io", "-f", fmt]
        for c in cmds[i:i + 40]:
            argv += ["-c", c]
        must(argv + [img], cwd=cwd)


def info(path, cwd, fmt=None):
    argv = ["qemu-img", "info", "--output=json"] + (["-f", fmt] if fmt else []) + [path]
    r = run(argv, cwd=cwd, timeout=120)
    if r.rc != 0:
        return None
    return json.loads(r.out)


# ---------------------------------------------------------------------------
# Input formats: ONE table.  VHD, VHDX, VMDK join here.
# ---------------------------------------------------------------------------

def raw_create(rng, d, name, size, backing):
    with open(d / name, "wb") as f:
        f.truncate(size)
    return {}


def qcow2_opts(rng):
    cl = 1 << rng.choice([9, 10, 12, 14, 16, 16, 16, 16, 17, 18, 20, 21])
    compat = rng.choice(["1.1", "1.1", "1.1", "0.10"])
    o = {"cluster_size": cl, "compat": compat}
    if compat == "1.1":
        if cl >= 16 * KiB and rng.random() < 0.3:
            o["extended_l2"] = "on"
        o["compression_type"] = rng.choice(["zlib", "zstd"])
        if rng.random() < 0.1:
            o["lazy_refcounts"] = "on"
        if rng.random() < 0.1:
            o["refcount_bits"] = rng.choice([1, 2, 4, 8, 32, 64])
    return o


def qcow2_create(rng, d, name, size, backing):
    o = qcow2_opts(rng)
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-o",
            ",".join(f"{k}={v}" for k, v in o.items())]
    if backing:
        argv += ["-b", backing[0], "-F", backing[1]]
    must(argv + [name, str(size)], cwd=d)
    return o


def qcow2_compress(rng, d, name, opts):
    """Rewrites a standalone image with compressed clusters."""
    tmp = name + ".pre"
    os.rename(d / name, d / tmp)
    o = ",".join(f"{k}={v}" for k, v in opts.items())
    must(["qemu-img", "convert", "-c", "-f", "qcow2", "-O", "qcow2", "-o", o, tmp, name], cwd=d)
    os.unlink(d / tmp)


def vpc_create(rng, d, name, size, backing):
    """A VHD as qemu-img creates one: dynamic or fixed (which probes as
    raw), with qemu's CHS rounding of the size or force_size."""
    o = {"subformat": rng.choice(["dynamic", "dynamic", "fixed"]),
         "force_size": "on" if rng.random() < 0.3 else "off"}
    must(["qemu-img", "create", "-q", "-f", "vpc", "-o",
          ",".join(f"{k}={v}" for k, v in o.items()), name, str(size)], cwd=d)
    return o


def vhdx_create(rng, d, name, size, backing):
    """A VHDX as qemu-img creates one: dynamic or fixed, block sizes up to
    32 MiB (qemu fills a block it allocates, so larger ones cost disk),
    zero-state blocks or not, 1 or 2 MiB of log."""
    o = {"subformat": rng.choice(["dynamic", "dynamic", "fixed"]),
         "block_size": rng.choice(["1M", "2M", "8M", "32M"]),
         "block_state_zero": rng.choice(["on", "off"]),
         "log_size": rng.choice(["1M", "1M", "2M"])}
    must(["qemu-img", "create", "-q", "-f", "vhdx", "-o",
          ",".join(f"{k}={v}" for k, v in o.items()), name, str(size)], cwd=d)
    return o


def vmdk_create(rng, d, name, size, backing):
    """A VMDK as qemu-img creates one: every subformat (streamOptimized is
    made from a monolithicSparse one once written: vmdk_finish), compat6,
    adapter types, zeroed grains.  Split and flat subformats add extent
    files beside name."""
    sub = rng.choice(["monolithicSparse", "monolithicSparse", "monolithicFlat",
                      "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"])
    o = {"subformat": "monolithicSparse" if sub == "streamOptimized" else sub}
    if rng.random() < 0.2:
        o["compat6"] = "on"
    if rng.random() < 0.3:
        o["adapter_type"] = rng.choice(["ide", "lsilogic", "buslogic", "legacyESX"])
    if "Sparse" in sub and rng.random() < 0.4:
        o["zeroed_grain"] = "on"
    must(["qemu-img", "create", "-q", "-f", "vmdk", "-o",
          ",".join(f"{k}={v}" for k, v in o.items()), name, str(size)], cwd=d)
    if sub == "streamOptimized":
        o["then"] = "streamOptimized"
    return o


def vmdk_finish(rng, d, name, opts):
    """Rewrites a written image as streamOptimized, if vmdk_create chose it."""
    if opts.get("then") != "streamOptimized":
        return
    tmp = name + ".tmp"
    must(["qemu-img", "convert", "-f", "vmdk", "-O", "vmdk", "-o",
          "subformat=streamOptimized", name, tmp], cwd=d)
    os.replace(d / tmp, d / name)


@dataclass
class Fmt:
    name: str
    ext: str
    create: object           # (rng, dir, name, size, backing) -> options
    backing: bool            # may have a backing file
    aligned_size: bool       # virtual size is a multiple of 512
    compress: object = None  # rewrite with compressed clusters, or None
    finish: object = None    # (rng, dir, name, options) after the writes


FORMATS = {
    "raw": Fmt("raw", "raw", raw_create, backing=False, aligned_size=False),
    "qcow2": Fmt("qcow2", "qcow2", qcow2_create, backing=True, aligned_size=True,
                 compress=qcow2_compress),
    "vpc": Fmt("vpc", "vhd", vpc_create, backing=False, aligned_size=True),
    "vhdx": Fmt("vhdx", "vhdx", vhdx_create, backing=False, aligned_size=True),
    "vmdk": Fmt("vmdk", "vmdk", vmdk_create, backing=False, aligned_size=True,
                finish=vmdk_finish),
}
OUTPUT_FORMATS = ["raw", "qcow2", "vpc", "vhdx", "vmdk"]


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

@dataclass
class Image:
    files: list              # every file of the case, bottom of the chain first
    top: str                 # the image given as if=
    fmt: str
    vsize: int               # qemu's virtual size of top
    desc: list = field(default_factory=list)
    file_size: int = 0
    corrupt_marked: bool = False
    data_file: bool = False


def rand_size(rng, fmt):
    r = rng.random()
    if r < 0.55:
        s = rng.randint(512, 2 * MiB)
    elif r < 0.85:
        s = rng.randint(2 * MiB, 32 * MiB)
    elif r < 0.95:
        s = rng.choice([512, 1000, 1023, 1025, 4095, 65535, 65537, MiB - 1, MiB + 1])
    else:
        s = rng.randint(256 * MiB, GiB)       # large, sparse
    if fmt.aligned_size or rng.random() < 0.5:
        s = max(512, s // 512 * 512)
    return s


def rand_writes(rng, fmt, size, opts):
    cl = opts.get("cluster_size", 65536)
    cmds = []
    for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12])):
        r = rng.random()
        if r < 0.5:
            ln = rng.randint(1, 8 * KiB)
        elif r < 0.85:
            ln = rng.randint(1, 512 * KiB)
        elif r < 0.98:
            ln = rng.randint(1, 4 * MiB)
        else:
            ln = rng.randint(1, 16 * MiB)
        a = rng.random()
        if a < 0.3:
            off = rng.randrange(0, size) // cl * cl
            ln = max(cl, ln // cl * cl)
        elif a < 0.5:
            off = rng.randrange(0, size) // 512 * 512
        elif a < 0.6:
            off = max(0, size - ln)                   # the tail
        else:
            off = rng.randrange(0, size)
        ln = max(1, min(ln, size - off))
        k = rng.random()
        if k < 0.08 and fmt.name == "qcow2" and size >= cl:
            off = rng.randrange(0, size // cl) * cl     # one compressed cluster
            # before anything else, once per cluster: qemu-io writes
            # compressed only into unallocated clusters
            c = f"write -c -P 0x{rng.randrange(256):02x} {off} {cl}"
            if not any(x.startswith("write -c") and x.endswith(f" {off} {cl}") for x in cmds):
                cmds.insert(0, c)
        elif k < 0.12 and fmt.name == "qcow2":
            cmds.append(f"write -z -u {off} {ln}")
        elif k < 0.2:
            cmds.append(f"write -z {off} {ln}")
        elif k < 0.25 and fmt.name == "qcow2":
            cmds.append(f"discard {off} {ln}")
        else:
            cmds.append(f"write -P 0x{rng.randrange(256):02x} {off} {ln}")
    return cmds


def make_image(rng, d):
    """Builds a standalone image or a backing chain in d."""
    depth = 0 if rng.random() < 0.55 else rng.randint(1, 3)
    files, desc = [], []
    backing = None
    corrupt = data_file = False
    names = {}
    for level in range(depth + 1):
        if level == 0:
            fmt = FORMATS[rng.choice(list(FORMATS))]              # any base
        else:
            fmt = FORMATS[rng.choice([f for f in FORMATS if FORMATS[f].backing])]
        name = f"l{level}.{fmt.ext}" if depth else f"in.{fmt.ext}"
        if backing and rng.random() < 0.5:
            # overlay at least as long as its backing file (shorter backing)
            size = max(names[backing[0]], rand_size(rng, fmt))
            size = (size + 511) // 512 * 512
        else:
            size = rand_size(rng, fmt)
        before = set(os.listdir(d))
        opts = fmt.create(rng, d, name, size, backing)
        # a descriptor's extent files, bottom of the chain's order kept
        files += sorted(set(os.listdir(d)) - before - {name})
        if level == depth and depth == 0 and fmt.name == "qcow2" \
                and opts.get("compat") == "1.1" and rng.random() < 0.03:
            # external data file: qemu-img reads it, cordon refuses
            os.unlink(d / name)
            o = ",".join(f"{k}={v}" for k, v in opts.items())
            must(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                  o + ",data_file=in.data", name, str(size)], cwd=d)
            files.append("in.data")
            data_file = True
        vs = info(name, d, fmt.name)["virtual-size"]
        names[name] = vs
        writes = rand_writes(rng, fmt, vs, opts)
        if fmt.name == "raw":
            writes = [w for w in writes if not w.startswith("discard")]
        if data_file:       # qcow2 cannot compress into an external data file
            writes = [w for w in writes if not w.startswith("write -c")]
        if writes:
            qemu_io(fmt.name, name, writes, d)
        if fmt.finish:
            fmt.finish(rng, d, name, opts)
        compressed = False
        if fmt.compress and not backing and not data_file and rng.random() < 0.25:
            fmt.compress(rng, d, name, opts)
            compressed = True
        desc.append(f"{name} {fmt.name} size={vs} opts={opts}"
                    + (f" backing={backing[0]}({backing[1]})" if backing else "")
                    + (" compressed" if compressed else "")
                    + (" data_file=in.data" if data_file else "")
                    + f" writes={writes}")
        files.append(name)
        backing = (name, fmt.name)
    top, fmt = backing
    if fmt == "qcow2" and not data_file and rng.random() < 0.03:
        hdr = open(d / top, "rb").read(104)
        if int.from_bytes(hdr[4:8], "big") >= 3:
            with open(d / top, "r+b") as f:        # mark corrupt
                f.seek(72)
                f.write((int.from_bytes(hdr[72:80], "big") | 2).to_bytes(8, "big"))
            corrupt = True
            desc.append(f"{top}: corrupt bit set")
    return Image(files, top, fmt, names[top], desc, os.path.getsize(d / top),
                 corrupt, data_file)


# ---------------------------------------------------------------------------
# Size spellings: qemu_strtosz() and its errors
# ---------------------------------------------------------------------------

SUFFIXES = "kmgtpe"
INVALID_SIZES = ["-1", "-0", "5-12", "512x", "1kk", "512 ", "", " ", "0x", "1.5",
                 "1.5b", "1.5e3k", "1e3", "0x1.5", "inf", "nan", "k", "1.2.3k",
                 "99999999999999999999k", "1 k", "0x1g ", "abc", "1K5", "1,5k",
                 "--1", "++1", "1kB", "1KiB"]
RANGE_SIZES = ["99999999999999999999", "9E", "16E", "18446744073709551615",
               "18446744073709551616", "8E", "0x10000000000000000", "17179869184G"]


def spell(rng, v):
    """A spelling of v that qemu_strtosz() reads as exactly v."""
    forms = [str(v), str(v), f"{v}b", f"{v}B", f" {v}", f"+{v}", f"\t{v}",
             f"0x{v:x}", f"0X{v:X}", f"0{v}" if v else "0"]
    for i, s in enumerate(SUFFIXES, 1):
        m = 1 << (10 * i)
        if v and v % m == 0:
            forms += [f"{v // m}{s}", f"{v // m}{s.upper()}"] * 2
            forms.append(f"{v // m}.{s}")
        # exact binary fractions: 1.5k, .25M, 3.125k
        for den, digits in ((2, "5"), (4, "25"), (8, "125")):
            if v and (v * den) % m == 0 and v % m:
                whole, frac = divmod(v * den, m)
                if frac == 0 and whole % den:
                    w, num = divmod(whole, den)
                    dec = str(num * 10 ** len(digits) // den).zfill(len(digits))
                    forms.append(f"{w}.{dec}{s}" if w else f".{dec}{s}")
    return rng.choice(forms)


# Odd spellings qemu accepts, with their values (docs/dd.md, Sizes).
ODD_VALID = {"0x1k": KiB, "0x2M": 2 * MiB, "1.99999999999999999999k": KiB,
             "0.k": 0, ".5k": 512, "0": 0, "0.0k": 0, "0x0": 0}


def bad_spelling(rng):
    """An invalid or out-of-range size: the run stops at parsing."""
    if rng.random() < 0.6:
        return rng.choice(INVALID_SIZES)
    return rng.choice(RANGE_SIZES)


# ---------------------------------------------------------------------------
# dd operands
# ---------------------------------------------------------------------------

UNALIGNED_BS = [1, 777, 999, 1000, 4095, 65537, 1048577]


def dd_window(size, bs, count, skip):
    """qemu-img dd's window (docs/dd.md): (start, end)."""
    end = size
    if count is not None and count * bs <= INT64_MAX and count * bs < size:
        end = count * bs
    start = 0
    if skip is not None:
        start = skip * bs if skip * bs <= INT64_MAX and skip * bs <= end else end
    return start, end


def pick_bs(rng):
    r = rng.random()
    if r < 0.35:
        return 512 * rng.choice([1, 1, 2, 4, 8, 16, 64, 128, 2048, rng.randint(1, 4096)])
    if r < 0.6:
        return rng.choice(UNALIGNED_BS)
    if r < 0.8:
        return 1 << rng.randint(9, 24)
    if r < 0.9:
        return rng.randint(1, 4 * MiB)
    return rng.choice([64 * MiB, 256 * MiB, GiB, INT_MAX])


def pick_count(rng, size, bs):
    nb = -(-size // bs)
    r = rng.random()
    if r < 0.3:
        return None
    if r < 0.38:
        return 0
    if r < 0.7:
        return rng.randint(1, max(1, nb))
    if r < 0.8:
        return nb                                   # at the end
    if r < 0.9:
        return nb + rng.randint(1, 1000)            # past the end
    return rng.choice([1 << 40, INT64_MAX // bs + 1, INT64_MAX, (1 << 62) + 3])  # overflow


def pick_skip(rng, end, bs):
    nb = end // bs
    r = rng.random()
    if r < 0.35:
        return None
    if r < 0.45:
        return 0
    if r < 0.75:
        return rng.randint(0, max(0, nb))
    if r < 0.85:
        return -(-end // bs)                        # at (or just past) the end
    if r < 0.93:
        return nb + rng.randint(1, 100)             # past the end
    return rng.choice([INT64_MAX // bs + 1, INT64_MAX, 1 << 62])


def fit_window(size, bs, count, skip):
    """Moves skip (and count) so that qemu-img's work stays bounded."""
    start, end = dd_window(size, bs, count, skip)
    cap = min(MAX_WINDOW, (MAX_BLOCKS if bs >= 512 else MAX_SMALL_BLOCKS) * bs)
    if end - start <= cap:
        return count, skip
    # Raise skip so that the window ends at end and is at most cap long.
    skip = -(-(end - cap) // bs)
    start, end = dd_window(size, bs, count, skip)
    if end - start <= cap:
        return count, skip
    count = skip + cap // bs                        # bs > cap: shrink via count
    return count, skip


@dataclass
class Case:
    args: list               # dd arguments (after "dd")
    env: dict                # cordon's extra environment
    expect_window: tuple     # (start, end) as modelled, or None
    out_fmt: str = "raw"     # the output's format (-O, default raw)
    same_file: bool = False
    old_output: int = -1     # size of an existing output file, -1: none
    out: str = ""            # the output's name where it is no of= (convert)
    kind: str = "dd"         # the op the case is for
    mutation: tuple = None   # info: (file, seed) of a mutated copy, or None
    subdir: str = ""         # info: where the case's files are (mut/ when mutated)
    note: str = ""           # info: what the mutation did
    snapshots: list = field(default_factory=list)  # info: names made in the top's copy
    tz: str = None           # info: TZ for both tools (snapshot dates), None: unset
    refusals: dict = field(default_factory=dict)  # info: file -> qcow2_refusals()


def gen_dd(rng, img):
    """One set of dd arguments for img."""
    bs = pick_bs(rng)
    fmt_flag = None
    size = img.vsize
    r = rng.random()
    if r < 0.3:
        fmt_flag = img.fmt
    elif r < 0.33 and img.fmt != "raw":
        fmt_flag = "raw"                            # the qcow2 file read as raw
        size = (img.file_size + 511) // 512 * 512
    elif r < 0.35:
        fmt_flag = rng.choice(list(FORMATS))        # often not the image's
    count = pick_count(rng, size, bs)
    skip = pick_skip(rng, dd_window(size, bs, count, None)[1], bs)
    odd = None
    if rng.random() < 0.04:                         # an odd spelling qemu accepts
        odd = (rng.choice(["bs", "count", "skip"]), rng.choice(list(ODD_VALID)))
        if odd[0] == "bs" and ODD_VALID[odd[1]] == 0:
            odd = None
        elif odd[0] == "bs":
            bs = ODD_VALID[odd[1]]
        elif odd[0] == "count":
            count = ODD_VALID[odd[1]]
        else:
            skip = ODD_VALID[odd[1]]
    bs_given = True
    if bs == 512 and rng.random() < 0.5 and not (odd and odd[0] == "bs"):
        bs_given = False                            # the default
    was = (count, skip)
    count, skip = fit_window(size, bs, count, skip)
    ops = []
    if bs_given:
        ops.append(("bs", spell(rng, bs)))
    if count is not None:
        ops.append(("count", spell(rng, count)))
    if skip is not None:
        ops.append(("skip", spell(rng, skip)))
    if odd and (count, skip) == was:                # still the value drawn
        ops = [o for o in ops if o[0] != odd[0]] + [odd]
    # Parser fuzzing: some runs get a bad value somewhere.
    if rng.random() < 0.12:
        k = rng.choice(["bs", "count", "skip"])
        v = bad_spelling(rng)
        if k == "bs" and rng.random() < 0.3:
            v = rng.choice(["0", str(INT_MAX + 1), "2G", "0x80000000", "0b", "0x0"])
        ops = [o for o in ops if o[0] != k] + [(k, v)]
    if rng.random() < 0.05:                         # repeated: the last one wins
        ops.insert(0, (rng.choice(["bs", "count", "skip"]), bad_spelling(rng)))
    same = img.fmt == "raw" and len(img.files) == 1 and rng.random() < 0.02
    out_fmt = rng.choice([None] + OUTPUT_FORMATS)
    out = "out.img" if not same else img.top
    src = img.top
    r = rng.random()
    if r < 0.015:
        src = "missing.img"                         # file errors
    elif r < 0.025:
        out = "nodir/out.img"
    ops += [("if", src), ("of", out)]
    if rng.random() < 0.02:
        ops.append((rng.choice(["foo", "conv", "ibs", "obs", "status"]), "1"))
    units = [[f"{k}={v}"] for k, v in ops]
    if fmt_flag:
        units.append(["-f", fmt_flag])
    if out_fmt:
        units.append(["-O", out_fmt])
    if rng.random() < 0.2:
        units.append(["-U"])
    rng.shuffle(units)                              # mixed, as getopt permutes
    args = [a for u in units for a in u]
    if rng.random() < 0.01:
        args.append(rng.choice(["-f", "-O", "-x", "--", "-Ux"]))
    env = {"CORDON_SANDBOX": "process"} if rng.random() < 0.35 else {}
    old = rng.choice([0, 4096, 5 * MiB + 3]) if rng.random() < 0.1 else -1
    return Case(args, env, dd_window(size, bs, count, skip), out_fmt=out_fmt or "raw",
                same_file=same, old_output=old)


SPARSE_SIZES = ["0", "4k", "64k", "512", "8k", "1M", "16M", "4096", "0x1000",
                "1000", "32M", "16385k", "-1"]
COROUTINES = ["1", "8", "16", "0x10", "010", "0", "17", "x", "4x", " 4", ""]
CACHE_MODES = ["unsafe", "writeback", "writethrough", "none", "off", "directsync",
               "bogus", ""]


def gen_convert(rng, img):
    """One convert command line for img: 1-3 inputs (the image, repeated),
    random options with qemu's spellings and refusals, any output format."""
    units = []
    if rng.random() < 0.3:
        units.append(["-f", img.fmt])
    elif rng.random() < 0.04:
        units.append(["-f", rng.choice(list(FORMATS))])
    out_fmt = rng.choice([None] + OUTPUT_FORMATS)
    if out_fmt:
        units.append(["-O", out_fmt])
    sparse_given = rng.random() < 0.35
    if sparse_given:
        units.append(["-S", rng.choice(SPARSE_SIZES) if rng.random() < 0.85
                      else spell(rng, 512 * rng.randrange(0, 32769))])
    for flag, p in (("-p", 0.3), ("-q", 0.1), ("-W", 0.05), ("-U", 0.2)):
        if rng.random() < p:
            units.append([flag])
    if rng.random() < 0.05:
        units.append(["-C"])
    if rng.random() < 0.1:
        units.append(["-m", rng.choice(COROUTINES)])
    if rng.random() < 0.12:
        units.append(["-t", rng.choice(CACHE_MODES)])
    if rng.random() < 0.06:
        units.append(["-T", rng.choice(CACHE_MODES)])
    # -c: only where neither tool can compress (cordon does not write
    # compressed images yet: docs/convert.md)
    if rng.random() < 0.04 and out_fmt in (None, "raw", "vpc", "vhdx"):
        units.append(["-c"])
    rng.shuffle(units)
    inputs = [img.top] * rng.choice([1, 1, 1, 1, 2, 3])
    r = rng.random()
    if r < 0.015:
        inputs[rng.randrange(len(inputs))] = "missing.img"
    out = "out.img"
    if rng.random() < 0.01:
        out = "nodir/out.img"
    args = [a for u in units for a in u] + inputs + [out]
    same = False
    if rng.random() < 0.01:
        args = rng.choice([args[:-1], [a for u in units for a in u], args + ["-x"]])
        # without its output operand, the last input is the output
        if args[-len(inputs):] == inputs and len(inputs) > 1:
            out = inputs[-1]
            same = out == img.top
    env = {"CORDON_SANDBOX": "process"} if rng.random() < 0.35 else {}
    old = rng.choice([0, 4096, 5 * MiB + 3]) if rng.random() < 0.1 and not same else -1
    return Case(args, env, None, out_fmt=out_fmt or "raw", old_output=old, out=out,
                same_file=same, kind="convert")


def progress_between(img, case, q, c):
    """convert -p: the lines between the first and the last may differ
    (docs/convert.md); they must still be qemu's lines, rising."""
    if case.kind != "convert" or q.rc != c.rc or q.err != c.err:
        return False
    ql, cl = q.out.split("\r"), c.out.split("\r")
    if len(ql) < 3 or len(cl) < 3 or ql[0] != cl[0] or ql[-2:] != cl[-2:]:
        return False
    try:
        vals = [float(x.strip()[1:-6]) for x in cl[:-1]]
    except ValueError:
        return False
    return vals == sorted(vals) and all(x.startswith("    (") and x.endswith("/100%)")
                                        for x in cl[:-1])


# ---------------------------------------------------------------------------
# info: options, and mutated copies of the images
# ---------------------------------------------------------------------------

INFO_OUTPUTS = [[], ["--output=json"], ["--backing-chain"], ["--output=json", "--backing-chain"]]

# Header fields a field-aware mutation changes: (name, offset, width, endian).
QCOW2_FIELDS = [("magic", 0, 4, "big"), ("version", 4, 4, "big"),
                ("backing_file_offset", 8, 8, "big"), ("backing_file_size", 16, 4, "big"),
                ("cluster_bits", 20, 4, "big"), ("size", 24, 8, "big"),
                ("crypt_method", 32, 4, "big"), ("l1_size", 36, 4, "big"),
                ("l1_table_offset", 40, 8, "big"), ("refcount_table_offset", 48, 8, "big"),
                ("refcount_table_clusters", 56, 4, "big"), ("nb_snapshots", 60, 4, "big"),
                ("snapshots_offset", 64, 8, "big"), ("incompatible_features", 72, 8, "big"),
                ("compatible_features", 80, 8, "big"), ("autoclear_features", 88, 8, "big"),
                ("refcount_order", 96, 4, "big"), ("header_length", 100, 4, "big"),
                ("compression_type", 104, 1, "big"),
                ("ext0_magic", 112, 4, "big"), ("ext0_len", 116, 4, "big")]
VPC_FOOTER_FIELDS = [("cookie", 0, 8, "big"), ("features", 8, 4, "big"),
                     ("version", 12, 4, "big"), ("data_offset", 16, 8, "big"),
                     ("creator_app", 28, 4, "big"), ("orig_size", 40, 8, "big"),
                     ("current_size", 48, 8, "big"), ("cylinders", 56, 2, "big"),
                     ("heads", 58, 1, "big"), ("sectors", 59, 1, "big"),
                     ("disk_type", 60, 4, "big"), ("checksum", 64, 4, "big")]
VPC_DYN_FIELDS = [("dyn_cookie", 0, 8, "big"), ("dyn_data_offset", 8, 8, "big"),
                  ("table_offset", 16, 8, "big"), ("header_version", 24, 4, "big"),
                  ("max_table_entries", 28, 4, "big"), ("block_size", 32, 4, "big"),
                  ("dyn_checksum", 36, 4, "big")]
VHDX_HEADER_FIELDS = [("signature", 0, 4, "little"), ("checksum", 4, 4, "little"),
                      ("sequence_number", 8, 8, "little"), ("log_version", 64, 2, "little"),
                      ("version", 66, 2, "little"), ("log_length", 68, 4, "little"),
                      ("log_offset", 72, 8, "little")]
VHDX_REGION_FIELDS = [("rt_signature", 0, 4, "little"), ("rt_checksum", 4, 4, "little"),
                      ("entry_count", 8, 4, "little"), ("rt_reserved", 12, 4, "little"),
                      ("e0_file_offset", 32, 8, "little"), ("e0_length", 40, 4, "little"),
                      ("e0_required", 44, 4, "little"), ("e1_file_offset", 64, 8, "little"),
                      ("e1_length", 72, 4, "little"), ("e1_required", 76, 4, "little")]
VMDK_FIELDS = [("magic", 0, 4, "little"), ("version", 4, 4, "little"),
               ("flags", 8, 4, "little"), ("capacity", 12, 8, "little"),
               ("granularity", 20, 8, "little"), ("desc_offset", 28, 8, "little"),
               ("desc_size", 36, 8, "little"), ("num_gtes_per_gt", 44, 4, "little"),
               ("rgd_offset", 48, 8, "little"), ("gd_offset", 56, 8, "little"),
               ("grain_offset", 64, 8, "little"), ("check_bytes", 73, 4, "little"),
               ("compress_algorithm", 77, 2, "little")]
MAGICS = [b"QFI\xfb", b"conectix", b"vhdxfile", b"KDMV", b"# Disk DescriptorFile\n"]


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def vpc_checksum(block, at):
    """The ones' complement of the byte sum, the checksum field counted as 0."""
    s = sum(block) - sum(block[at:at + 4])
    return (~s) & 0xFFFFFFFF


def odd_value(rng, old, width, file_size):
    """A value for a width-byte field that was old: the edges parsers miss."""
    top = (1 << (8 * width)) - 1
    r = rng.random()
    if r < 0.15:
        v = rng.choice([0, 1, 2, 3, 7, 8, 9, 16, 31, 32, 63, 64, 65])
    elif r < 0.3:
        v = rng.choice([top, top >> 1, (top >> 1) + 1, top - 1])
    elif r < 0.5:
        v = old + rng.choice([-1, 1, -512, 512, -4096, 4096])
    elif r < 0.7:
        v = old ^ (1 << rng.randrange(8 * width))
    elif r < 0.8:
        v = rng.choice([old * 2, old // 2, old << 9, old >> 9])
    elif r < 0.9:
        v = rng.choice([512, 4096, 65536, MiB, 2 * MiB, GiB, 1 << 40, 1 << 62,
                        file_size, file_size - 1, file_size + 512, file_size // 2])
    else:
        v = rng.randrange(top + 1)
    return v & top


def set_field(rng, buf, base, fld, file_size):
    name, off, width, endian = fld
    at = base + off
    if at + width > len(buf):
        return None
    old = int.from_bytes(buf[at:at + width], endian)
    new = odd_value(rng, old, width, file_size)
    if new == old:
        new = old ^ 1
    buf[at:at + width] = new.to_bytes(width, endian)
    return f"{name}@{at}: {old:#x} -> {new:#x}"


def text_mutation(rng, buf, start, end, fixed=True):
    """A VMDK descriptor: one number or one word replaced.  fixed: the
    descriptor is embedded in a sparse file, its length kept."""
    region = bytes(buf[start:end])
    r = rng.random()
    pattern = rb"\d+" if r < 0.5 else rb'"[^"\n]*"|[A-Za-z]+' if r < 0.9 else None
    if pattern is None:
        return None
    # a line holding such a token, then one of its tokens: which line does
    # not depend on the random CIDs qemu-img writes
    by_line = {}
    for ln in re.finditer(rb"[^\n\0]+", region):
        for m in re.finditer(pattern, ln.group()):
            by_line.setdefault(ln.start(), []).append((ln.start(), m))
    lines = list(by_line.values())
    if not lines:
        return None
    at, m = rng.choice(rng.choice(lines))
    m_start, m_end = at + m.start(), at + m.end()
    if r < 0.5:
        v = rng.choice([b"0", b"1", b"-1", b"4294967295", b"18446744073709551615",
                        b"99999999999999999999", str(int(m.group()) + 1).encode(),
                        str(int(m.group()) * 2).encode(), b"ffffffff", b""])
        what = f"number {m.group()!r} at {start + m_start} -> {v!r}"
    else:
        v = rng.choice([b'""', b'"x"', b"RW", b"RDONLY", b"NOACCESS", b"SPARSE", b"FLAT",
                        b"ZERO", b"VMFS", b'"monolithicSparse"', b'"vmfs"',
                        b'"streamOptimized"', b'"../x.vmdk"', b'"/etc/passwd"',
                        b"", m.group() * 2])
        what = f"word {m.group()!r} at {start + m_start} -> {v!r}"
    new = region[:m_start] + v + region[m_end:]
    if fixed:
        new = (new + b"\0" * len(region))[:len(region)]
    buf[start:end] = new
    return "descriptor " + what


def header_mutation(rng, buf, file_size):
    """A field-aware change in buf (the file's first bytes, or its end for a
    VPC footer): returns its description, or None."""
    b = bytes(buf[:8])
    if b[:4] == b"QFI\xfb":
        return "qcow2 " + str(set_field(rng, buf, 0, rng.choice(QCOW2_FIELDS), file_size))
    if b == b"conectix":
        if rng.random() < 0.6 or len(buf) < 1024:
            w = set_field(rng, buf, 0, rng.choice(VPC_FOOTER_FIELDS), file_size)
            if w and "checksum" not in w and rng.random() < 0.7:
                buf[64:68] = vpc_checksum(buf[:512], 64).to_bytes(4, "big")
                w += " (checksum fixed)"
        else:
            w = set_field(rng, buf, 512, rng.choice(VPC_DYN_FIELDS), file_size)
            if w and "checksum" not in w and rng.random() < 0.7:
                buf[548:552] = vpc_checksum(buf[512:1536], 36).to_bytes(4, "big")
                w += " (checksum fixed)"
        return "vpc " + str(w)
    if b == b"vhdxfile" and len(buf) >= 320 * KiB:
        r = rng.random()
        if r < 0.9:
            # a header (4 KiB) or a region table (64 KiB), its CRC mostly fixed
            header = r < 0.5
            base = rng.choice([64 * KiB, 128 * KiB] if header else [192 * KiB, 256 * KiB])
            fields = VHDX_HEADER_FIELDS if header else VHDX_REGION_FIELDS
            w = set_field(rng, buf, base, rng.choice(fields), file_size)
            if w and "checksum" not in w and rng.random() < 0.8:
                blk = bytearray(buf[base:base + (4 if header else 64) * KiB])
                blk[4:8] = b"\0\0\0\0"
                buf[base + 4:base + 8] = crc32c(blk).to_bytes(4, "little")
                w += " (crc fixed)"
        else:
            at = rng.randrange(0, 512)
            buf[at] ^= rng.randrange(1, 256)
            w = f"file identifier byte {at}"
        return "vhdx " + str(w)
    if b[:4] == b"KDMV":
        desc_off = int.from_bytes(buf[28:36], "little") * 512
        desc_len = int.from_bytes(buf[36:44], "little") * 512
        if desc_off and rng.random() < 0.3 and desc_off < len(buf):
            w = text_mutation(rng, buf, desc_off, min(len(buf), desc_off + desc_len))
            if w:
                return "vmdk " + w
        return "vmdk " + str(set_field(rng, buf, 0, rng.choice(VMDK_FIELDS), file_size))
    if bytes(buf[:21]) == b"# Disk DescriptorFile":
        w = text_mutation(rng, buf, 0, len(buf), fixed=len(buf) == 320 * KiB)
        if w:
            return "vmdk " + w
    # raw data (or anything else): another format's magic, or a flipped byte
    if rng.random() < 0.6:
        m = rng.choice(MAGICS)
        buf[:len(m)] = m
        return f"magic {m!r} at 0"
    at = rng.randrange(0, min(512, len(buf))) if buf else 0
    if buf:
        buf[at] ^= rng.randrange(1, 256)
    return f"byte {at} flipped"


def mutate(rng, path):
    """Mutates the file at path (a private copy): returns what was done."""
    size = os.path.getsize(path)
    kind = rng.choices(["flip", "header", "truncate"], [35, 45, 20])[0]
    if kind == "truncate" or size == 0:
        r = rng.random()
        if r < 0.3:
            n = rng.randrange(0, min(size, 4 * KiB) + 1)
        elif r < 0.6:
            n = rng.randrange(0, size // 512 + 1) * 512
        elif r < 0.7:
            n = max(0, size - rng.choice([1, 512, 1024]))
        else:
            n = rng.randrange(0, size + 1)
        os.truncate(path, n)
        return f"truncated to {n} of {size} bytes"
    if kind == "flip":
        r = rng.random()
        if r < 0.3:
            at = rng.randrange(0, min(size, 64 * KiB))
        elif r < 0.45:
            at = rng.randrange(max(0, size - 1024), size)
        else:
            at = rng.randrange(0, size)
        x = 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
        with open(path, "r+b") as f:
            f.seek(at)
            b = f.read(1)
            f.seek(at)
            f.write(bytes([b[0] ^ x]))
        return f"byte {at} xor {x:#04x}"
    with open(path, "r+b") as f:
        head = bytearray(f.read(min(size, 320 * KiB)))
        f.seek(max(0, size - 512))
        tail = f.read(512)
        if head[:8] != b"conectix" and tail[:8] == b"conectix":
            buf, at = bytearray(tail), size - 512         # a fixed VHD's footer
        else:
            buf, at = head, 0
        w = header_mutation(rng, buf, size)
        f.seek(at)
        f.write(buf)
        if at == 0 and len(head) == size and len(buf) != size:   # a descriptor file
            f.truncate(len(buf))
    return w


def qcow2_refusals(path):
    """What cordon refuses in a qcow2 header (docs/qcow2.md#refused), for
    known(): a set of corrupt, data-file, data-file-raw, encrypted."""
    try:
        with open(path, "rb") as f:
            h = f.read(96)
    except OSError:
        return set()
    if len(h) < 36 or h[:4] != b"QFI\xfb":
        return set()
    s = set()
    if int.from_bytes(h[32:36], "big"):
        s.add("encrypted")
    if int.from_bytes(h[4:8], "big") >= 3 and len(h) >= 80:
        inc = int.from_bytes(h[72:80], "big")
        if inc & 2:
            s.add("corrupt")
        if inc & 4:
            s.add("data-file")
        if len(h) >= 96 and int.from_bytes(h[88:96], "big") & 2:
            s.add("data-file-raw")
    return s


# Internal snapshots made in a copy of a qcow2 top (qemu-img snapshot -c):
# names past the 16 columns of the human table, UTF-8 (padded by bytes),
# a control byte (escaped by cordon), a number that is also an id.
SNAPSHOT_NAMES = ["s0", "snap", "1", "a-very-long-snapshot-name-past-16", "x" * 16,
                  "caf\u00e9-\u00fcber", "\u65e5\u672c", "tab\tname", "esc\x1b[1m",
                  "with space", "2", ""]
TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
             "Pacific/Chatham", "Europe/Berlin", "EST5EDT", "<+0130>-1:30", "Nowhere/Bogus"]


def abbrev(rng, name, shortest):
    """--name or an abbreviation getopt_long takes for it in qemu-img
    (unique among qemu-img info's long options: at least shortest letters)."""
    if rng.random() < 0.85:
        return "--" + name
    return "--" + name[:rng.randint(shortest, len(name))]


def gen_info(rng, img):
    """One info command line for img, and maybe a mutation of a copy."""
    units = []
    for o in rng.choice(INFO_OUTPUTS):
        if o == "--backing-chain":
            units.append([abbrev(rng, "backing-chain", 1)])
        elif rng.random() < 0.1:
            units.append([abbrev(rng, "output", 2), "json"])
        else:
            units.append([abbrev(rng, "output", 2) + "=json"])
    if rng.random() < 0.04:
        units.append([abbrev(rng, "output", 2) + "=human"])
    r = rng.random()
    if r < 0.25:
        fmt = img.fmt
    elif r < 0.4:
        fmt = rng.choice([f for f in FORMATS if f != img.fmt] + ["bogus"])
    else:
        fmt = None
    if fmt:
        units.append(rng.choice([["-f", fmt], ["-f", fmt], [f"-f{fmt}"],
                                 [abbrev(rng, "format", 4) + f"={fmt}"]]))
    if rng.random() < 0.3:
        units.append(rng.choice([["-U"], ["-U"], [abbrev(rng, "force-share", 4)]]))
    rng.shuffle(units)
    target = img.top
    snaps = []
    if img.fmt == "qcow2" and not img.data_file and rng.random() < 0.15:
        snaps = [rng.choice(SNAPSHOT_NAMES) for _ in range(rng.choice([1, 1, 2, 3]))]
    mutation = None
    if rng.random() < 0.6:
        victim = img.top if rng.random() < 0.75 or len(img.files) == 1 \
            else rng.choice(img.files)
        mutation = (victim, rng.getrandbits(64))
    r = rng.random()
    if r < 0.01:
        target = "missing.img"
    args = [a for u in units for a in u] + [target]
    if rng.random() < 0.02:     # the command line's own errors
        args = rng.choice([args[:-1], args + [img.top], args + ["-x"],
                           ["--output=xml"] + args, args[:-1] + ["-f"]])
    env = {"CORDON_SANDBOX": "process"} if rng.random() < 0.35 else {}
    tz = rng.choice(TIMEZONES) if rng.random() < 0.3 else None
    return Case(args, env, None, kind="info", mutation=mutation, snapshots=snaps, tz=tz)


# ---------------------------------------------------------------------------
# Known divergences: ONE table.  Narrow on purpose: anything else is a bug.
# ---------------------------------------------------------------------------

DD_DOC = "docs/dd.md#deliberate-differences-from-qemu-img-dd"

KNOWN_DIVERGENCES = [
    # Not compared at all (never a reason to pass a run that differs in
    # something that *is* compared).
    dict(id="sparse-output", kind="not-compared", doc=DD_DOC,
         reason="cordon's outputs are sparse, qemu-img's dense: content and "
                "virtual size are compared, allocation and actual-size are not"),
    dict(id="failed-output", kind="not-compared", doc=DD_DOC,
         reason="after a failed run qemu-img leaves a partial output, cordon "
                "nothing: files are not compared after a failure (cordon "
                "must leave no output and no .cordon-tmp-* file)"),
    # Runs where the tools may differ, each recognised by a predicate.
    dict(id="same-file", kind="match", doc=DD_DOC,
         reason="if= and of= name the same file: qemu-img destroys the input, "
                "cordon refuses",
         match=lambda img, case, q, c: case.same_file and c.rc == 1
         and "refusing to overwrite it" in c.err),
    dict(id="corrupt-marked", kind="match", doc="docs/qcow2.md#refused",
         reason="qcow2 with the corrupt bit set: qemu-img reads it, cordon "
                "refuses images marked corrupt (info describes them)",
         match=lambda img, case, q, c: img.corrupt_marked and c.rc == 1
         and "cordon refuses images marked corrupt" in c.err),
    dict(id="progress-between", kind="stdout", doc="docs/convert.md",
         reason="convert -p: the percentages between the first and the last "
                "progress line follow cordon's map of the chain, which "
                "divides runs otherwise than qemu's block status does for VHD "
                "blocks, VHDX, subclusters and backing chains (everything "
                "else, the outputs included, is compared)",
         match=progress_between),
    dict(id="data-file", kind="match", doc="docs/qcow2.md#refused",
         reason="qcow2 with an external data file: qemu-img opens the file "
                "the image names, cordon refuses (CVE-2024-32498)",
         match=lambda img, case, q, c: (img.data_file and not case.mutation
                                        or refused_file(case, c, "data-file"))
         and c.rc == 1 and "cordon refuses external data files" in c.err),
    dict(id="escaped-controls", kind="match", doc="docs/sandbox.md",
         reason="a name with control bytes (C0, DEL, C1): cordon prints it "
                "escaped (\\x1b), qemu-img as the bytes; compared once "
                "qemu-img's text is escaped as src/host/text_escape.c does "
                "(docs/info.md: Terminal controls)",
         match=lambda img, case, q, c: escaped_controls(img, case, q, c)),
    dict(id="unread-format", kind="match",
         doc="docs/dd.md#deliberate-differences-from-qemu-img-dd",
         reason="a format cordon cannot read yet (here: a qcow2 header mutated "
                "into qcow version 1, or another magic): qemu-img opens it, "
                "cordon refuses it in one line",
         match=lambda img, case, q, c: c.rc == 1 and UNREAD_FORMAT.fullmatch(c.err)),
    dict(id="qcow2-l1-at-open", kind="match",
         doc="docs/qcow2.md#bounds-cordons-beyond-qemus",
         reason="info on a qcow2 whose L1 table, or an L2 table it names, lies "
                "past end of file or has reserved bits (truncated or mutated): "
                "cordon checks them at open and refuses, qemu-img info reads "
                "no table and describes the image",
         match=lambda img, case, q, c: case.kind == "info" and c.rc == 1
         and L1_AT_OPEN.fullmatch(c.err) and qemu_opened_it(case, q, c)),
    dict(id="backing-policy", kind="match", doc="docs/dd.md#backing-files",
         reason="a backing or extent file name (here from a mutated header or "
                "descriptor) that the host's policy refuses: outside the "
                "image's directory, in a subdirectory, hidden, not a regular "
                "file, in /proc, /sys or /dev; qemu-img opens any path "
                "(docs/info.md, docs/vmdk.md#refused-and-every-difference-from-qemu)",
         match=lambda img, case, q, c: c.rc == 1 and BACKING_POLICY.fullmatch(c.err)),
    dict(id="info-luks", kind="match", doc="docs/info.md#differences-from-qemu-img-deliberate",
         reason="info on a qcow2 encrypted with LUKS (here crypt_method 2 from a "
                "mutated header, with a crypto header extension): qemu-img info "
                "decodes the LUKS header, cordon refuses in its own words",
         match=lambda img, case, q, c: case.kind == "info" and c.rc == 1
         and refused_file(case, c, "encrypted")
         and re.fullmatch(r"PROG: Could not open '[^\n]*': cordon cannot describe LUKS "
                          r"encryption headers yet\n", c.err)),
    # Open: cordon bugs found by the fuzzer in a format's code, reported and
    # not fixed yet (docs/difffuzz.md#open-divergences).  Counted apart
    # ("open-..." in the summary); remove an entry with its fix.
    dict(id="open-vmdk-size-wrap", kind="open", doc="docs/difffuzz.md#open-divergences",
         reason="a VMDK capacity whose size in bytes wraps 2^64 (2^57 + 1 "
                "sectors): qemu's open-time length check passes on the "
                "wrapped value and info fails on the size, `Can't get image "
                "size 'x': File too large`; cordon fails at open "
                "(src/core/vmdk/vmdk.c)",
         match=lambda img, case, q, c: case.kind == "info" and q.rc == 1 and c.rc == 1
         and re.fullmatch(r"PROG: Can't get image size '[^\n]*': File too large\n", q.err)
         and re.fullmatch(r"PROG: Could not open '[^\n]*': Could not refresh total "
                          r"sector count: File too large\n", c.err)),
]


def known(img, case, q, c):
    for k in KNOWN_DIVERGENCES:
        if k["kind"] in ("match", "open") and k["match"](img, case, q, c):
            return k["id"]
    return None


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------

INFO_FIELDS = ["virtual-size", "format", "cluster-size", "dirty-flag",
               "backing-filename"]
SPECIFIC_FIELDS = ["compat", "refcount-bits", "compression-type", "extended-l2",
                   "lazy-refcounts", "corrupt"]


def out_props(j):
    if j is None:
        return None
    p = {k: j.get(k) for k in INFO_FIELDS}
    spec = (j.get("format-specific") or {}).get("data") or {}
    p.update({k: spec.get(k) for k in SPECIFIC_FIELDS})
    return p


def compare_outputs(d, qout, cout, fmt):
    """Differences between two successful outputs of format fmt, as text lines."""
    diffs = []
    qi, ci = info(qout, d, fmt), info(cout, d, fmt)
    if qi is None or ci is None:
        return [f"qemu-img info failed: qemu-img's={qi is not None} cordon's={ci is not None}"]
    qp, cp = out_props(qi), out_props(ci)
    if qp != cp:
        diffs.append(f"output properties differ: qemu-img {qp} cordon {cp}")
        return diffs
    if fmt in ("qcow2", "vhdx", "vmdk"):  # the formats qemu-img check knows
        r = run(["qemu-img", "check", "-f", fmt, cout], cwd=d, timeout=120)
        if r.rc != 0 or "No errors were found" not in r.out:
            diffs.append(f"qemu-img check of cordon's output: rc={r.rc}\n{r.out}{r.err}")
    if fmt != "raw":
        r = run(["qemu-img", "compare", "-q", "-f", fmt, "-F", fmt, qout, cout],
                cwd=d, timeout=300)
        if r.rc != 0:
            diffs.append(f"content differs (qemu-img compare rc={r.rc}) {r.err}")
    else:
        if not files_equal(d / qout, d / cout):
            diffs.append("content differs (raw outputs, byte for byte)")
    return diffs


def files_equal(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(MiB), fb.read(MiB)
            if x != y:
                return False
            if not x:
                return True


def stat_inputs(d, files):
    return {f: (os.stat(d / f).st_size, os.stat(d / f).st_mtime_ns) for f in files}


def cordon_env(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    env.update(extra)
    return env


def old_output(d, size):
    """An existing out.img (full of 0x5a) that the run replaces."""
    with open(d / "out.img", "wb") as f:
        f.write(b"\x5a" * size)


def run_case(op, cfg, img, case, d):
    """Runs both tools; returns (verdict, detail): pass|known|fail|inconclusive."""
    before = stat_inputs(d, img.files)
    if case.same_file:
        shutil.copy2(d / img.top, d / "same.orig")
    old = case.old_output >= 0 and not case.same_file
    if old:
        old_output(d, case.old_output)
    q = run(["qemu-img", op] + case.args, cwd=d, timeout=cfg.timeout, prog="qemu-img")
    if case.same_file:
        shutil.copy2(d / "same.orig", d / img.top)
    elif (d / "out.img").exists():
        os.rename(d / "out.img", d / "out.qemu")
    if old:
        old_output(d, case.old_output)
    c = run([cfg.cordon, op] + case.args, cwd=d, timeout=cfg.timeout,
            env=cordon_env(case.env), prog="cordon")
    if case.same_file:
        shutil.copy2(d / "same.orig", d / img.top)
    diffs = []
    try:
        if c.rc is None:
            diffs.append(f"cordon timed out after {cfg.timeout}s")
        elif q.rc is None:
            return "inconclusive", f"qemu-img timed out after {cfg.timeout}s", q, c
        if c.rc is not None and c.rc > 1:
            diffs.append(f"cordon exit status {c.rc} (crash or signal?)")
        if not diffs:
            if q.rc != c.rc:
                diffs.append(f"exit status: qemu-img {q.rc}, cordon {c.rc}")
            if q.err != c.err:
                diffs.append("stderr differs")
            if q.out != c.out and not progress_between(img, case, q, c):
                diffs.append("stdout differs")
        if not case.same_file and stat_inputs(d, img.files) != before:
            diffs.append("an input file changed")
        left = [p.name for p in d.iterdir() if p.name.startswith(".cordon-tmp")]
        if left:
            diffs.append(f"cordon left temporary files: {left}")
        if c.rc == 1 and not case.same_file:
            if not old and (d / "out.img").exists():
                diffs.append("cordon failed but left an output")
            if old and (not (d / "out.img").exists() or
                        (d / "out.img").read_bytes() != b"\x5a" * case.old_output):
                diffs.append("cordon failed and changed the existing output")
        if not diffs and q.rc == 0 and c.rc == 0 and not case.same_file:
            diffs += compare_outputs(d, "out.qemu", "out.img", case.out_fmt)
        if not diffs and q.out != c.out:
            return "known", "progress-between", q, c
        if not diffs:
            return "pass", "", q, c
        k = known(img, case, q, c)
        if k:
            return "known", k, q, c
        return "fail", "\n".join(diffs), q, c
    finally:
        for n in ("out.img", "out.qemu", "same.orig"):
            try:
                os.unlink(d / n)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------
# Ops: each with its own generator and runner.
# ---------------------------------------------------------------------------

def run_dd(cfg, img, case, d):
    return run_case("dd", cfg, img, case, d)


def run_convert(cfg, img, case, d):
    return run_case("convert", cfg, img, case, d)


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def run_info(cfg, img, case, d):
    """info on the image, or on a copy of the case with one file mutated
    (mut/: the other files hard-linked, the mutated one a private copy):
    exit status, stderr and stdout must agree."""
    here = d
    private = ({case.mutation[0]} if case.mutation else set()) | \
        ({img.top} if case.snapshots else set())
    before_orig = stat_inputs(d, img.files) if private else None
    if private:
        here = d / "mut"
        here.mkdir()
        for f in img.files:
            if f in private:
                must(["cp", "--sparse=always", str(d / f), str(here / f)])
            else:
                link_or_copy(d / f, here / f)
        case.subdir = "mut"
        notes = []
        for name in case.snapshots:     # before any mutation, as a user's image
            r = run(["qemu-img", "snapshot", "-c", name, img.top], cwd=here, timeout=120)
            notes.append(f"snapshot {name!r}" + ("" if r.rc == 0 else " (failed)"))
        if case.mutation:
            victim, mseed = case.mutation
            notes.append(f"mutated copy of {victim}: " +
                         mutate(random.Random(mseed), here / victim))
        case.note = "; ".join(notes)
    # mut/ stays until save_failure has copied it: run_group removes it
    case.refusals = {f: qcow2_refusals(here / f) for f in img.files}
    before = stat_inputs(here, img.files)
    tz = {"TZ": case.tz} if case.tz else {}
    qenv = {k: v for k, v in os.environ.items() if k != "TZ"}
    q = run(["qemu-img", "info"] + case.args, cwd=here, timeout=cfg.timeout,
            env=dict(qenv, **tz), prog="qemu-img")
    cenv = {k: v for k, v in cordon_env(case.env).items() if k != "TZ"}
    c = run([cfg.cordon, "info"] + case.args, cwd=here, timeout=cfg.timeout,
            env=dict(cenv, **tz), prog="cordon")
    diffs = []
    crashed = "PROG: the sandbox stopped: " in c.err
    if c.rc is None:
        diffs.append(f"cordon timed out after {cfg.timeout}s")
    elif q.rc is None:
        return "inconclusive", f"qemu-img timed out after {cfg.timeout}s", q, c
    elif c.rc > 1 or c.rc < 0:
        diffs.append(f"cordon exit status {c.rc} (crash or signal?)")
    elif crashed:
        diffs.append("cordon's sandbox stopped (a crash or a broken limit): " + c.err.strip())
    elif q.rc < 0:          # an assertion: qemu-img gives nothing to compare
        return "inconclusive", f"qemu-img killed by signal {-q.rc}: {q.err.strip()}", q, c
    else:
        if q.rc != c.rc:
            diffs.append(f"exit status: qemu-img {q.rc}, cordon {c.rc}")
        if q.err != c.err:
            diffs.append("stderr differs")
        if q.out != c.out:
            diffs.append("stdout differs")
    if stat_inputs(here, img.files) != before:
        diffs.append("an input file changed")
    if before_orig is not None and stat_inputs(d, img.files) != before_orig:
        diffs.append("an original file changed while a copy was mutated")
    left = [p.name for p in here.iterdir() if p.name.startswith(".cordon-tmp")]
    if left:
        diffs.append(f"cordon left temporary files: {left}")
    if not diffs:
        return "pass", "", q, c
    k = known(img, case, q, c)
    if k:
        return "known", k, q, c
    return "fail", "\n".join(diffs), q, c


def text_escape(b):
    """src/host/text_escape.c: C0, DEL and C1 (as a stray byte or as UTF-8
    U+0080..U+009F) as \\xNN; newlines kept (the lines are compared)."""
    out, i = bytearray(), 0
    while i < len(b):
        x = b[i]
        need = 1 if x < 0x80 else 2 if x & 0xE0 == 0xC0 else 3 if x & 0xF0 == 0xE0 \
            else 4 if x & 0xF8 == 0xF0 else 0
        cp = None
        if need and i + need <= len(b):
            try:
                cp = ord(b[i:i + need].decode("utf-8"))     # strict, as utf8.h
            except UnicodeDecodeError:
                cp = None
        seq = need if cp is not None else 1
        esc = (x < 0x20 and x != 0x0A or x == 0x7F or 0x80 <= x <= 0x9F) if seq == 1 \
            else 0x80 <= cp <= 0x9F
        out += b"".join(b"\\x%02x" % y for y in b[i:i + seq]) if esc else b[i:i + seq]
        i += seq
    return bytes(out)


def escaped_controls(img, case, q, c):
    """cordon prints names with their controls escaped where qemu-img prints
    the bytes: the outputs agree once qemu-img's are escaped the same way."""
    if q.rc != c.rc or (q.raw_err == c.raw_err and q.raw_out == c.raw_out):
        return False
    unesc = lambda b: b.replace(b"\\x0a", b"\n")   # a name's newline, escaped
    return text_escape(q.raw_err) == unesc(c.raw_err) and \
        text_escape(q.raw_out) == unesc(c.raw_out)


UNREAD_FORMAT = re.compile(r"PROG: Could not open '[^\n]*': cordon cannot read "
                           r"(vdi|qed|parallels|qcow|luks|bochs|cloop|dmg) images yet\n")
L1_AT_OPEN = re.compile(r"PROG: Could not open '[^\n]*': qcow2: Image is corrupt: "
                        r"(L1 table at 0x[0-9a-f]+ \(\d+ entries\) extends past end of file"
                        r"|L1 table at 0x[0-9a-f]+: entry \d+ points past end of file "
                        r"\(L2 table at 0x[0-9a-f]+\)"
                        r"|L1 table at 0x[0-9a-f]+: entry \d+ has reserved bits set "
                        r"\(0x[0-9a-f]+\)"
                        r"|L2 table offset 0x[0-9a-f]+ unaligned \(L1 index: 0x[0-9a-f]+\))\n")

BACKING_POLICY = re.compile(
    r"PROG: [^\n]*cordon refuses (extent file )?'[^\n]*': (it is outside the directories "
    r"images may name \(the image's own directory and --backing-allow\)|it is in a "
    r"subdirectory of the image's directory \(only --backing-allow directories include "
    r"their subdirectories\)|it is hidden \(a name component starts with '\.'\)|it is "
    r"not a regular file|it is in /proc, /sys or /dev)\n")


def qemu_opened_it(case, q, c):
    """qemu-img described the image cordon refused: it succeeded, or (with
    --backing-chain) failed on another file of the chain."""
    if q.rc == 0:
        return q.err == ""
    m = re.match(r"PROG: Could not open '([^\n']*)'", c.err)
    chain = any(len(a) > 2 and "--backing-chain".startswith(a) for a in case.args)
    return bool(m) and chain and \
        f"Could not open '{m.group(1)}'" not in q.err and q.err.count("\n") == 1


def refused_file(case, c, flag):
    """cordon's message names a file of the case whose header has flag."""
    names = re.findall(r"Could not open '([^']*)'", c.err)
    return any(flag in case.refusals.get(os.path.basename(n), ()) for n in names)


OPS = {
    "dd": dict(gen=gen_dd, run=run_dd),
    "convert": dict(gen=gen_convert, run=run_convert),
    "info": dict(gen=gen_info, run=run_info),
}


# ---------------------------------------------------------------------------
# Replay scripts
# ---------------------------------------------------------------------------

REPLAY = r'''#!/bin/bash
# difffuzz failing case: {label}
# Replays `qemu-img {op}` and `cordon {op}` on copies of inputs/ and compares
# them as scripts/differential-fuzz.py does.  CORDON=path/to/cordon to choose
# the binary.  Exit status 0 when the two agree.
#
# images:
{desc}
#
# what the fuzzer saw:
{detail}
set -u
here=$(cd "$(dirname "$0")" && pwd)
CORDON=${{CORDON:-{cordon}}}
QEMU_IMG=${{QEMU_IMG:-qemu-img}}
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
mkdir "$w/q" "$w/c"
for f in {files}; do
    cp --sparse=always "$here/inputs/$f" "$w/q/$f"
    cp --sparse=always "$here/inputs/$f" "$w/c/$f"
done
{pre}
args=({args})
(cd "$w/q" && "$QEMU_IMG" {op} "${{args[@]}}") >"$w/q.out" 2>"$w/q.err"; qrc=$?
(cd "$w/c" && env -u CORDON_SANDBOX {env} "$CORDON" {op} "${{args[@]}}") >"$w/c.out" 2>"$w/c.err"; crc=$?
# cordon_messages.normalise(), in shell: a replay needs nothing but itself.
norm() {{ sed -e "s/^$1: /PROG: /" -e "s/Try '$1 --help'/Try 'PROG --help'/" "$2"; }}
status=0
echo "qemu-img rc=$qrc   cordon rc=$crc"
[ "$qrc" = "$crc" ] || {{ echo "DIFF: exit status"; status=1; }}
if ! diff -u <(norm qemu-img "$w/q.err") <(norm cordon "$w/c.err"); then echo "DIFF: stderr"; status=1; fi
if ! diff -u "$w/q.out" "$w/c.out"; then echo "DIFF: stdout"; status=1; fi
out={out}
if [ "$qrc" = 0 ] && [ "$crc" = 0 ] && [ -e "$w/q/$out" ] && [ -e "$w/c/$out" ]; then
    props() {{ "$QEMU_IMG" info -f {outfmt} --output=json "$1" | grep -E '"(virtual-size|format|cluster-size|compat|refcount-bits|compression-type|extended-l2|lazy-refcounts|corrupt|dirty-flag)"'; }}
    if ! diff -u <(props "$w/q/$out") <(props "$w/c/$out"); then echo "DIFF: output properties"; status=1; fi
    case {outfmt} in qcow2|vhdx|vmdk)
        "$QEMU_IMG" check -f {outfmt} "$w/c/$out" || {{ echo "DIFF: qemu-img check of cordon's output"; status=1; }};;
    esac
    if [ {outfmt} != raw ]; then
        "$QEMU_IMG" compare -f {outfmt} -F {outfmt} "$w/q/$out" "$w/c/$out" || {{ echo "DIFF: content"; status=1; }}
    else
        cmp "$w/q/$out" "$w/c/$out" || {{ echo "DIFF: content"; status=1; }}
    fi
fi
[ $status = 0 ] && echo "SAME" || echo "DIFFERENT"
exit $status
'''


def save_failure(cfg, label, op, img, case, d, detail, q, c):
    dest = Path(cfg.keep) / label.replace(" ", "-").replace("/", "-")
    (dest / "inputs").mkdir(parents=True, exist_ok=True)
    for f in img.files:      # info: from mut/ when a copy was mutated
        must(["cp", "--sparse=always", str(d / case.subdir / f), str(dest / "inputs" / f)])
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in case.env.items())
    out = case.out or next((a.split("=", 1)[1] for a in case.args if a.startswith("of=")),
                           "out.img")
    seen = (f"qemu-img rc={q.rc}\n{q.err}cordon rc={c.rc}\n{c.err}{detail}")
    text = REPLAY.format(
        label=label, op=op, cordon=shlex.quote(str(cfg.replay_cordon)),
        desc="\n".join("#   " + x for x in img.desc + ([case.note] if case.note else [])),
        detail="\n".join("#   " + x for x in seen.splitlines()),
        files=" ".join(shlex.quote(f) for f in img.files),
        args=" ".join(shlex.quote(a) for a in case.args), env=env,
        out=shlex.quote(out), outfmt=case.out_fmt,
        pre=(f"export TZ={shlex.quote(case.tz)}\n" if case.tz else
             "unset TZ\n" if case.kind == "info" else "") +
        ("" if case.old_output < 0 or case.same_file else
        "# an existing out.img, as the fuzzer makes it (of= may name another file)\n" +
        "".join(f"head -c {case.old_output} /dev/zero | tr '\\0' Z > \"$w/{x}/out.img\"\n"
                for x in "qc")))
    p = dest / "replay.sh"
    p.write_text(text)
    p.chmod(0o755)
    return dest


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

@dataclass
class Cfg:
    seed: int
    ops: list
    cordon: str              # a private copy, safe from rebuilds mid-campaign
    replay_cordon: str       # the binary replay scripts name
    timeout: int
    keep: str
    workdir: str
    verbose: bool


def group_sizes(seed, iterations):
    sizes, total, g = [], 0, 0
    while total < iterations:
        n = random.Random(f"{seed}/{g}/n").randint(5, 10)
        n = min(n, iterations - total)
        sizes.append(n)
        total += n
        g += 1
    return sizes


def run_group(cfg, g, n, first):
    """One image (or chain) and n operand sets; returns per-iteration results."""
    rng = random.Random(f"{cfg.seed}/{g}")
    d = Path(tempfile.mkdtemp(prefix=f"g{g}-", dir=cfg.workdir))
    results = []
    try:
        try:
            img = make_image(rng, d)
        except Exception as e:  # a setup failure is the fuzzer's, not cordon's
            return [(first + i, "inconclusive", f"image setup failed: {e}", "") for i in range(n)]
        for i in range(n):
            it = first + i
            op = rng.choice(cfg.ops)
            case = OPS[op]["gen"](rng, img)
            try:
                verdict, detail, q, c = OPS[op]["run"](cfg, img, case, d)
            except Exception as e:  # noqa: BLE001 - reported, never swallowed
                verdict, detail = "fail", f"harness error: {e!r}"
                q = c = Result(None, "", "", 0.0)
            label = f"seed{cfg.seed}-it{it}"
            line = f"{label} {op} {shlex.join(case.args)}" + \
                (f" [{' '.join(f'{k}={v}' for k, v in case.env.items())}]" if case.env else "")
            if case.tz:
                line += f" [TZ={case.tz}]"
            if case.note:
                line += f" ({case.note})"
            msg = ""
            if verdict == "fail":
                msg = (f"FAIL {line}\n  images: " + "\n          ".join(img.desc) +
                       f"\n  {detail}\n  qemu-img rc={q.rc} ({q.secs:.1f}s): {q.err!r}"
                       f"\n  cordon   rc={c.rc} ({c.secs:.1f}s): {c.err!r}")
                if cfg.keep:
                    msg += f"\n  saved: {save_failure(cfg, label, op, img, case, d, detail, q, c)}/replay.sh"
            elif cfg.verbose:
                msg = f"{verdict} {line} q={q.rc} c={c.rc} {detail}"
            results.append((it, verdict, detail, msg))
            shutil.rmtree(d / "mut", ignore_errors=True)    # info's mutated copy
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return results


def commit_seed():
    try:
        h = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                           text=True, timeout=10)
        if h.returncode == 0 and h.stdout.strip():
            return int(hashlib.sha256(h.stdout.strip().encode()).hexdigest()[:8], 16)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return 20240601


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", default="random",
                    help="an integer, 'commit' (hash of git HEAD; a fixed seed "
                         "outside git) or 'random' (default)")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--ops", default="dd", help=f"comma-separated, of: {','.join(OPS)}")
    ap.add_argument("--keep-failures", metavar="DIR", default=None)
    ap.add_argument("--cordon", default=str(ROOT / "build" / "cordon"))
    ap.add_argument("--timeout", type=int, default=120, help="seconds per tool run")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--only", type=int, default=None, metavar="IT",
                    help="run only the group holding iteration IT")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    if a.seed == "commit":
        seed = commit_seed()
    elif a.seed == "random":
        seed = random.SystemRandom().randrange(1 << 32)
    else:
        seed = int(a.seed, 0)
    ops = a.ops.split(",")
    for o in ops:
        if o not in OPS:
            ap.error(f"unknown op {o!r} (known: {', '.join(OPS)})")
    for tool in ("qemu-img", "qemu-io"):
        if shutil.which(tool) is None:
            sys.exit(f"difffuzz: {tool} is not installed (make setup)")
    if not os.access(a.cordon, os.X_OK):
        sys.exit(f"difffuzz: {a.cordon} is not built (make build/cordon)")
    if a.keep_failures:
        os.makedirs(a.keep_failures, exist_ok=True)
        a.keep_failures = os.path.abspath(a.keep_failures)
    print(f"difffuzz: seed {seed}, {a.iterations} iterations, ops {','.join(ops)}, "
          f"{a.jobs} jobs (replay: {Path(sys.argv[0]).name} --seed {seed} "
          f"--iterations {a.iterations})", flush=True)

    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="difffuzz-")
    snap = os.path.join(workdir, "cordon")
    shutil.copy2(a.cordon, snap)
    cfg = Cfg(seed, ops, snap, os.path.abspath(a.cordon), a.timeout, a.keep_failures,
              workdir, a.verbose)
    sizes = group_sizes(seed, a.iterations)
    firsts = [sum(sizes[:g]) for g in range(len(sizes))]
    groups = list(range(len(sizes)))
    if a.only is not None:
        groups = [g for g in groups if firsts[g] <= a.only < firsts[g] + sizes[g]]
    counts = {"pass": 0, "fail": 0, "known": 0, "inconclusive": 0}
    known_ids = {}
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = [ex.submit(run_group, cfg, g, sizes[g], firsts[g]) for g in groups]
            done = 0
            for f in concurrent.futures.as_completed(futs):
                for it, verdict, detail, msg in f.result():
                    counts[verdict] += 1
                    if verdict == "known":
                        known_ids[detail] = known_ids.get(detail, 0) + 1
                    if verdict == "inconclusive":
                        print(f"inconclusive: iteration {it}: {detail}", flush=True)
                    if msg:
                        print(msg, flush=True)
                done += 1
                if done % 25 == 0:
                    print(f"difffuzz: {sum(counts.values())} runs, {counts['fail']} failed, "
                          f"{time.monotonic() - t0:.0f}s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - t0
    open_ids = {k: v for k, v in known_ids.items() if k.startswith("open-")}
    known_ids = {k: v for k, v in known_ids.items() if k not in open_ids}
    n_open = sum(open_ids.values())
    print(f"difffuzz: {counts['known'] - n_open} known divergences {known_ids or ''}, "
          + (f"{n_open} open (cordon bugs not fixed yet, docs/difffuzz.md#open-divergences) "
             f"{open_ids}, " if open_ids else "")
          + f"{counts['inconclusive']} inconclusive, {wall:.0f}s wall")
    passed = counts["pass"] + counts["known"]
    print(f"difffuzz: {passed} passed, {counts['fail']} failed (seed {seed})")
    sys.exit(1 if counts["fail"] else 0)


if __name__ == "__main__":
    main()
