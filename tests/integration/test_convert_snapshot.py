"""
convert -l: an internal snapshot of a qcow2 image read instead of its
active layer (src/core/qcow2/qcow2_snapshot.c), and -l's value parsed as
qemu-img parses it (src/cli/snapshot_opt.c).  Every case against
qemu-img convert: status, messages, stdout, and the output's content.
"""
import struct

import pytest

from image_tools import flat, run_both_full, tool
from test_convert import io

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

MiB = 1 << 20


def sh(d, *argv):
    p = tool(list(argv), cwd=d)
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="module")
def snaps(tmp_path_factory):
    """snap.qcow2: snapshot 1 "first" (4 MiB, 0x11 at 0), snapshot 2 named
    "1" (0x22 over it), then grown to 8 MiB with 0x33 at 0 (the active
    layer); snapshot 3 "extl2" of an extended-L2 image is in extl2.qcow2;
    chain.qcow2 has a snapshot over a backing file."""
    d = tmp_path_factory.mktemp("snapshots")
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "snap.qcow2", "4M")
    io(d, "snap.qcow2", "qcow2", "write -P 0x11 0 1M")
    sh(d, "qemu-img", "snapshot", "-c", "first", "snap.qcow2")
    io(d, "snap.qcow2", "qcow2", "write -P 0x22 512k 1M", "write -z 3M 64k")
    sh(d, "qemu-img", "snapshot", "-c", "1", "snap.qcow2")
    sh(d, "qemu-img", "resize", "-q", "snap.qcow2", "8M")
    io(d, "snap.qcow2", "qcow2", "write -P 0x33 0 64k", "write -P 0x44 6M 64k")
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "-o",
       "extended_l2=on,cluster_size=64k", "extl2.qcow2", "2M")
    io(d, "extl2.qcow2", "qcow2", "write -P 0x55 4k 8k")
    sh(d, "qemu-img", "snapshot", "-c", "extl2", "extl2.qcow2")
    io(d, "extl2.qcow2", "qcow2", "write -P 0x66 0 64k")
    sh(d, "qemu-img", "create", "-q", "-f", "raw", "base.raw", "2M")
    io(d, "base.raw", "raw", "write -P 0x77 0 2M")
    sh(d, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
       "chain.qcow2")
    io(d, "chain.qcow2", "qcow2", "write -P 0x88 64k 64k")
    sh(d, "qemu-img", "snapshot", "-c", "s", "chain.qcow2")
    io(d, "chain.qcow2", "qcow2", "write -P 0x99 0 1M")
    return {p.name: p for p in d.iterdir()}


def compare(qemu_img, cordon_bin, sandbox, tmp_path, args, files, out_fmt="raw"):
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "convert",
                         ["-O", out_fmt, *args, "out.img"], files)
    assert (c[0], c[1], c[2]) == (q[0], q[1], q[2])
    if q[0] == 0:
        assert flat(qemu_img, c[3] / "out.img", out_fmt) == \
            flat(qemu_img, q[3] / "out.img", out_fmt)
    else:
        assert not (c[3] / "out.img").exists()
    return q


LOADS = [
    ["-l", "first", "snap.qcow2"],
    ["-l", "1", "snap.qcow2"],               # id 1, not the snapshot named "1"
    ["-l", "2", "snap.qcow2"],               # id 2
    ["-l", "snapshot.name=1", "snap.qcow2"],  # the one named "1": id 2
    ["-l", "snapshot.id=2,snapshot.name=1", "snap.qcow2"],
    ["-l", "snapshot.id=1,snapshot.id=2", "snap.qcow2"],  # the last wins
    ["-l", "snapshot.id=1,", "snap.qcow2"],
    ["-l", "snapshot.id=1,id=a", "snap.qcow2"],
    ["-l", "snapshot.id=1", "-l", "2", "snap.qcow2"],  # options beat a bare value
    ["-l", "first", "-l", "2", "snap.qcow2"],          # the last bare value
    ["-l", "extl2", "extl2.qcow2"],
    ["-l", "s", "chain.qcow2"],
    ["-l", "snapshot.id=1", "snap.qcow2", "extl2.qcow2"],  # the first input only
]
FAILS = [
    ["-l", "nosuch", "snap.qcow2"],
    ["-l", "", "snap.qcow2"],
    ["-l", "snapshot.id=1,snapshot.name=1", "snap.qcow2"],
    ["-l", "snapshot.id=", "snap.qcow2"],
    ["-l", "snapshot.name", "snap.qcow2"],        # short-form boolean: "on"
    ["-l", "snapshot.id=1,nosnapshot.name", "snap.qcow2"],
    ["-l", "snapshot.id=1,,x", "snap.qcow2"],     # the id "1,x"
    ["-l", "snapshot.foo=1", "snap.qcow2"],
    ["-l", "snapshot.", "snap.qcow2"],
    ["-l", "snapshot.id=1,=3", "snap.qcow2"],
    ["-l", "snapshot.id=1,id=2", "snap.qcow2"],
    ["-l", "snapshot.id=1,id=a", "-l", "snapshot.id=2,id=a", "snap.qcow2"],
    ["-l", "snapshot.id=1,help", "snap.qcow2"],   # help on stdout
    ["-l", "first", "snap.qcow2", "extl2.qcow2"],  # no concatenating
    ["-l", "first", "base.raw"],                  # raw has no snapshots
    ["-l", "first", "missing.qcow2"],
]


