"""
VMDK through cordon dd against qemu-img dd.

- Reading: images qemu-img makes in every subformat (monolithicSparse,
  monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat,
  streamOptimized; compat6, adapter types, zeroed grains), streamOptimized
  images from an independent writer (vmdk-stream-converter), ESX "COWD"
  extents, children with parents and qcow2 overlays over a vmdk: through
  both tools with raw, qcow2, vpc, vhdx and vmdk outputs and several
  windows, exit status, messages, virtual size and content equal.
- Writing (-O vmdk): qemu's monolithicSparse layout, virtual size and
  content as qemu-img's, passing qemu-img check, read identically by
  Debian's libvmdk; the empty window fails as qemu-img's does.
- Hostile images: qemu's errors in qemu's words; extent files and parents
  outside the policy, FIFOs, directories, loops refused; no output left,
  no hang.
"""
import os
import struct
import subprocess
from pathlib import Path

import pytest

import vmdk_images as V
from image_tools import (compare_dd_files, compare_outputs, flat, qemu_info, rand,
                         run_both, tool)
from second_readers import libvmdk_read

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
GRAIN = 64 * KiB


def raw_with_edges(size, seed):
    """Data in the first, a middle and the last sector, a run over grain
    boundaries, zeros between (whole zero grains)."""
    b = bytearray(size)
    for off in (0, size // 2 - 300, size - 512):
        b[off:off + 512] = rand(512, seed + off)
    b[MiB - 1000:MiB + 70000] = rand(71000, seed + 1)
    return bytes(b)


def image_files(d, main):
    """{name: Path} of what qemu-img made in d: main as in.vmdk, its extent
    files under the names the descriptor gives them."""
    return {("in.vmdk" if p.name == main else p.name): p
            for p in sorted(d.iterdir()) if p.name != "src.raw"}


def qemu_vmdk(qemu_img, d, raw, opts):
    """Converts raw into in.vmdk with -o opts; its files, by name."""
    (d / "src.raw").write_bytes(raw)
    p = tool([qemu_img, "convert", "-f", "raw", "-O", "vmdk", "-o", opts, "src.raw",
              "in.vmdk"], cwd=d)
    assert p.returncode == 0, p.stderr
    return image_files(d, "in.vmdk")


KINDS = [
    "subformat=monolithicSparse",
    "subformat=monolithicFlat",
    "subformat=twoGbMaxExtentSparse",
    "subformat=twoGbMaxExtentFlat",
    "subformat=streamOptimized",
    "subformat=monolithicSparse,compat6=on",
    "subformat=monolithicSparse,adapter_type=lsilogic",
    "subformat=monolithicSparse,zeroed_grain=on",
    "subformat=streamOptimized,adapter_type=buslogic,hwversion=7",
]
SIZES = [("5M+512", 5 * MiB + 512), ("3000k", 3000 * KiB)]
KEYS = [(k, s) for k in KINDS for s, _ in SIZES]
IDS = [f"{k.split('=', 1)[1]}-{s}" for k, s in KEYS]


@pytest.fixture(scope="session")
def qemu_made(qemu_img, tmp_path_factory):
    """{(kind, size name): {name: Path}} of images qemu-img made."""
    out = {}
    for sname, size in SIZES:
        raw = raw_with_edges(size, 21)
        for kind in KINDS:
            out[(kind, sname)] = qemu_vmdk(qemu_img, tmp_path_factory.mktemp("vmdk"), raw,
                                           kind)
    return out


WINDOWS = [[], ["bs=1M"], ["bs=777", "skip=3", "count=5000"], ["bs=64k", "skip=15", "count=3"],
           ["bs=1", "skip=1048570", "count=12"], ["bs=512", "skip=1000000"],
           ["bs=512", "count=0"]]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_read_to_raw_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made,
                                      key, window):
    compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made[key],
               ["-f", "vmdk", "-O", "raw", *window, "if=in.vmdk", "of=out.raw"])


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_probed_like_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made, key):
    """Sparse files and descriptors probe as vmdk, flat extents as raw."""
    files = qemu_made[key]
    for name in files:
        compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, files,
                   [f"if={name}", "of=out.raw"])


@pytest.mark.parametrize("window", [[], ["bs=777", "skip=3", "count=4000"],
                                    ["bs=512", "count=0"]],
                         ids=["whole", "unaligned", "empty"])
