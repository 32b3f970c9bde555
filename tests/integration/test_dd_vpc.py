"""
VHD (vpc) through cordon dd against qemu-img dd.

- Reading: VHDs qemu-img makes (fixed and dynamic, force_size on and off,
  sizes CHS geometry describes exactly and not, data in the first, middle
  and last sectors) and hand-made footers of other creators, through both
  tools with raw, qcow2 and vpc outputs and several windows: exit status,
  messages, virtual size and flattened content equal.
- Writing (-O vpc): virtual size (qemu's CHS rounding) and content as
  qemu-img's, smaller or equal on disk (zero blocks stay unallocated), and
  read identically by Debian's libvhdi.
- Hostile VHDs: qemu's errors in qemu's words, no output left.
- Differencing VHDs, which qemu-img reads without their parent: cordon reads
  them with it, checked against a model of the specification written here
  and against libvhdi.
"""
import os
import struct

import pytest

import vhd_images as V
from image_tools import allocated, compare_outputs, flat, qemu_info, rand, run_both, tool
from second_readers import libvhdi_read

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

KiB, MiB = 1 << 10, 1 << 20


def raw_with_edges(size, seed):
    """Data in the first, a middle and the last sector; zeros between
    (whole zero blocks for the writer to leave out)."""
    b = bytearray(size)
    for off in (0, size // 2 - 300, size - 512):
        b[off:off + 512] = rand(512, seed + off)
    if size > 3 * MiB:
        b[MiB:MiB + 70000] = rand(70000, seed + 1)
    return bytes(b)


def qemu_vhd(qemu_img, tmp, raw, subformat, force):
    src, dst = tmp / "src.raw", tmp / "img.vhd"
    src.write_bytes(raw)
    opts = f"subformat={subformat},force_size={'on' if force else 'off'}"
    p = tool([qemu_img, "convert", "-f", "raw", "-O", "vpc", "-o", opts, str(src),
              str(dst)])
    assert p.returncode == 0, p.stderr
    return dst.read_bytes()


# (name, raw size): 5 MiB + 512 is not CHS-exact; 34816 * 90 is (90/4/17).
SIZES = [("odd", 5 * MiB + 512), ("exact", 34816 * 90)]
KINDS = [("dynamic", False), ("dynamic", True), ("fixed", False), ("fixed", True)]


@pytest.fixture(scope="session")
def qemu_made(qemu_img, tmp_path_factory):
    """{(kind, force, size name): (image bytes, raw bytes)} made by qemu-img."""
    out = {}
    for sname, size in SIZES:
        raw = raw_with_edges(size, 11)
        for sub, force in KINDS:
            tmp = tmp_path_factory.mktemp("vhd")
            out[(sub, force, sname)] = (qemu_vhd(qemu_img, tmp, raw, sub, force), raw)
    return out


IMAGE_IDS = [f"{s}-{'force' if f else 'chs'}-{n}" for s, f in KINDS for n, _ in SIZES]
IMAGE_KEYS = [(s, f, n) for s, f in KINDS for n, _ in SIZES]

WINDOWS = [
    [],
    ["bs=1M"],
    ["bs=777", "skip=3", "count=4000"],
    ["bs=64k", "skip=40", "count=20"],
    ["bs=1", "skip=5", "count=6"],
    ["bs=512", "skip=100000"],
    ["bs=512", "count=0"],
]
WINDOW_IDS = ["-".join(w) or "whole" for w in WINDOWS]


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOW_IDS)
@pytest.mark.parametrize("key", IMAGE_KEYS, ids=IMAGE_IDS)
def test_read_to_raw_matches_qemu_img(dd_compare, qemu_made, key, window):
    img, _ = qemu_made[key]
    dd_compare(["-f", "vpc", "-O", "raw", *window, "if=in.vhd", "of=out.raw"],
               {"in.vhd": img})


@pytest.mark.parametrize("key", IMAGE_KEYS, ids=IMAGE_IDS)
def test_probed_like_qemu_img(dd_compare, qemu_made, key):
    """Dynamic VHDs probe as vpc (the footer copy at 0); fixed ones as raw."""
    img, _ = qemu_made[key]
    dd_compare(["if=in.vhd", "of=out.raw"], {"in.vhd": img})


