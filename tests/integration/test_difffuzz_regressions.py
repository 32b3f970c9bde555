"""
Regression cases from differential fuzzing (scripts/differential-fuzz.py,
docs/difffuzz.md): each is the minimal reproducer of a case where cordon dd
and qemu-img dd differed, or where the fuzzer itself was wrong, run through
both tools and compared as the fuzzer compares them: exit status, stderr
(program names normalised), and for successful runs the output's format,
virtual size and qcow2 properties (`qemu-img info`), `qemu-img check` of a
qcow2 output, and content (raw byte for byte, qcow2 via `qemu-img compare`).

A case is (id, setup, args): setup is a list of commands (argv lists, run in
the test's directory; "qemu-img" and "qemu-io" are the real tools, "truncate"
makes a raw file, "vpc-dyn-set" sets a field of a VHD's dynamic header and
its checksum, as the fuzzer's mutations do), args the `dd` arguments, or in
INFO_CASES the `info` arguments: both tools describe the same files, and
exit status, stderr (program names normalised) and stdout must be the same.
"""
import json
import os
import subprocess

import pytest

from conftest import QEMU_IMG, normalise

TIMEOUT = 300
KiB, MiB = 1 << 10, 1 << 20


def qimg(*a):
    return ["qemu-img", *a]


def qio(fmt, img, *cmds):
    argv = ["qemu-io", "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    return argv + [img]


def poke(img, off, hexbytes):
    return ["poke", img, str(off), hexbytes]


CASES = [
    ("qcow2-size-wraps-l1-count",
     [qimg("create", "-q", "-f", "qcow2", "in.qcow2", "1M"),
      poke("in.qcow2", 24, "fffffffffffffe00")],
     ["if=in.qcow2", "of=out.img"]),
    # The fuzzer's first finding was its own: `-f raw` on a qcow2 file gives
    # a raw output whose bytes start with a qcow2 header, so the outputs must
    # be examined as the format they were written in (-f raw), never probed.
    ("raw-read-of-qcow2-probes-as-qcow2",
     [qimg("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "in.qcow2", "1242624")],
     ["bs=065537", "count=1B", "if=in.qcow2", "of=out.img", "-f", "raw", "skip=0"]),
    # Shapes the fuzzer draws that the other suites do not spell out.
    ("chain-raw-unaligned-base-under-longer-overlays",
     [["truncate", "-s", "1000", "l0.raw"],
      qio("raw", "l0.raw", "write -P 0x11 900 100"),
      qimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=512,compat=0.10",
           "-b", "l0.raw", "-F", "raw", "l1.qcow2", "4096"),
      qio("qcow2", "l1.qcow2", "write -P 0x22 1500 10"),
      qimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=16384,extended_l2=on",
           "-b", "l1.qcow2", "-F", "qcow2", "l2.qcow2", "65536"),
      qio("qcow2", "l2.qcow2", "write -z 0 512", "write -P 0x33 3000 1")],
     ["bs=777", "count=9", "skip=1", "-O", "qcow2", "if=l2.qcow2", "of=out.img"]),
    ("zstd-compressed-clusters-unaligned-window",
     [qimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096,compression_type=zstd",
           "in.qcow2", "1M"),
      qio("qcow2", "in.qcow2", "write -c -P 0x44 8192 4096", "write -P 0x55 12000 100",
          "write -z -u 0 4096")],
     ["bs=4095", "count=4", "skip=2", "if=in.qcow2", "of=out.img"]),
    ("sizes-fraction-hex-whitespace",
     [["truncate", "-s", "70000", "in.raw"], qio("raw", "in.raw", "write -P 0x66 0 70000")],
     ["bs=1.5k", "count= 0x10", "skip=+2", "if=in.raw", "of=out.img"]),
    ("size-hex-suffix-warning",
     [["truncate", "-s", "4096", "in.raw"]],
     ["bs=0x1k", "if=in.raw", "of=out.img"]),
    ("size-overflow-out-of-range",
     [["truncate", "-s", "4096", "in.raw"]],
     ["count=9E", "if=in.raw", "of=out.img"]),
]