@pytest.mark.parametrize("out_fmt", ["qcow2", "vpc", "vhdx", "vmdk"])
@pytest.mark.parametrize("key", KEYS[::2], ids=IDS[::2])
def test_read_to_images_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path,
                                         qemu_made, key, out_fmt, window):
    args = ["-f", "vmdk", "-O", out_fmt, *window, "if=in.vmdk", "of=out.img"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, qemu_made[key])
    compare_outputs(qemu_img, q, c, "out.img", out_fmt)


# ---- other writers, other extents -----------------------------------------------

# (content, qemu-img's exit status): the converter writes an unaligned last
# grain short, which qemu (and so cordon) cannot read past its end.
STREAM_SHAPES = {
    "edges": (raw_with_edges(3 * MiB + 4096, 5), 0),
    "dense": (rand(2 * MiB, 6), 0),
    "tail": (bytes(MiB) + rand(1024, 7), 0),
    "unaligned-tail": (bytes(MiB) + rand(1000, 7), 1),
}


@pytest.mark.parametrize("shape", sorted(STREAM_SHAPES))
def test_stream_converter_images(qemu_img, cordon_bin, sandbox, tmp_path, shape):
    """streamOptimized from vmdk-stream-converter, an independent writer."""
    d = tmp_path / "made"
    d.mkdir()
    content, status = STREAM_SHAPES[shape]
    (d / "src.raw").write_bytes(content)
    p = tool(["/usr/bin/python3", "-c", "import sys, VMDKstream; "
              "VMDKstream.convert_to_stream(sys.argv[1], sys.argv[2])", "src.raw", "in.vmdk"],
             cwd=d)
    assert p.returncode == 0, p.stderr
    for window in ([], ["bs=4096", "skip=7", "count=300"]):
        q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, {"in.vmdk": d / "in.vmdk"},
                       ["-O", "raw", *window, "if=in.vmdk", "of=out.raw"])
        assert q[0] == status


def test_esx_sparse_extents(qemu_img, cordon_bin, sandbox, tmp_path):
    """vmfsSparse: a descriptor naming "COWD" extents (4096-entry tables),
    one with a directory shorter than its disk (qemu reads zeros there)."""
    cowd = V.cowd(1024, {0: rand(8192, 1), 2: rand(100, 2), 63: rand(8192, 3)})
    short = V.cowd(70000, {0: rand(8192, 4)}, l1dir_size=1)
    desc = V.descriptor("vmfsSparse", ['RW 1024 VMFSSPARSE "a.vmdk"',
                                       'RW 70000 VMFSSPARSE "b.vmdk"',
                                       'RW 64 VMFS "c.raw"'])
    inputs = {"in.vmdk": desc, "a.vmdk": cowd, "b.vmdk": short, "c.raw": rand(40000, 5)}
    for window in ([], ["bs=512", "skip=1020", "count=300"]):
        q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                       ["-O", "raw", *window, "if=in.vmdk", "of=out.raw"])
        assert q[0] == 0


def test_descriptor_quirks_read_as_qemu_reads_them(qemu_img, cordon_bin, sandbox, tmp_path):
    """qemu's sscanf reads on past a blank line (the next extent counts
    twice), takes an extent line's first 511 name bytes, and reads flat
    extents past their file's end as zeros."""
    data = rand(100 * 512, 8)
    desc = V.descriptor("monolithicFlat", ["", 'RW 100 FLAT "x.raw" 3',
                                           'RW 50 FLAT "x.raw" 0', 'RW 500 FLAT "y.raw" 0',
                                           'RO 100 FLAT "x.raw" 0', 'RW 0 FLAT "x.raw" 0'])
    inputs = {"in.vmdk": desc, "x.raw": data, "y.raw": data[:3000]}
    q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                   ["if=in.vmdk", "of=out.raw"])
    assert q[0] == 0


# ---- parents --------------------------------------------------------------------