@pytest.mark.parametrize("window", [[], ["bs=777", "skip=3", "count=4000"],
                                    ["bs=512", "count=0"]],
                         ids=["whole", "unaligned", "empty"])
@pytest.mark.parametrize("out_fmt", ["qcow2", "vpc"])
@pytest.mark.parametrize("key", IMAGE_KEYS, ids=IMAGE_IDS)
def test_read_to_images_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path,
                                         qemu_made, key, out_fmt, window):
    img, _ = qemu_made[key]
    args = ["-f", "vpc", "-O", out_fmt, *window, "if=in.vhd", "of=out.img"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, {"in.vhd": img})
    compare_outputs(qemu_img, q, c, "out.img", out_fmt)


# ---- -O vpc from raw ---------------------------------------------------------

SHAPES = {
    "empty": b"",
    "one-byte": b"\x01",
    "34816": rand(34816, 2),
    "34817": rand(34817, 3),
    "edges-5M": raw_with_edges(5 * MiB + 512, 4),
    "written-zeros": bytes(2 * MiB + 512),
    "zero-block-between": rand(MiB, 5) + bytes(3 * MiB) + rand(4096, 6),
}
RAW_WINDOWS = [[], ["bs=1M"], ["bs=3000", "skip=5", "count=7"], ["bs=512", "skip=100000"],
               ["bs=34817", "count=1"]]


@pytest.mark.parametrize("window", RAW_WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_write_vpc_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, shape,
                                    window):
    args = ["-O", "vpc", *window, "if=in.raw", "of=out.vhd"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args,
                    {"in.raw": SHAPES[shape]})
    out = compare_outputs(qemu_img, q, c, "out.vhd", "vpc")
    if out is not None:
        # libvhdi, an independent reader, sees the same disk in both
        seen = libvhdi_read(out)
        assert seen == libvhdi_read(q[2] / "out.vhd")
        assert seen is None or seen == flat(qemu_img, out, "vpc")
        assert seen is not None or qemu_info(qemu_img, out, "vpc")["virtual-size"] == 0
        info = qemu_info(qemu_img, out, "vpc")
        assert info["format"] == "vpc"


def test_write_leaves_zero_blocks_out(qemu_img, cordon_bin, sandbox, tmp_path):
    data = rand(MiB, 7) + bytes(6 * MiB) + rand(MiB, 8)
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", "vpc", "bs=1M", "if=in.raw", "of=out.vhd"], {"in.raw": data})
    compare_outputs(qemu_img, q, c, "out.vhd", "vpc")
    img = (c[2] / "out.vhd").read_bytes()
    n = struct.unpack(">I", img[512 + 28:512 + 32])[0]
    bat = struct.unpack(f">{n}I", img[1536:1536 + 4 * n])
    assert [e != 0xFFFFFFFF for e in bat] == [True, False, False, True, False]
    assert len(img) < len((q[2] / "out.vhd").read_bytes())


def test_write_too_large(qemu_img, cordon_bin, sandbox, tmp_path):
    """Over 2040 GiB: qemu's message, no output."""
    args = ["-O", "vpc", "if=in.raw", "of=out.vhd"]
    for who in ("qemu", "cordon"):
        d = tmp_path / who
        d.mkdir()
        with open(d / "in.raw", "wb") as f:
            f.truncate(2041 << 30)
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, {})
    assert (c[0], c[1]) == (q[0], q[1])
    assert "Disk size is too large, max size is 2040 GiB" in c[1]
    assert not (c[2] / "out.vhd").exists()


# ---- footers qemu-img does not write ----------------------------------------

CREATORS = [b"win ", b"vpc ", b"vbox", b"qem2", b"d2v ", b"CTXS", b"tap\0", b"qemu",
            b"zzzz"]


