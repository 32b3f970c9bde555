"""
Persistent bitmaps in qcow2 images (src/core/qcow2/qcow2_bitmap.c):
qemu-img loads them when it opens an image and refuses the image when the
bitmap directory or a bitmap table breaks its rules; `info` lists them.
Each image here is a qemu-img image with bitmaps, whole or with one edit
of the bitmaps extension, a directory entry or a bitmap table, and cordon
must give qemu-img's exit status, messages and output for `info` (human
and JSON) and `dd`.
"""
import struct

import pytest

from image_tools import compare_dd_files, run_both_full, tool

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

BITMAPS_EXT = 0x23852875


def sh(d, *argv):
    p = tool(list(argv), cwd=d)
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """64 MiB, two bitmaps: b0 (auto, written through so that its table
    points at a data cluster) and a disabled one with 512k granularity."""
    d = tmp_path_factory.mktemp("bitmaps")
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "a.qcow2", "64M")
    sh(d, "qemu-img", "bitmap", "--add", "a.qcow2", "b0")
    sh(d, "qemu-img", "bitmap", "--add", "-g", "512k", "--disable", "a.qcow2", "second")
    sh(d, "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 192k", "a.qcow2")
    return bytearray((d / "a.qcow2").read_bytes())


class Layout:
    """Where the bitmaps extension, the directory entries and b0's table sit."""

    def __init__(self, img):
        p = struct.unpack_from(">I", img, 100)[0]
        while True:
            magic, length = struct.unpack_from(">II", img, p)
            assert magic != 0, "no bitmaps extension"
            if magic == BITMAPS_EXT:
                break
            p += 8 + ((length + 7) & ~7)
        self.ext = p + 8
        self.nb, _, self.dir_size, self.dir = struct.unpack_from(">IIQQ", img, self.ext)
        self.entries, e = [], self.dir
        for _ in range(self.nb):
            self.entries.append(e)
            name_size, extra = struct.unpack_from(">HI", img, e + 18)
            e += (24 + name_size + extra + 7) & ~7
        self.table = struct.unpack_from(">Q", img, self.entries[0])[0]


def put(what, delta, fmt, value):
    """An edit: fmt packed with value at layout attribute `what` + delta
    (an entry as "e0", "e1")."""
    def edit(img, lay):
        at = lay.entries[int(what[1:])] if what in ("e0", "e1") else getattr(lay, what)
        struct.pack_into(fmt, img, at + delta, value)
    return edit


def both(*edits):
    def edit(img, lay):
        for e in edits:
            e(img, lay)
    return edit


def rename_second(name):
    def edit(img, lay):
        e1 = lay.entries[1]
        struct.pack_into(">H", img, e1 + 18, len(name))
        img[e1 + 24:e1 + 24 + len(name)] = name
    return edit


# name: an edit of the qemu-img image; each is compared whole against qemu.
EDITS = {
    "plain": lambda img, lay: None,
    "in-use": put("e0", 12, ">I", 3),
    "in-use-disabled": put("e1", 12, ">I", 1),
    "dir-size-zero": put("ext", 8, ">Q", 0),
    "dir-size-short": put("ext", 8, ">Q", 60),
    "dir-size-long": put("ext", 8, ">Q", 72),
    "dir-past-eof": put("ext", 16, ">Q", 0x10000000),
    "dir-past-max-length": put("ext", 16, ">Q", 0x7fffffffc0000000),
    "fewer-entries-than-count": put("ext", 0, ">I", 3),
    "more-entries-than-count": put("ext", 0, ">I", 1),
    "extra-data": put("e1", 20, ">I", 8),
    "extra-data-2g": put("e0", 20, ">I", 0x80000000),
    "extra-data-wraps": put("e0", 20, ">I", 0xfffffff0),
    "name-past-directory": put("e1", 18, ">H", 60000),
    "name-1024": put("e1", 18, ">H", 1024),
    "granularity-8": put("e0", 17, "B", 8),
    "granularity-32": put("e0", 17, "B", 32),
    "type-2": put("e0", 16, "B", 2),
    "reserved-flag": put("e0", 12, ">I", 6),
    "table-unaligned": lambda img, lay: struct.pack_into(">Q", img, lay.entries[0],
                                                         lay.table + 512),
    "table-offset-zero": put("e0", 0, ">Q", 0),
    "table-size-zero": put("e0", 8, ">I", 0),
    "table-too-long": put("e0", 8, ">I", 2),
    "table-too-long-in-use": both(put("e0", 8, ">I", 2), put("e0", 12, ">I", 1)),
    "table-too-short-for-size": both(put("e0", 17, "B", 9), put("e0", 8, ">I", 1)),
    "table-past-eof": put("e0", 0, ">Q", 0x10000000),
    "table-past-max-length": put("e0", 0, ">Q", 0x8000000000000000),
    "table-entry-reserved": put("table", 0, ">Q", 2),
    "table-entry-all-ones": put("table", 0, ">Q", 1),
    "table-entry-all-ones-with-offset": put("table", 0, ">Q", 0x10001),
    "table-entry-unaligned": put("table", 0, ">Q", 0x10200),
    "table-entry-high-reserved": put("table", 0, ">Q", 1 << 60),
    "same-name": rename_second(b"b0"),
    "same-name-in-use": both(rename_second(b"b0"), put("e1", 12, ">I", 1)),
    "name-with-nul": put("e0", 25, "B", 0),
    "name-quotes": rename_second(b'a"\\ \'b'),
    "name-control": rename_second(b"a\x01b\x1b[2J"),
}
# Terminal controls in names are escaped in the human text, a deliberate
# difference (docs/info.md): there cordon's text is qemu's with \xNN.
ESCAPED = {"name-control"}