INFO_CASES = [
    # data-file-raw (autoclear bit 1) without a data file: qemu-img info
    # opens no data file (BDRV_O_NO_IO) and describes the image; cordon
    # refused it at open as dd does.
    ("info-qcow2-data-file-raw-without-data-file",
     [qimg("create", "-q", "-f", "qcow2", "in.qcow2", "1M"), poke("in.qcow2", 95, "02")],
     ["in.qcow2"]),
    # A virtual size within 2^29 of 2^64 (64 KiB clusters): qemu's L1 count
    # wraps, its checks pass, and the open fails on the sector count.
    ("info-qcow2-size-wraps-l1-count",
     [qimg("create", "-q", "-f", "qcow2", "in.qcow2", "1M"),
      poke("in.qcow2", 24, "fffffffffffffe00")],
     ["--output=json", "in.qcow2"]),
    # A size past INT64_MAX whose L1 count (1 MiB clusters, extended L2)
    # fits an int: qemu goes on to "L1 table is too small"; cordon said
    # "Image is too big" (seed 20261218, iteration 3204).
    ("info-qcow2-size-past-int64-l1-too-small",
     [qimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=1M,extended_l2=on",
           "in.qcow2", "1M"), poke("in.qcow2", 24, "e270ab8af30c2e96")],
     ["in.qcow2"]),
    # 6000 snapshot entries (one real, the rest zeros past the file's old
    # end): more results than cordon's sandbox could send in 1 MiB.
    ("info-qcow2-6000-snapshots",
     [qimg("create", "-q", "-f", "qcow2", "in.qcow2", "1M"),
      qimg("snapshot", "-c", "s0", "in.qcow2"), ["grow", "in.qcow2", str(MiB)],
      poke("in.qcow2", 60, "00001770")],
     ["in.qcow2"]),
    # qemu's BlockDriverInfo.cluster_size is an int: a VHD block of 2 GiB
    # (a mutated dynamic header, its checksum fixed) is cluster-size
    # -2147483648; cordon printed 2147483648.
    ("info-vpc-2g-block-negative-cluster-size",
     [qimg("create", "-q", "-f", "vpc", "in.vhd", "974848"),
      ["vpc-dyn-set", "in.vhd", "32", str(0x80000000)]],
     ["--output=json", "--backing-chain", "-U", "in.vhd"]),
    ("info-vpc-2g-block-negative-cluster-size-human",
     [qimg("create", "-q", "-f", "vpc", "in.vhd", "1M"),
      ["vpc-dyn-set", "in.vhd", "32", str(0x80000000)]],
     ["in.vhd"]),
    # getopt_long takes an abbreviation unique among qemu-img info's long
    # options: "--back" is --backing-chain there; cordon's --backing-allow
    # made it ambiguous ("unrecognized option '--back'").
    ("info-abbreviated-backing-chain",
     [qimg("create", "-q", "-f", "qcow2", "base.qcow2", "1M"),
      qimg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")],
     ["--back", "top.qcow2"]),
    ("info-abbreviated-backing-chain-shortest",
     [qimg("create", "-q", "-f", "qcow2", "base.qcow2", "1M"),
      qimg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")],
     ["--output=json", "--b", "top.qcow2"]),
    ("info-abbreviation-with-value-refused",
     [qimg("create", "-q", "-f", "qcow2", "top.qcow2", "1M")],
     ["--backing-=1", "top.qcow2"]),
]


def vpc_dyn_set(path, offset, value):
    """Sets the 32-bit field at offset in a VHD's dynamic header (at 512)
    and that header's checksum (the ones' complement of its byte sum)."""
    with open(path, "r+b") as f:
        f.seek(512)
        h = bytearray(f.read(1024))
        h[offset:offset + 4] = value.to_bytes(4, "big")
        h[36:40] = bytes(4)
        h[36:40] = ((~sum(h)) & 0xFFFFFFFF).to_bytes(4, "big")
        f.seek(512)
        f.write(h)


def make_files(where, cmds):
    where.mkdir(parents=True)
    for argv in cmds:
        if argv[0] == "truncate":
            with open(where / argv[3], "wb") as f:
                f.truncate(int(argv[2]))
            continue
        if argv[0] == "poke":
            with open(where / argv[1], "r+b") as f:
                f.seek(int(argv[2]))
                f.write(bytes.fromhex(argv[3]))
            continue
        if argv[0] == "grow":
            with open(where / argv[1], "r+b") as f:
                f.truncate(os.path.getsize(where / argv[1]) + int(argv[2]))
            continue
        if argv[0] == "vpc-dyn-set":
            vpc_dyn_set(where / argv[1], int(argv[2]), int(argv[3]))
            continue
        subprocess.run(argv, cwd=where, check=True, capture_output=True, timeout=TIMEOUT)


def props(path, fmt):
    j = json.loads(subprocess.run([QEMU_IMG, "info", "-f", fmt, "--output=json", path],
                                  check=True, capture_output=True, text=True).stdout)
    spec = (j.get("format-specific") or {}).get("data") or {}
    return ({k: j.get(k) for k in ("virtual-size", "format", "cluster-size", "dirty-flag")},
            {k: spec.get(k) for k in ("compat", "refcount-bits", "compression-type",
                                      "extended-l2", "lazy-refcounts", "corrupt")})


def out_format(args):
    fmt = "raw"
    for i, a in enumerate(args):
        if a == "-O":
            fmt = args[i + 1]
    return fmt


def run_both(qemu_img, cordon_bin, sandbox, command, args, qdir, cdir):
    """Both tools' COMMAND args, in qdir and cdir: the same status, stderr
    (program names normalised) and stdout.  qemu-img's run."""
    q = subprocess.run([qemu_img, command, *args], cwd=qdir, capture_output=True,
                       text=True, timeout=TIMEOUT)
    env = dict(os.environ, CORDON_SANDBOX=sandbox)
    c = subprocess.run([str(cordon_bin), command, *args], cwd=cdir, capture_output=True,
                       text=True, timeout=TIMEOUT, env=env)
    assert c.returncode == q.returncode, (q.stderr, c.stderr)
    assert normalise(c.stderr, "cordon") == normalise(q.stderr, "qemu-img")
    assert c.stdout == q.stdout
    return q


@pytest.mark.parametrize("name,cmds,args", CASES, ids=[c[0] for c in CASES])
def test_difffuzz_regression(tmp_path, sandbox, qemu_img, cordon_bin, name, cmds, args):
    qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
    make_files(qdir, cmds)
    make_files(cdir, cmds)
    q = run_both(qemu_img, cordon_bin, sandbox, "dd", args, qdir, cdir)
    if q.returncode != 0:
        return
    fmt = out_format(args)
    qout, cout = str(qdir / "out.img"), str(cdir / "out.img")
    assert props(cout, fmt) == props(qout, fmt)
    if fmt == "qcow2":
        chk = subprocess.run([qemu_img, "check", "-f", "qcow2", cout],
                             capture_output=True, text=True)
        assert chk.returncode == 0 and "No errors were found" in chk.stdout, chk.stdout
        cmp = subprocess.run([qemu_img, "compare", "-f", "qcow2", "-F", "qcow2", qout, cout],
                             capture_output=True, text=True)
        assert cmp.returncode == 0, cmp.stdout + cmp.stderr
    else:
        with open(qout, "rb") as a, open(cout, "rb") as b:
            assert a.read() == b.read(), "raw outputs differ"


@pytest.mark.parametrize("name,cmds,args", INFO_CASES, ids=[c[0] for c in INFO_CASES])
def test_difffuzz_info_regression(tmp_path, sandbox, qemu_img, cordon_bin, name, cmds, args):
    d = tmp_path / "images"
    make_files(d, cmds)
    run_both(qemu_img, cordon_bin, sandbox, "info", args, d, d)