@pytest.mark.parametrize("creator", CREATORS, ids=lambda c: c.decode().strip("\0 ") or "x")
@pytest.mark.parametrize("kind", ["fixed", "dynamic"])
def test_creator_applications(dd_compare, creator, kind):
    """current_size 3 MiB + 4 KiB, geometry 90/4/17 (3 MiB - 3 KiB): the
    creator decides which one is the virtual size."""
    size = 3 * MiB + 4 * KiB
    data = rand(size, 9)
    geometry = (90, 4, 17)
    if kind == "fixed":
        img = V.fixed(data, creator_app=creator, geometry=geometry)
    else:
        blocks = {i: data[i * 2 * MiB:(i + 1) * 2 * MiB] for i in range(2)}
        img = V.dynamic(size, blocks, creator_app=creator, geometry=geometry)
    dd_compare(["-f", "vpc", "-O", "raw", "if=in.vhd", "of=out.raw"], {"in.vhd": img})


def test_maximum_geometry_uses_the_size_field(dd_compare):
    img = V.dynamic(4 * MiB, {0: rand(100, 10)}, geometry=(65535, 16, 255))
    dd_compare(["-f", "vpc", "-O", "raw", "if=in.vhd", "of=out.raw"], {"in.vhd": img})


# ---- hostile ---------------------------------------------------------------

def patched(img, off, fmt, value):
    b = bytearray(img)
    struct.pack_into(fmt, b, off, value)
    return bytes(b)