OUTPUTS = {"human": [], "json": ["--output=json"]}


def edited(base, name):
    img = bytearray(base)
    EDITS[name](img, Layout(img))
    return bytes(img)


@pytest.mark.parametrize("out", sorted(OUTPUTS))
@pytest.mark.parametrize("name", sorted(EDITS))
def test_info_bitmaps_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path, base, name, out):
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info",
                         OUTPUTS[out] + ["m.qcow2"], {"m.qcow2": edited(base, name)})
    assert (c[0], c[1]) == (q[0], q[1])
    if name in ESCAPED and out == "human":
        assert c[2] == q[2].replace(b"\x01", b"\\x01").replace(b"\x1b", b"\\x1b")
    else:
        assert c[2] == q[2]
    if name == "plain":
        assert q[0] == 0 and b"granularity" in q[2]


@pytest.mark.parametrize("name", sorted(EDITS))
def test_dd_bitmaps_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path, base, name):
    compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path,
                     {"m.qcow2": edited(base, name)},
                     ["if=m.qcow2", "of=o.raw", "bs=1M", "count=2", "skip=1"])


def test_many_bitmaps_listed_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path):
    """Forty bitmaps with every granularity qemu-img takes and names up to
    qemu's 1023 bytes: the directory crosses cordon's read window."""
    d = tmp_path / "make"
    d.mkdir()
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", "m.qcow2",
       "3G")
    for i in range(40):
        name = f"bm{i}-" + "x" * (1000 if i % 7 == 3 else i)
        sh(d, "qemu-img", "bitmap", "--add", "-g", str(512 << (i % 20)), "m.qcow2", name)
    img = (d / "m.qcow2").read_bytes()
    for out in OUTPUTS.values():
        q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info",
                             out + ["m.qcow2"], {"m.qcow2": img})
        assert q[0] == 0 and (c[0], c[1], c[2]) == (q[0], q[1], q[2])


def test_bitmap_tables_bound(cordon_bin, sandbox, tmp_path):
    """A directory whose 4097 entries all name one 64 KiB table in the file
    would have cordon check 256 MiB and a little more of tables at open:
    refused in one line (docs/qcow2.md), not read.  qemu-img, which makes
    a 512 MiB bitmap for each, is not run."""
    d = tmp_path
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "big.qcow2", "2T")
    sh(d, "qemu-img", "bitmap", "--add", "-g", "512", "big.qcow2", "b")
    img = bytearray((d / "big.qcow2").read_bytes())
    lay = Layout(img)
    entry = bytes(img[lay.entries[0]:lay.entries[0] + 24])
    table_offset, table_size = struct.unpack_from(">QI", entry)
    assert table_size == 8192  # 64 KiB of table, all of it in the file below
    n = 4097
    names = [b"b%d" % i for i in range(n)]
    directory = b"".join(entry[:18] + struct.pack(">HI", len(s), 0) + s +
                         bytes(-(24 + len(s)) % 8) for s in names)
    dir_offset = (len(img) + 0xffff) & ~0xffff
    img += bytes(dir_offset - len(img)) + directory
    img += bytes(max(0, table_offset + table_size * 8 - len(img)))
    struct.pack_into(">IIQQ", img, lay.ext, n, 0, len(directory), dir_offset)
    (d / "big.qcow2").write_bytes(img)
    p = tool([str(cordon_bin), "info", f"--sandbox={sandbox}", "big.qcow2"], cwd=d)
    assert p.returncode == 1
    assert p.stderr.decode() == (
        "cordon: Could not open 'big.qcow2': cordon checks at most 256 MiB of bitmap "
        "tables at open, and bitmap 'b4096' goes past that\n")
