"""
Opening qcow2 images exactly as qemu-img 7.2 opens them, for what
qcow2_do_open() and qcow2_read_snapshots() check: images made by qemu-img,
then one field changed, read by both tools (dd_compare: exit status,
messages with their hints and warnings, output bytes).

- the snapshot table: its offset and count, extra data per entry, the
  64 MiB limit on the whole table, reads past qemu's
  BDRV_MAX_LENGTH;
- the feature name table behind "Unsupported qcow2 feature(s)": cut-off
  entries, empty names, the last table, a pass that stops early;
- encryption methods qemu does not know, printed as a signed number;
- the backing file name: a stored length that counts a NUL, an empty
  name (no backing file), the 1023-byte limit;
- the bitmaps extension: qemu's checks, and its warning when the
  autoclear bit is gone (v2 and v3 words), also before another error.
"""
import struct
import subprocess

import pytest

from conftest import QEMU_IMG, data

BITMAPS = 0x23852875
FEATURES = 0x6803f857
BDRV_MAX_LENGTH = (2**63 - 1) & ~((1 << 30) - 1)


def qemu_img(*args, cwd):
    subprocess.run([QEMU_IMG] + list(args), cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Images qemu-img made: with snapshots, a bitmap (v3 and v2), a
    backing file, and data; by name."""
    d = tmp_path_factory.mktemp("qcow2-open")
    (d / "base.raw").write_bytes(data(1 << 20))
    qemu_img("create", "-q", "-f", "qcow2", "plain.qcow2", "1M", cwd=d)
    subprocess.run(["qemu-io", "-c", "write -P 0x55 0 64k", "plain.qcow2"], cwd=d,
                   check=True, capture_output=True)
    qemu_img("create", "-q", "-f", "qcow2", "snap.qcow2", "1M", cwd=d)
    qemu_img("snapshot", "-c", "s1", "snap.qcow2", cwd=d)
    qemu_img("snapshot", "-c", "s2", "snap.qcow2", cwd=d)
    qemu_img("create", "-q", "-f", "qcow2", "bm.qcow2", "1M", cwd=d)
    qemu_img("bitmap", "--add", "bm.qcow2", "b0", cwd=d)
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "top.qcow2",
             cwd=d)
    return {p.name: bytearray(p.read_bytes()) for p in d.iterdir()}


def extensions(img):
    """(magic, offset of its header, length) of each header extension."""
    off = struct.unpack_from(">I", img, 100)[0]
    out = []
    while True:
        magic, length = struct.unpack_from(">II", img, off)
        if magic == 0:
            return out
        out.append((magic, off, length))
        off += 8 + ((length + 7) & ~7)


def ext_at(img, magic):
    return next(off for m, off, _ in extensions(img) if m == magic)


def put(img, fmt, off, *values):
    img = bytearray(img)
    struct.pack_into(fmt, img, off, *values)
    return img


def incompat(img, bits):
    return put(img, ">Q", 72, struct.unpack_from(">Q", img, 72)[0] | bits)


def feature_table(img, entries, length=None):
    """Replaces the contents of qemu's feature name table extension."""
    img = bytearray(img)
    off = ext_at(img, FEATURES)
    old = struct.unpack_from(">I", img, off + 4)[0]
    body = b"".join(bytes([t, bit]) + name.ljust(46, b"\0")[:46] for t, bit, name in entries)
    body = body[:length] if length is not None else body
    assert len(body) <= old
    img[off + 8:off + 8 + old] = body + bytes(old - len(body))
    struct.pack_into(">I", img, off + 4, len(body))
    return img


def snapshots(img):
    return struct.unpack_from(">IQ", img, 60)


def mutate(images, case):
    """Each case: (base image, function of its bytes)."""
    base, fn = CASES[case]
    return fn(images[base])


def entry0(img, fmt, field_off, value):
    n, off = snapshots(img)
    return put(img, fmt, off + field_off, value)


CASES = {
    # the snapshot table
    "snapshot-extra-1025": ("snap.qcow2", lambda b: entry0(b, ">I", 36, 1025)),
    "snapshot-extra-1024": ("snap.qcow2", lambda b: entry0(b, ">I", 36, 1024)),
    "snapshot-count-65537": ("snap.qcow2", lambda b: put(b, ">I", 60, 65537)),
    "snapshot-count-65536": ("snap.qcow2", lambda b: put(b, ">I", 60, 65536)),
    "snapshot-offset-unaligned": ("snap.qcow2",
                                  lambda b: put(b, ">Q", 64, snapshots(b)[1] + 8)),
    "snapshot-offset-unaligned-none": ("snap.qcow2",
                                       lambda b: put(put(b, ">I", 60, 0), ">Q", 64,
                                                     snapshots(b)[1] + 8)),
    "snapshot-at-max-length": ("plain.qcow2",
                               lambda b: put(b, ">IQ", 60, 1, BDRV_MAX_LENGTH)),
    "snapshot-below-max-length": ("plain.qcow2",
                                  lambda b: put(b, ">IQ", 60, 1, BDRV_MAX_LENGTH - 65536)),
    "snapshot-names-past-eof": ("snap.qcow2", lambda b: put(entry0(b, ">H", 12, 65535),
                                                          ">H", snapshots(b)[1] + 14,
                                                          65535)),
    # unsupported features and their names
    "features-unknown": ("plain.qcow2", lambda b: incompat(b, (1 << 5) | (1 << 40))),
    "features-named-and-cut": ("plain.qcow2", lambda b: incompat(
        feature_table(b, [(0, 5, b"five"), (0, 69, b"sixty-nine"), (0, 40, b"forty")],
                      length=48 * 2 + 20), (1 << 5) | (1 << 40) | (1 << 6))),
    "features-empty-name-ends": ("plain.qcow2", lambda b: incompat(
        feature_table(b, [(0, 5, b""), (0, 6, b"six")]), 1 << 6)),
    "features-46-byte-name": ("plain.qcow2", lambda b: incompat(
        feature_table(b, [(0, 5, b"x" * 46)]), 1 << 5)),
    "features-compatible-type": ("plain.qcow2", lambda b: incompat(
        feature_table(b, [(1, 5, b"compat")]), 1 << 5)),
    # encryption methods
    "crypt-method-3": ("plain.qcow2", lambda b: put(b, ">I", 32, 3)),
    "crypt-method-2^31": ("plain.qcow2", lambda b: put(b, ">I", 32, 0x80000000)),
    "crypt-method-max": ("plain.qcow2", lambda b: put(b, ">I", 32, 0xffffffff)),
    "crypt-method-aes": ("plain.qcow2", lambda b: put(b, ">I", 32, 1)),
    "crypt-method-luks-no-header": ("plain.qcow2", lambda b: put(b, ">I", 32, 2)),
    # the backing file name
    "backing-length-counts-nul": ("top.qcow2", lambda b: put(b, ">I", 16, 8 + 5)),
    "backing-name-empty": ("top.qcow2",
                           lambda b: put(b, "B", struct.unpack_from(">Q", b, 8)[0], 0)),
    "backing-length-1023": ("top.qcow2", lambda b: put(b, ">I", 16, 1023)),
    "backing-length-1024": ("top.qcow2", lambda b: put(b, ">I", 16, 1024)),
    # the bitmaps extension
    "bitmaps-length": ("bm.qcow2", lambda b: put(b, ">I", ext_at(b, BITMAPS) + 4, 16)),
    "bitmaps-reserved": ("bm.qcow2", lambda b: put(b, ">I", ext_at(b, BITMAPS) + 12, 1)),
    "bitmaps-zero": ("bm.qcow2", lambda b: put(b, ">I", ext_at(b, BITMAPS) + 8, 0)),
    "bitmaps-too-many": ("bm.qcow2", lambda b: put(b, ">I", ext_at(b, BITMAPS) + 8, 65536)),
    "bitmaps-directory-size": ("bm.qcow2", lambda b: put(b, ">Q", ext_at(b, BITMAPS) + 16,
                                                        1024 * 65535 + 1)),
    "bitmaps-directory-offset": ("bm.qcow2", lambda b: put(
        b, ">Q", ext_at(b, BITMAPS) + 24,
        struct.unpack_from(">Q", b, ext_at(b, BITMAPS) + 24)[0] + 8)),
    "bitmaps-without-autoclear": ("bm.qcow2", lambda b: put(b, ">Q", 88, 0)),
    "bitmaps-without-autoclear-v2": ("bm.qcow2",
                                     lambda b: put(put(b, ">Q", 88, 0), ">I", 4, 2)),
    "bitmaps-without-autoclear-then-feature": ("bm.qcow2",
                                               lambda b: incompat(put(b, ">Q", 88, 0),
                                                                  1 << 7)),
}


def test_backing_name_cut_by_end_of_file(dd_compare, images):
    """A header alone, its backing name cut by the end of the file: qemu
    reads zeros past it, so the name is what the file holds ("base")."""
    img = bytearray(images["top.qcow2"][:0x1000])
    img[0xffc:] = b"base"
    struct.pack_into(">QI", img, 8, 0xffc, 8)       # 8 bytes stored, 4 in the file
    struct.pack_into(">QIIQ", img, 24, 0, 0, 0, 0)  # size 0, no L1 table
    dd_compare(["if=in.qcow2", "of=out.raw"], {"in.qcow2": bytes(img), "base": data(70000)})


@pytest.mark.parametrize("case", sorted(CASES))
def test_open_as_qemu_opens(dd_compare, images, case):
    inputs = {"in.qcow2": bytes(mutate(images, case))}
    if case.startswith("backing"):
        inputs["base.raw"] = bytes(images["base.raw"])
    dd_compare(["if=in.qcow2", "of=out.raw", "bs=64k"], inputs)


def test_snapshot_table_over_64_mib(dd_compare, images):
    """520 entries with the longest id and name: past 64 MiB at entry 511,
    the hint counting the 9 left over (a 68 MiB file)."""
    img = bytearray(images["snap.qcow2"])
    _, off = snapshots(img)
    stride = (40 + 65535 + 65535 + 7) & ~7
    n = 520
    img += bytes(off + stride * n + 100 - len(img))
    struct.pack_into(">I", img, 60, n)
    for i in range(n):
        struct.pack_into(">HH", img, off + i * stride + 12, 65535, 65535)
        struct.pack_into(">I", img, off + i * stride + 36, 0)
    dd_compare(["if=in.qcow2", "of=out.raw", "bs=64k"], {"in.qcow2": bytes(img)})