def qemu_io(path, *cmds, fmt="vmdk"):
    argv = ["qemu-io", "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    p = tool(argv + [str(path)])
    assert p.returncode == 0, p.stderr


def chain(qemu_img, d, zeroed_grain):
    """base.vmdk with data; in.vmdk a child over it with writes of its own
    (and zero writes, kept as zeroed grains when zeroed_grain)."""
    p = tool([qemu_img, "create", "-q", "-f", "vmdk", "base.vmdk", "4M"], cwd=d)
    assert p.returncode == 0, p.stderr
    qemu_io(d / "base.vmdk", "write -P 0x11 0 4M")
    opts = ["-o", "zeroed_grain=on"] if zeroed_grain else []
    p = tool([qemu_img, "create", "-q", "-f", "vmdk", *opts, "-b", "base.vmdk", "-F", "vmdk",
              "in.vmdk"], cwd=d)
    assert p.returncode == 0, p.stderr
    qemu_io(d / "in.vmdk", "write -P 0x22 64k 100k", "write -z 1M 256k",
            "write -P 0x33 3M 4k")


@pytest.mark.parametrize("zeroed_grain", [False, True], ids=["plain", "zeroed-grain"])
def test_child_reads_its_parent(qemu_img, cordon_bin, sandbox, tmp_path, zeroed_grain):
    d = tmp_path / "made"
    d.mkdir()
    chain(qemu_img, d, zeroed_grain)
    inputs = {"in.vmdk": d / "in.vmdk", "base.vmdk": d / "base.vmdk"}
    for window in ([], ["bs=4096", "skip=200", "count=100"]):
        q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                       ["-O", "raw", *window, "if=in.vmdk", "of=out.raw"])
        assert q[0] == 0
    # and libvmdk, an independent reader, reads the same chain, except that
    # libvmdk 20200926 ignores the zeroed-grain flag: it reads an entry of 1
    # as a grain at sector 1 (the descriptor)
    seen = libvmdk_read(d / "in.vmdk", parent=d / "base.vmdk")
    want = flat(qemu_img, d / "in.vmdk", "vmdk")
    if zeroed_grain:
        zeroed = slice(MiB, MiB + 256 * KiB)
        assert want[zeroed] == bytes(256 * KiB)
        assert seen[zeroed].startswith(b"# Disk DescriptorFile")
        seen, want = seen[:MiB] + seen[zeroed.stop:], want[:MiB] + want[zeroed.stop:]
    assert seen == want


def test_parent_cid_mismatch_fails_reads_of_the_parent(qemu_img, cordon_bin, sandbox,
                                                       tmp_path):
    """qemu reads the parent only while its CID is the child's parentCID:
    reads that need it fail with EINVAL, others succeed."""
    d = tmp_path / "made"
    d.mkdir()
    chain(qemu_img, d, False)
    base = bytearray((d / "base.vmdk").read_bytes())
    at = base.index(b"CID=") + 4
    base[at:at + 8] = b"0badc0de"
    inputs = {"in.vmdk": d / "in.vmdk", "base.vmdk": bytes(base)}
    q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                   ["if=in.vmdk", "of=out.raw"])
    assert q[0] == 1 and "Invalid argument" in q[1]
    q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                   ["bs=4096", "skip=16", "count=25", "if=in.vmdk", "of=out.raw"])
    assert q[0] == 0


def test_qcow2_overlay_over_vmdk(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made):
    d = tmp_path / "made"
    d.mkdir()
    files = qemu_made[("subformat=twoGbMaxExtentSparse", "5M+512")]
    for name, path in files.items():
        os.link(path, d / name)
    p = tool([qemu_img, "create", "-q", "-f", "qcow2", "-b", "in.vmdk", "-F", "vmdk",
              "top.qcow2"], cwd=d)
    assert p.returncode == 0, p.stderr
    qemu_io(d / "top.qcow2", "write -P 0x44 2M 70k", fmt="qcow2")
    inputs = dict(files, **{"top.qcow2": d / "top.qcow2"})
    for out_fmt in ("raw", "vmdk"):
        q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path / out_fmt,
                        ["-O", out_fmt, "if=top.qcow2", "of=out.img"], inputs)
        compare_outputs(qemu_img, q, c, "out.img", out_fmt)