BASE = V.dynamic(4 * MiB, {0: rand(1000, 12), 1: rand(5, 13)})
HOSTILE = {
    "bad-cookie-both": b"x" * 4096,
    "bad-checksum": BASE[:64] + b"\0\0\0\0" + BASE[68:],
    "fixed-bad-checksum": rand(MiB, 14) + V.footer(MiB, V.FIXED, bad_sum=True),
    "dynamic-footer-at-end-only": rand(MiB, 15) + V.footer(MiB, V.DYNAMIC),
    "too-small": b"abc",
    "empty": b"",
    "header-magic": patched(BASE, 512, ">Q", 0),
    "header-past-eof": V.footer(4 * MiB, V.DYNAMIC, data_offset=1 << 40) + bytes(2048),
    "header-offset-negative": V.footer(4 * MiB, V.DYNAMIC, data_offset=1 << 63) + bytes(2048),
    "max-entries-2^31": patched(BASE, 512 + 28, ">I", 1 << 31),
    "max-entries-huge": patched(BASE, 512 + 28, ">I", 600000000),
    "max-entries-small": patched(BASE, 512 + 28, ">I", 1),
    "block-size-0": patched(BASE, 512 + 32, ">I", 0),
    "block-size-3M": patched(BASE, 512 + 32, ">I", 3 * MiB),
    "block-size-2G": patched(BASE, 512 + 32, ">I", 1 << 31),
    "bat-past-eof": patched(BASE, 512 + 16, ">Q", 1 << 30),
    "bat-offset-negative": patched(BASE, 512 + 16, ">Q", 1 << 63),
    "bat-entry-past-eof": patched(BASE, 1536, ">I", 0x7FFFFF),
    "truncated": BASE[:len(BASE) - 4096],
    "over-2040G": V.dynamic(4 * MiB, {}, geometry=(65535, 16, 255),
                            current_size=3 << 40),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_images(dd_compare, name):
    q, _ = dd_compare(["-f", "vpc", "-O", "raw", "if=in.vhd", "of=out.raw"],
                      {"in.vhd": HOSTILE[name]})
    assert q.rc == 1 and "out.raw" not in q.files


# ---- differencing --------------------------------------------------------------

BS = 2 * MiB


def model(child_blocks, bitmaps, parent_raw, size):
    """The disk a differencing image describes, from the specification: a
    sector whose bit is set comes from the child, any other from the
    parent (zeros past the parent's end)."""
    out = bytearray(parent_raw[:size].ljust(size, b"\0"))
    for idx, data in child_blocks.items():
        data = data.ljust(BS, b"\0")
        bm = bitmaps.get(idx)
        for s in range(BS // 512):
            if bm is None or bm[s // 8] & (0x80 >> (s % 8)):
                off = idx * BS + s * 512
                if off < size:
                    out[off:off + 512] = data[s * 512:(s + 1) * 512][:size - off]
    return bytes(out)


def parent_vhd(qemu_img, tmp_path, size, seed):
    d = tmp_path / "make"
    d.mkdir(exist_ok=True)
    raw = rand(size, seed)
    return qemu_vhd(qemu_img, d, raw, "dynamic", True), raw


def cordon_dd(cordon_bin, sandbox, cwd, *args):
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", *args], cwd=cwd)
    return p.returncode, p.stderr.decode()


def flatten_child(cordon_bin, sandbox, cwd, files):
    """Writes files into cwd, flattens child.vhd with cordon: its disk."""
    for name, content in files.items():
        (cwd / name).write_bytes(content)
    rc, err = cordon_dd(cordon_bin, sandbox, cwd, "-f", "vpc", "-O", "raw",
                        "if=child.vhd", "of=out.raw")
    assert (rc, err) == (0, "")
    return (cwd / "out.raw").read_bytes()


def test_differencing_reads_its_parent(qemu_img, cordon_bin, sandbox, tmp_path):
    size = 6 * MiB
    parent, praw = parent_vhd(qemu_img, tmp_path, size, 20)
    blocks = {0: rand(BS, 21), 2: rand(MiB, 22)}
    # sector-granular runs, odd lengths, a run to the block's end
    bitmaps = {0: V.sector_bitmap(BS, list(range(0, 4096, 3)) + [4095]),
               2: V.sector_bitmap(BS, range(100, 2001))}
    child = V.differencing(size, parent, "parent.vhd", blocks, bitmaps)
    got = flatten_child(cordon_bin, sandbox, tmp_path,
                        {"parent.vhd": parent, "child.vhd": child})
    assert got == model(blocks, bitmaps, praw, size)


def test_differencing_matches_libvhdi(qemu_img, cordon_bin, sandbox, tmp_path):
    """libvhdi 20210425 counts a partly present bitmap byte as all present
    and ignores block 0's bitmap, so the runs here are whole bytes (8
    sectors) and block 0 is whole (docs/vpc.md)."""
    size = 8 * MiB
    parent, praw = parent_vhd(qemu_img, tmp_path, size, 30)
    blocks = {0: rand(BS, 31), 1: rand(BS, 32), 3: rand(BS - 4096, 33)}
    bitmaps = {1: V.sector_bitmap(BS, list(range(8, 1000)) + list(range(2048, 4096))),
               3: V.sector_bitmap(BS, range(0, 16))}
    child = V.differencing(size, parent, "parent.vhd", blocks, bitmaps)
    got = flatten_child(cordon_bin, sandbox, tmp_path,
                        {"parent.vhd": parent, "child.vhd": child})
    want = libvhdi_read(tmp_path / "child.vhd", parent=tmp_path / "parent.vhd")
    assert got == want[:len(got)]
    assert got == model(blocks, bitmaps, praw, len(got))


def test_differencing_chain_of_two(qemu_img, cordon_bin, sandbox, tmp_path):
    size = 4 * MiB
    base, braw = parent_vhd(qemu_img, tmp_path, size, 40)
    mid_blocks, mid_bm = {1: rand(BS, 41)}, {1: V.sector_bitmap(BS, range(0, 2048))}
    mid = V.differencing(size, base, "base.vhd", mid_blocks, mid_bm)
    top_blocks, top_bm = {1: rand(BS, 42)}, {1: V.sector_bitmap(BS, range(1024, 3072))}
    top = V.differencing(size, mid, "mid.vhd", top_blocks, top_bm)
    for n, b in (("base.vhd", base), ("mid.vhd", mid), ("top.vhd", top)):
        (tmp_path / n).write_bytes(b)
    rc, err = cordon_dd(cordon_bin, sandbox, tmp_path, "-f", "vpc", "-O", "raw",
                        "if=top.vhd", "of=out.raw")
    assert (rc, err) == (0, "")
    mid_disk = model(mid_blocks, mid_bm, braw, size)
    assert (tmp_path / "out.raw").read_bytes() == model(top_blocks, top_bm, mid_disk, size)


@pytest.mark.parametrize("locators", [("W2ku", "W2ru"), ("MacX",), ("W2ku",), ()],
                         ids=["relative-preferred", "file-url", "absolute", "header-name"])
def test_parent_locators(qemu_img, cordon_bin, sandbox, tmp_path, locators):
    size = 2 * MiB
    parent, praw = parent_vhd(qemu_img, tmp_path, size, 50)
    child = V.differencing(size, parent, "parent.vhd", {}, {}, locators=locators,
                           parent_abs=str(tmp_path / "parent.vhd"))
    got = flatten_child(cordon_bin, sandbox, tmp_path,
                        {"parent.vhd": parent, "child.vhd": child})
    assert got == praw[:size]


OUTSIDE = ("it is outside the directories images may name (the image's own "
           "directory and --backing-allow)")
HOSTILE_PARENTS = {
    # locator name -> the end of the one-line message
    "outside-policy": ("../outside/parent.vhd", "cordon refuses '../outside/parent.vhd': "
                       + OUTSIDE),
    "etc-passwd": ("/etc/passwd", "cordon refuses '/etc/passwd': " + OUTSIDE),
    "dot-directory": (".hidden/parent.vhd", "cordon refuses '.hidden/parent.vhd': it is "
                      "hidden (a name component starts with '.')"),
    "fifo": ("fifo.vhd", "cordon refuses 'fifo.vhd': it is not a regular file"),
    "missing": ("nothere.vhd", "Could not open 'nothere.vhd': No such file or directory"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PARENTS))
def test_hostile_parent_locators(qemu_img, cordon_bin, sandbox, tmp_path, case):
    name, tail = HOSTILE_PARENTS[case]
    size = 2 * MiB
    parent, _ = parent_vhd(qemu_img, tmp_path, size, 60)
    work = tmp_path / "work"
    (work / ".hidden").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    for where in ("outside/parent.vhd", "work/.hidden/parent.vhd"):
        (tmp_path / where).write_bytes(parent)
    os.mkfifo(work / "fifo.vhd")
    child = V.differencing(size, parent, name, {}, {})
    (work / "child.vhd").write_bytes(child)
    rc, err = cordon_dd(cordon_bin, sandbox, work, "-f", "vpc", "-O", "raw",
                        "if=child.vhd", "of=out.raw")
    assert rc == 1
    assert err == ("cordon: Could not open 'child.vhd': Could not open backing file: "
                   + tail + "\n")
    assert not (work / "out.raw").exists()


def test_parent_with_another_id_is_refused(qemu_img, cordon_bin, sandbox, tmp_path):
    size = 2 * MiB
    parent, _ = parent_vhd(qemu_img, tmp_path, size, 70)
    other, _ = parent_vhd(qemu_img, tmp_path, size, 71)
    (tmp_path / "parent.vhd").write_bytes(other)
    child = V.differencing(size, parent, "parent.vhd", {}, {})
    (tmp_path / "child.vhd").write_bytes(child)
    rc, err = cordon_dd(cordon_bin, sandbox, tmp_path, "-f", "vpc", "-O", "raw",
                        "if=child.vhd", "of=out.raw")
    assert rc == 1
    assert "is not the parent of this differencing image" in err, err
    assert not (tmp_path / "out.raw").exists()


def test_bad_locator_is_refused(cordon_bin, sandbox, tmp_path):
    child = V.dynamic(2 * MiB, {}, disk_type=V.DIFFERENCING,
                      locator_data=[(b"W2ru", b"\x00\xdc")])  # a lone surrogate
    (tmp_path / "child.vhd").write_bytes(child)
    rc, err = cordon_dd(cordon_bin, sandbox, tmp_path, "-f", "vpc", "-O", "raw",
                        "if=child.vhd", "of=out.raw")
    assert (rc, err) == (1, "cordon: Could not open 'child.vhd': Differencing image "
                            "has no valid parent locator\n")
