"""
cordon dd -O qcow2 against qemu-img dd -O qcow2: exit status, messages, the
image's properties as `qemu-img info` reports them, `qemu-img check` clean,
and the same content after `qemu-img convert -O raw`.  cordon leaves zero
clusters unallocated (qemu-img dd writes them), so its image may be smaller
but never larger on disk.

qemu-img dd writes every block of the window densely (5 GiB take half a
minute and 5 GiB of disk), so the very large sparse cases compare with
`qemu-img create -f qcow2` for the image's properties and with the raw
input itself (`qemu-img compare`) for content.
"""
import hashlib
import json
import os
import random
import subprocess

import pytest

import qcow2_images as qi

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
TIMEOUT = 600

# Fields of `qemu-img info --output=json` that must be equal.
INFO_FIELDS = ["virtual-size", "cluster-size", "format", "dirty-flag"]
SPECIFIC_FIELDS = ["compat", "refcount-bits", "compression-type",
                   "extended-l2", "lazy-refcounts", "corrupt"]


def rand(n, seed):
    return random.Random(seed).randbytes(n)


def write_shape(path, size, extents):
    """A sparse file of `size` bytes with `extents` [(offset, bytes)]."""
    with open(path, "wb") as f:
        f.truncate(size)
        for off, content in extents:
            f.seek(off)
            f.write(content)


SHAPES = {
    "empty": (0, []),
    "one-byte": (1, [(0, b"\x01")]),
    "cluster-minus-1": (64 * KiB - 1, [(0, rand(64 * KiB - 1, 2))]),
    "dense-unaligned": (3 * MiB + 1234, [(0, rand(3 * MiB + 1234, 3))]),
    "sparse": (8 * MiB, [(0, rand(4096, 4)), (3 * MiB + 5, rand(70000, 5)),
                         (8 * MiB - 100, rand(100, 6))]),
    "written-zeros": (2 * MiB + 512, [(0, bytes(2 * MiB + 512))]),
    "zeros-inside-data": (2 * MiB + 7, [(0, rand(MiB, 7) + bytes(300 * KiB + 3)
                                         + rand(MiB - 300 * KiB + 4, 8))]),
}

WINDOWS = [
    [],
    ["bs=1M"],
    ["bs=777", "skip=3", "count=4000"],
    ["bs=64k", "skip=1", "count=20"],
    ["bs=1", "skip=5", "count=6"],
    ["bs=512", "skip=100000"],
    ["bs=512", "count=0"],
]


def tool(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, **kw)


def info(qemu_img, path):
    p = tool([qemu_img, "info", "--output=json", str(path)])
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    return ({k: j.get(k) for k in INFO_FIELDS},
            {k: j["format-specific"]["data"].get(k) for k in SPECIFIC_FIELDS})


def assert_clean(qemu_img, path):
    p = tool([qemu_img, "check", "--output=json", str(path)])
    j = json.loads(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (j["check-errors"], j.get("leaks", 0), j.get("corruptions", 0)) == (0, 0, 0), j


def raw_digest(qemu_img, path, work):
    out = work / (path.name + ".flat")
    p = tool([qemu_img, "convert", "-f", "qcow2", "-O", "raw", str(path), str(out)])
    assert p.returncode == 0, p.stderr
    h = hashlib.sha256()
    with open(out, "rb") as f:
        while chunk := f.read(4 * MiB):
            h.update(chunk)
    size = os.path.getsize(out)
    out.unlink()
    return size, h.hexdigest()


def allocated(path):
    return os.stat(path).st_blocks * 512


def run_cordon(cordon_bin, sandbox, args, cwd):
    return tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", *args], cwd=cwd)


# qemu-img's result per (shape, window), shared by both sandboxes' runs.
_reference = {}


def qemu_reference(qemu_img, tmp_path_factory, key, inputs, args):
    if key not in _reference:
        d = tmp_path_factory.mktemp("qemu")
        inputs(d)
        p = tool([qemu_img, "dd", *args], cwd=d)
        ref = {"rc": p.returncode, "stderr": p.stderr.replace("qemu-img:", "PROG:"),
               "path": d / "out.qcow2"}
        if p.returncode == 0:
            ref["info"] = info(qemu_img, ref["path"])
            ref["digest"] = raw_digest(qemu_img, ref["path"], d)
            ref["allocated"] = allocated(ref["path"])
        _reference[key] = ref
    return _reference[key]


def compare_with_qemu(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                      key, inputs, args):
    q = qemu_reference(qemu_img, tmp_path_factory, key, inputs, args)
    inputs(tmp_path)
    c = run_cordon(cordon_bin, sandbox, args, tmp_path)
    assert (c.returncode, c.stderr.replace("cordon:", "PROG:")) == (q["rc"], q["stderr"])
    if q["rc"] != 0:
        return
    out = tmp_path / "out.qcow2"
    assert info(qemu_img, out) == q["info"]
    assert_clean(qemu_img, out)
    assert raw_digest(qemu_img, out, tmp_path) == q["digest"]
    assert allocated(out) <= q["allocated"]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                          shape, window):
    size, extents = SHAPES[shape]
    args = ["-O", "qcow2", *window, "if=in.raw", "of=out.qcow2"]
    compare_with_qemu(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                      (shape, tuple(window)),
                      lambda d: write_shape(d / "in.raw", size, extents), args)


@pytest.mark.slow
def test_1g_sparse_data_at_both_ends(qemu_img, cordon_bin, sandbox, tmp_path,
                                     tmp_path_factory):
    extents = [(0, rand(100000, 9)), (GiB - 70000, rand(70000, 10))]
    args = ["-O", "qcow2", "bs=4M", "if=in.raw", "of=out.qcow2"]
    compare_with_qemu(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                      ("1g", None), lambda d: write_shape(d / "in.raw", GiB, extents),
                      args)
    assert allocated(tmp_path / "out.qcow2") < 2 * MiB