def test_split_sparse_with_three_extents(qemu_img, cordon_bin, sandbox, tmp_path):
    """4.5 GiB twoGbMaxExtentSparse: three extents, data in the second and
    the third and across the first boundary.  Every file is sparse (a few
    hundred KiB on disk) and the whole-disk copy is to qcow2: it runs in a
    fraction of a second, so it is not kept for `make integration-slow`."""
    d = tmp_path / "made"
    d.mkdir()
    with open(d / "src.raw", "wb") as f:
        f.truncate(4 * GiB + 512 * MiB)
        for off, seed in ((2 * GiB - 3000, 1), (3 * GiB, 2), (4 * GiB + 100 * MiB, 3)):
            f.seek(off)
            f.write(rand(200000, seed))
    p = tool([qemu_img, "convert", "-f", "raw", "-O", "vmdk", "-o",
              "subformat=twoGbMaxExtentSparse", "src.raw", "in.vmdk"], cwd=d)
    assert p.returncode == 0, p.stderr
    files = image_files(d, "in.vmdk")
    assert sorted(files) == ["in-s001.vmdk", "in-s002.vmdk", "in-s003.vmdk", "in.vmdk"]
    for window in (["bs=1M", "skip=2047", "count=2"], ["bs=1M", "skip=3072", "count=1"],
                   ["bs=1M", "skip=4196", "count=1"]):
        q = compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, files,
                       ["-O", "raw", *window, "if=in.vmdk", "of=out.raw"])
        assert q[0] == 0
    # the whole disk, compared by qemu-img itself
    c = tmp_path / "cordon"
    c.mkdir()
    for name, path in files.items():
        os.link(path, c / name)
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-O", "qcow2", "bs=1M",
              "if=in.vmdk", "of=out.qcow2"], cwd=c)
    assert p.returncode == 0, p.stderr
    p = tool([qemu_img, "compare", "-f", "raw", "-F", "qcow2", str(d / "src.raw"),
              str(c / "out.qcow2")])
    assert p.returncode == 0, p.stdout


# ---- -O vmdk ------------------------------------------------------------------

SHAPES = {
    "one-byte": b"\x01",
    "3000": rand(3000, 2),
    "edges-5M": raw_with_edges(5 * MiB + 512, 4),
    "written-zeros": bytes(MiB + 512),
    "zero-grains-between": rand(GRAIN, 5) + bytes(40 * GRAIN) + rand(4096, 6),
    "33M": rand(MiB, 7) + bytes(32 * MiB) + rand(GRAIN + 7, 8),
}
RAW_WINDOWS = [[], ["bs=1M"], ["bs=3000", "skip=5", "count=7"], ["bs=65537", "count=2"]]


@pytest.mark.parametrize("window", RAW_WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_write_vmdk_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, shape, window):
    args = ["-O", "vmdk", *window, "if=in.raw", "of=out.vmdk"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, {"in.raw": SHAPES[shape]})
    out = compare_outputs(qemu_img, q, c, "out.vmdk", "vmdk")
    if out is None:
        assert "Unsupported image type 'monolithicSparse'" in q[1]  # an empty window
        return
    p = tool([qemu_img, "check", "-f", "vmdk", str(out)])
    assert p.returncode == 0, p.stdout + p.stderr
    info = qemu_info(qemu_img, out, "vmdk")
    spec = info["format-specific"]["data"]
    assert spec["create-type"] == "monolithicSparse"
    assert spec["extents"][0]["cluster-size"] == GRAIN
    # libvmdk, an independent reader, sees the same disk in both
    seen = libvmdk_read(out)
    assert seen == libvmdk_read(q[2] / "out.vmdk")
    assert seen == flat(qemu_img, out, "vmdk")


def header_of(path):
    img = Path(path).read_bytes()
    fields = struct.unpack_from("<IIQQQQIQQQ", img, 4)
    return img, dict(zip(["version", "flags", "capacity", "granularity", "desc_offset",
                          "desc_size", "gtes", "rgd", "gd", "grain_offset"], fields))


def test_write_layout_is_qemus(qemu_img, cordon_bin, sandbox, tmp_path):
    """Header and descriptor as qemu-img's but for the random CID; zero
    grains left unallocated in both grain table copies."""
    data = rand(GRAIN, 1) + bytes(3 * GRAIN) + rand(GRAIN, 2) + bytes(600 * GRAIN) + b"x"
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", "vmdk", "bs=64k", "if=in.raw", "of=out.vmdk"], {"in.raw": data})
    compare_outputs(qemu_img, q, c, "out.vmdk", "vmdk")
    qi, qh = header_of(q[2] / "out.vmdk")
    ci, ch = header_of(c[2] / "out.vmdk")
    assert ch == qh
    assert ci[:512] == qi[:512]

    def without_cid(img):
        text = img[512:512 + 20 * 512].rstrip(b"\0")
        at = text.index(b"CID=")
        return text[:at] + text[text.index(b"\n", at):]
    assert without_cid(ci) == without_cid(qi)
    gtes = []
    for table_dir in (ch["rgd"], ch["gd"]):
        gt0, gt1 = struct.unpack_from("<2I", ci, table_dir * 512)
        gtes.append(struct.unpack_from("<1024I", ci, gt0 * 512))
        assert gt1 == gt0 + 4
    assert gtes[0] == gtes[1]
    used = [i for i, e in enumerate(gtes[0]) if e]
    assert used == [0, 4, 605]
    assert len(ci) == (ch["grain_offset"] + 3 * 128) * 512