@pytest.mark.parametrize("args", LOADS + FAILS, ids=lambda a: " ".join(a))
def test_snapshot_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path, snaps, args):
    q = compare(qemu_img, cordon_bin, sandbox, tmp_path, args, snaps)
    assert (q[0] == 0) == (args in LOADS)


@pytest.mark.parametrize("out_fmt", ["qcow2", "vmdk"])
def test_snapshot_into_images(qemu_img, cordon_bin, sandbox, tmp_path, snaps, out_fmt):
    compare(qemu_img, cordon_bin, sandbox, tmp_path, ["-l", "2", "snap.qcow2"], snaps,
            out_fmt)


def entries(img):
    """(offset, l1_offset, l1_size, id, name) of each snapshot entry."""
    n, = struct.unpack_from(">I", img, 60)
    off, = struct.unpack_from(">Q", img, 64)
    out = []
    for _ in range(n):
        l1_off, l1_size, id_len, name_len = struct.unpack_from(">QIHH", img, off)
        extra, = struct.unpack_from(">I", img, off + 36)
        s = off + 40 + extra
        out.append((off, l1_off, l1_size, img[s:s + id_len], img[s + id_len:s + id_len + name_len]))
        off = (s + id_len + name_len + 7) & ~7
    return out


def edited(path, snap, fmt, value, at=0):
    img = bytearray(path.read_bytes())
    struct.pack_into(fmt, img, entries(img)[snap][0] + at, value)
    return bytes(img)


# Edits of snap.qcow2's snapshot table: (snapshot, field offset, fmt, value).
EDITS = {
    # snapshot 1's L1 table misaligned: by id qemu refuses it and tries
    # "1" as a name, which finds snapshot 2
    "id-invalid-then-name": (0, 0, ">Q", 0x30200, ["-l", "1"]),
    "offset-invalid": (0, 0, ">Q", 0x30200, ["-l", "first"]),
    "offset-past-int64": (0, 0, ">Q", 0x7fffffffffff0000, ["-l", "first"]),
    "offset-past-max-length": (0, 0, ">Q", 0x7fffffff00000000, ["-l", "first"]),
    # too large is not retried by name
    "too-large": (0, 8, ">I", (32 << 20) // 8 + 1, ["-l", "1"]),
    "size-zero": (0, 8, ">I", 0, ["-l", "first"]),          # all unallocated
    "past-eof": (0, 0, ">Q", 0x10000000, ["-l", "first"]),  # reads as zeros
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_snapshot_table_edits_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path, snaps, name):
    snap, at, fmt, value, args = EDITS[name]
    img = edited(snaps["snap.qcow2"], snap, fmt, value, at)
    compare(qemu_img, cordon_bin, sandbox, tmp_path, args + ["snap.qcow2"],
            {"snap.qcow2": img})


def test_snapshot_l2_outside_the_file_is_refused(cordon_bin, sandbox, tmp_path, snaps):
    """cordon's bound (docs/qcow2.md): an L1 entry of the snapshot that
    points past the end of the file, which qemu meets only when it reads
    there, is refused when the snapshot is loaded."""
    img = bytearray(snaps["snap.qcow2"].read_bytes())
    l1 = entries(img)[0][1]
    struct.pack_into(">Q", img, l1, (1 << 63) | (0x100 << 20))
    (tmp_path / "snap.qcow2").write_bytes(img)
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-O", "raw", "-l", "first",
              "snap.qcow2", "out.img"], cwd=tmp_path)
    assert p.returncode == 1 and not (tmp_path / "out.img").exists()
    assert p.stderr.decode() == (
        f"cordon: Failed to load snapshot: qcow2: Image is corrupt: L1 table at {l1:#x}: "
        "entry 0 points past end of file (L2 table at 0x10000000)\n")