def compare_with_input(qemu_img, cordon_bin, sandbox, tmp_path, size, extents):
    """cordon's image of a whole raw input: the properties of the image
    `qemu-img create` makes (as qemu-img dd would), clean, the input's
    content."""
    src = tmp_path / "in.raw"
    write_shape(src, size, extents)
    c = run_cordon(cordon_bin, sandbox, ["-O", "qcow2", "if=in.raw", "of=out.qcow2"],
                   tmp_path)
    assert (c.returncode, c.stderr) == (0, "")
    out = tmp_path / "out.qcow2"
    p = tool([qemu_img, "create", "-q", "-f", "qcow2", str(tmp_path / "ref.qcow2"),
              str((size + 511) // 512 * 512)])
    assert p.returncode == 0, p.stderr
    assert info(qemu_img, out) == info(qemu_img, tmp_path / "ref.qcow2")
    assert_clean(qemu_img, out)
    p = tool([qemu_img, "compare", "-f", "raw", "-F", "qcow2", str(src), str(out)])
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.mark.parametrize("size,extents", [
    (5 * GiB, [(0, b"a" * 4096), (512 * MiB - 3, rand(10, 11)), (5 * GiB - 4096, b"b" * 4096)]),
    (300 * GiB, [(7 * GiB, rand(70000, 12)), (300 * GiB - 100, rand(100, 13))]),
    (300 * GiB + 333, []),
], ids=["5G", "300G", "300G-empty-unaligned"])
def test_large_sparse(qemu_img, cordon_bin, sandbox, tmp_path, size, extents):
    out = compare_with_input(qemu_img, cordon_bin, sandbox, tmp_path, size, extents)
    assert allocated(out) < 2 * MiB


@pytest.mark.slow
def test_many_refcount_blocks(qemu_img, cordon_bin, sandbox, tmp_path):
    """More than 32768 clusters: the refcount blocks span several clusters
    (one 16-bit refcount block covers 2 GiB of file)."""
    step = 64 * KiB
    size = 2 * GiB + 64 * MiB
    extents = [(off + step - 1, b"\x01") for off in range(0, size, step)]
    out = compare_with_input(qemu_img, cordon_bin, sandbox, tmp_path, size, extents)
    p = tool([qemu_img, "check", "--output=json", str(out)])
    assert json.loads(p.stdout)["allocated-clusters"] == size // step


# ---- qcow2 -> qcow2: inputs made by qemu-img and qemu-io ---------------------

QCOW2_INPUTS = {
    "v3-c4k": lambda d: qi.plain(d, 4096),
    "v3-c64k": lambda d: qi.plain(d, 65536),
    "v3-c2M": lambda d: qi.plain(d, 2 * MiB),
    "v2-c64k": lambda d: qi.plain(d, 65536, compat="0.10"),
    "zlib-c64k": lambda d: qi.compressed(d, "zlib"),
    "zstd-c2M": lambda d: qi.compressed(d, "zstd", 2 * MiB),
    "extl2-c16k": lambda d: qi.extended_l2(d, 16384),
    "chain-2": lambda d: qi.chain(d, 2),
    "snapshot": qi.with_snapshot,
}

_qcow2_inputs = {}


def qcow2_input(tmp_path_factory, key):
    if key not in _qcow2_inputs:
        _qcow2_inputs[key] = QCOW2_INPUTS[key](tmp_path_factory.mktemp("in-" + key))
    return _qcow2_inputs[key]


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
@pytest.mark.parametrize("window", [[], ["bs=777", "skip=3", "count=5000"]],
                         ids=["whole", "bs-777"])
@pytest.mark.parametrize("key", sorted(QCOW2_INPUTS))
def test_qcow2_input_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path,
                                      tmp_path_factory, key, window):
    files = qcow2_input(tmp_path_factory, key)

    def lay_down(d):
        for name, content in files.items():
            (d / name).write_bytes(content)

    args = ["-O", "qcow2", *window, "if=in.qcow2", "of=out.qcow2"]
    compare_with_qemu(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                      ("qcow2", key, tuple(window)), lay_down, args)


# ---- errors and limits -------------------------------------------------------

@pytest.mark.parametrize("args,inputs", [
    (["-O", "qcow2", "if=in.raw", "of=nodir/out.qcow2"], {"in.raw": rand(1000, 1)}),
    (["-O", "qcow2", "if=missing.raw", "of=out.qcow2"], {}),
    (["-O", "qcow2", "bs=0", "if=in.raw", "of=out.qcow2"], {"in.raw": rand(1000, 1)}),
], ids=["output-dir-missing", "input-missing", "bad-bs"])
def test_errors_match_qemu_img(dd_compare, args, inputs):
    dd_compare(args, inputs)


def test_small_sandbox_memory(qemu_img, cordon_bin, sandbox, tmp_path):
    """The writer's memory is bounded (a 4 MiB batch and two tables),
    whatever the image size: 16 MiB of sandbox memory is plenty."""
    write_shape(tmp_path / "in.raw", 40 * MiB + 3, [(0, rand(40 * MiB + 3, 14))])
    c = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "--sandbox-memory=16M",
              "-O", "qcow2", "if=in.raw", "of=out.qcow2"], cwd=tmp_path)
    assert (c.returncode, c.stderr) == (0, "")
    assert_clean(qemu_img, tmp_path / "out.qcow2")
    p = tool([qemu_img, "compare", "-f", "raw", "-F", "qcow2", "in.raw", "out.qcow2"],
             cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