def test_write_empty_window_fails_as_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path):
    """qemu-img creates a zero-capacity image, cannot open it, and leaves it
    behind; cordon says the same and leaves nothing."""
    for i, (window, data) in enumerate([([], b""), (["bs=512", "skip=10"], rand(4096, 3)),
                                        (["count=0"], rand(4096, 3))]):
        q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path / str(i),
                        ["-O", "vmdk", *window, "if=in.raw", "of=out.vmdk"], {"in.raw": data})
        assert (c[0], c[1]) == (q[0], q[1])
        assert q[0] == 1
        assert "PROG: Could not open 'out.vmdk': Unsupported image type " \
               "'monolithicSparse'\n" in c[1]
        assert not (c[2] / "out.vmdk").exists()


def test_write_empty_window_creates_first(qemu_img, cordon_bin, sandbox, tmp_path):
    """qemu creates the file before it fails to open it: a directory that
    does not exist is that error (difffuzz seed 20261203, iteration 1665)."""
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", "vmdk", "if=in.raw", "of=nodir/out.vmdk"], {"in.raw": b""})
    assert (c[0], c[1]) == (q[0], q[1])
    assert "Could not create 'nodir/out.vmdk': No such file or directory" in c[1]


def test_write_keeps_an_existing_output_on_failure(cordon_bin, sandbox, tmp_path):
    (tmp_path / "in.raw").write_bytes(b"")
    (tmp_path / "out.vmdk").write_bytes(b"keep me")
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-O", "vmdk", "if=in.raw",
              "of=out.vmdk"], cwd=tmp_path)
    assert p.returncode == 1
    assert (tmp_path / "out.vmdk").read_bytes() == b"keep me"


# ---- hostile images -----------------------------------------------------------

D = V.descriptor
DATA = {0: rand(GRAIN, 11), 3: rand(1000, 12)}


def sparse(**kw):
    kw.setdefault("desc", D("monolithicSparse", ['RW 1024 SPARSE "in.vmdk"']))
    return V.sparse(1024, DATA if "grains" not in kw else kw.pop("grains"), **kw)


def compressed(data_len=None, **kw):
    img = bytearray(sparse(compress=True, flags=V.NL_DETECT | V.COMPRESS | V.MARKER, **kw))
    if data_len is not None:
        at = struct.unpack_from("<Q", img, 4 + 60)[0] * 512
        struct.pack_into("<I", img, at + 8, data_len)
    return bytes(img)


