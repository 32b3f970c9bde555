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
makes a raw file), args the `dd` arguments.
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


CASES = [
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


def make_files(where, cmds):
    where.mkdir(parents=True)
    for argv in cmds:
        if argv[0] == "truncate":
            with open(where / argv[3], "wb") as f:
                f.truncate(int(argv[2]))
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


@pytest.mark.parametrize("name,cmds,args", CASES, ids=[c[0] for c in CASES])
def test_difffuzz_regression(tmp_path, sandbox, qemu_img, cordon_bin, name, cmds, args):
    qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
    make_files(qdir, cmds)
    make_files(cdir, cmds)
    q = subprocess.run([qemu_img, "dd", *args], cwd=qdir, capture_output=True,
                       text=True, timeout=TIMEOUT)
    env = dict(os.environ, CORDON_SANDBOX=sandbox)
    c = subprocess.run([str(cordon_bin), "dd", *args], cwd=cdir, capture_output=True,
                       text=True, timeout=TIMEOUT, env=env)
    assert c.returncode == q.returncode, (q.stderr, c.stderr)
    assert normalise(c.stderr, "cordon") == normalise(q.stderr, "qemu-img")
    assert c.stdout == q.stdout
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