HOSTILE = {
    "version-4": sparse(version=4),
    "gtes-513": sparse(gtes=513),
    "granularity-0": sparse(grains={}, header={"granularity": 0}),
    "granularity-huge": sparse(grains={}, header={"granularity": 0x200001}),
    "l1-entry-wraps-to-0": sparse(grains={}, header={"granularity": 1 << 32, "gtes": 1}),
    "grain-offset-past-eof": sparse(header={"grain_offset": 100000}),
    "no-cid": sparse(desc=b'createType="x"\n'),
    "no-parent-cid": sparse(desc=b"CID=5\n"),
    "grain-table-past-eof": sparse(gt_override={1: 999999}),
    "grain-past-eof": sparse(gt_override={2: 1 << 31}),
    "zeroed-grain-flag": sparse(zeroed=[1], flags=V.NL_DETECT | V.ZERO_GRAIN),
    "gte-1-without-flag": sparse(zeroed=[1]),
    "directory-past-what-qemu-reads": sparse(header={"gd": 1 << 60}),
    "directory-at-negative-offset": sparse(header={"gd": 1 << 54}),
    "capacity-past-qemus-length": sparse(header={"capacity": 1 << 54,
                                                 "granularity": 0x200000}),
    "compressed-short-grain": compressed(),
    "compressed-length-huge": compressed(0xffffffff),
    "compressed-length-0": compressed(0),
    "compressed-length-two-grains": compressed(2 * GRAIN),
    "compressed-length-short": compressed(20),
    "compressed-no-marker": sparse(compress=True, flags=V.NL_DETECT | V.COMPRESS),
    "compressed-garbage": sparse(gt_override={0: 21}, compress=True,
                                 flags=V.NL_DETECT | V.COMPRESS | V.MARKER),
    "footer-file-too-small": sparse(grains={}, header={"gd": (1 << 64) - 1})[:1024],
    "footer-invalid": sparse(grains={}, header={"gd": (1 << 64) - 1}),
    "cowd-alone": V.cowd(1024, {0: rand(8192, 3)}),
    "descriptor-no-create-type": b"# Disk DescriptorFile\nversion=1\n",
    "descriptor-monolithic-sparse": D("monolithicSparse", []),
    "descriptor-stream": D("streamOptimized", []),
    "descriptor-no-extents": D("monolithicFlat", []),
    "descriptor-flat-no-offset": D("monolithicFlat", ['RW 100 FLAT "x.raw"']),
    "descriptor-sparse-with-offset": D("twoGbMaxExtentSparse", ['RW 100 SPARSE "x.raw" 5']),
    "descriptor-unknown-type-with-offset": D("monolithicFlat", ['RW 100 FOO "x.raw" 5']),
    "descriptor-missing-extent": D("monolithicFlat", ['RW 100 FLAT "nope.raw" 0']),
    "descriptor-name-over-511": D("monolithicFlat", ['RW 100 FLAT "' + "a" * 600 + '" 0']),
    # qemu's scan is quadratic in a run of blank lines: a million of them
    # take it minutes (test_million_blank_lines), these a fraction of a second
    "descriptor-blank-lines": D("monolithicFlat", ['RW 2 FLAT "in.vmdk" 0']) + b"\n" * 20000,
    "descriptor-no-terminator": D("monolithicFlat", []) + b"#" * (2 * MiB),
    "descriptor-create-type-128": D("a" * 128, []),
    "parent-hint-unterminated": sparse(desc=D("x", []) + b'parentFileNameHint="abc'),
    "parent-missing": sparse(desc=D("monolithicSparse", [], hint="nope.vmdk")),
    "parent-hint-empty": sparse(desc=D("monolithicSparse", [], hint="")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_images(qemu_img, cordon_bin, sandbox, tmp_path, name):
    compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, {"in.vmdk": HOSTILE[name]},
               ["-f", "vmdk", "bs=64k", "if=in.vmdk", "of=out.raw"])


def extents_of(*lines):
    return {"in.vmdk": D("monolithicFlat", list(lines))}


def test_sparse_extent_kinds_in_a_descriptor(qemu_img, cordon_bin, sandbox, tmp_path):
    flat_data = rand(51200, 3)
    cases = [
        dict(extents_of('RW 1024 SPARSE "a.vmdk"', 'RW 100 FLAT "x.raw" 0'),
             **{"a.vmdk": sparse(), "x.raw": flat_data}),
        # a sparse extent holding a descriptor of its own (qemu follows it)
        dict(extents_of('RW 5 SPARSE "a.vmdk"'),
             **{"a.vmdk": V.sparse(0, {}, desc=D("monolithicFlat", ['RW 100 FLAT "x.raw" 0'])),
                "x.raw": flat_data}),
        dict(extents_of('RW 5 SPARSE "x.raw"'), **{"x.raw": flat_data}),
        dict(extents_of('RW 5 SPARSE "x.raw"'), **{"x.raw": b""}),
        # the descriptor naming itself as its flat extent
        extents_of('RW 2 FLAT "in.vmdk" 0'),
    ]
    for inputs in cases:
        compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs,
                   ["bs=64k", "if=in.vmdk", "of=out.raw"])


def cordon_only(cordon_bin, sandbox, tmp_path, inputs, args=("if=in.vmdk", "of=out.raw")):
    d = tmp_path / "cordon"
    d.mkdir(exist_ok=True)
    for name, content in inputs.items():
        if content is None:
            os.mkfifo(d / name)
        elif content == "<dir>":
            (d / name).mkdir()
        else:
            (d / name).write_bytes(content)
    p = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", *args], cwd=d,
                       capture_output=True, timeout=60)
    assert not (d / "out.raw").exists()
    return p.returncode, p.stderr.decode()


# qemu-img would read these (a host file, a FIFO it blocks on, a parent
# loop it never leaves): cordon refuses them through its policy.
REFUSED = {
    "absolute-path": (extents_of('RW 2 FLAT "/etc/passwd" 0'), "extent file '/etc/passwd'"),
    "dot-dot": (extents_of('RW 2 FLAT "../x.raw" 0'), "extent file '../x.raw'"),
    "dot-directory": (dict(extents_of('RW 2 FLAT ".ssh/id" 0'), **{".ssh": "<dir>"}),
                      "extent file '.ssh/id'"),
    "fifo": (dict(extents_of('RW 2 FLAT "x.raw" 0'), **{"x.raw": None}), "extent file 'x.raw'"),
    "directory": (dict(extents_of('RW 2 FLAT "x" 0'), **{"x": "<dir>"}), "extent file 'x'"),
    "parent-absolute": ({"in.vmdk": sparse(desc=D("monolithicSparse", [],
                                                  hint="/etc/passwd"))}, "'/etc/passwd'"),
    "parent-loop": ({"in.vmdk": sparse(desc=D("monolithicSparse", [], cid=1, parent_cid=2,
                                              hint="b.vmdk")),
                     "b.vmdk": sparse(desc=D("monolithicSparse", [], cid=2, parent_cid=1,
                                             hint="in.vmdk"))}, "a loop"),
    "parent-fifo": ({"in.vmdk": sparse(desc=D("monolithicSparse", [], hint="p.vmdk")),
                     "p.vmdk": None}, "'p.vmdk'"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_policy_refuses_extents_and_parents(cordon_bin, sandbox, tmp_path, name):
    inputs, says = REFUSED[name]
    rc, err = cordon_only(cordon_bin, sandbox, tmp_path, inputs)
    assert rc == 1
    assert err.startswith("cordon: Could not open 'in.vmdk': ") and says in err, err
    assert err.count("\n") == 1


def test_million_blank_lines(cordon_bin, sandbox, tmp_path):
    """10^6 blank lines after an extent line, and 10^6 before one (each
    blank line reads the extent after it again, as in qemu, until the
    policy's count of extent files is reached): answered at once."""
    flat = 'RW 2 FLAT "x.raw" 0'
    for i, (text, rc) in enumerate([(D("monolithicFlat", [flat]) + b"\n" * 10 ** 6, 0),
                                    (D("monolithicFlat", [""] * 10 ** 6 + [flat]), 1)]):
        d = tmp_path / str(i)
        d.mkdir()
        (d / "in.vmdk").write_bytes(text)
        (d / "x.raw").write_bytes(b"a" * 1024)
        p = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "if=in.vmdk",
                            "of=out.raw"], cwd=d, capture_output=True, timeout=60)
        assert p.returncode == rc, p.stderr
        if rc == 0:
            assert (d / "out.raw").read_bytes() == b"a" * 1024
        else:
            assert b"more than 4096 extent files" in p.stderr, p.stderr


def test_more_extents_than_the_policy_allows(cordon_bin, sandbox, tmp_path):
    lines = ['RW 1 FLAT "x.raw" 0'] * 4097
    rc, err = cordon_only(cordon_bin, sandbox, tmp_path,
                          dict(extents_of(*lines), **{"x.raw": b"a" * 512}))
    assert rc == 1 and "more than 4096 extent files" in err, err


def test_vmfs_sparse_grain_size_qemu_crashes_on(qemu_img, cordon_bin, sandbox, tmp_path):
    """A COWD granularity of 2^20 makes qemu's 32-bit grain-table span 0:
    qemu-img dies of SIGFPE; cordon reports it."""
    inputs = {"in.vmdk": D("vmfsSparse", ['RW 1024 VMFSSPARSE "c.vmdk"']),
              "c.vmdk": V.cowd(1024, {}, granularity=1 << 20)}
    d = tmp_path / "qemu"
    d.mkdir()
    for name, content in inputs.items():
        (d / name).write_bytes(content)
    p = subprocess.run([qemu_img, "dd", "if=in.vmdk", "of=out.raw"], cwd=d,
                       capture_output=True, timeout=60)
    assert p.returncode < 0 or p.returncode > 128  # the oracle crashes
    rc, err = cordon_only(cordon_bin, sandbox, tmp_path, inputs)
    assert rc == 1 and "qemu-img crashes on" in err, err
