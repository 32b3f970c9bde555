"""
Hostile qcow2 inputs: a qemu-img image with single struct edits.  Each must
end with exit status 1, one line of error naming the problem, no output
file, and no crash or hang, in both sandboxes.  Where qemu-img refuses the
same image at open with the same words, the two are compared directly.
"""
import struct
from pathlib import Path
import subprocess

import pytest

import qcow2_images as qi

L1_OFF = 0x30000  # where qemu-img puts the L1 table of a fresh 64k image
L2_OFF = 0x40000


def base_image(tmp_path):
    """1 MiB, 64k clusters: data at 0, a compressed cluster at 128k."""
    d = tmp_path / "base"
    d.mkdir()
    qi.create(d, "b.qcow2", qi.MiB)
    qi.io(d, "b.qcow2", "write -P 0x11 0 64k", "write -c -P 0x22 128k 64k")
    img = bytearray((d / "b.qcow2").read_bytes())
    assert struct.unpack_from(">Q", img, 40)[0] == L1_OFF
    assert struct.unpack_from(">Q", img, L1_OFF)[0] & ~(1 << 63) == L2_OFF
    return img


def put(fmt, off, value):
    def edit(img):
        struct.pack_into(fmt, img, off, value)
        return img
    return edit


def add(fmt, off, delta):
    def edit(img):
        struct.pack_into(fmt, img, off, struct.unpack_from(fmt, img, off)[0] + delta)
        return img
    return edit


def truncate(n):
    return lambda img: img[:n]


COMPRESSED_ENTRY = L2_OFF + 2 * 8

# name: (edit, expected text, qemu-img says the same at open)
CASES = {
    "truncated-l1": (truncate(L1_OFF + 4),
                     "qcow2: Image is corrupt: L1 table at 0x30000", False),
    "l1-entry-past-eof": (put(">Q", L1_OFF, (1 << 63) | 0x10000000),
                          "entry 0 points past end of file (L2 table at 0x10000000)",
                          False),
    "l2-offset-unaligned": (add(">Q", L1_OFF, 512),
                            "L2 table offset 0x40200 unaligned (L1 index: 0)", False),
    "l1-reserved-bits": (add(">Q", L1_OFF, 1 << 57), "has reserved bits set", False),
    "data-offset-unaligned": (add(">Q", L2_OFF, 512),
                              "qcow2: Image is corrupt: Cluster allocation offset "
                              "0x50200 unaligned (L2 offset: 0x40000, L2 index: 0)",
                              False),
    "data-offset-past-eof-reads-zero": None,  # see test below
    "l2-reserved-bits": (add(">Q", L2_OFF, 2), "entry 0 has reserved bits set", False),
    "l1-size-huge": (put(">I", 36, 1 << 24), "Active L1 table too large", True),
    "l1-offset-unaligned": (put(">Q", 40, L1_OFF + 8), "Active L1 table offset invalid",
                            True),
    "l1-too-small": (put(">Q", 24, 1 << 40), "L1 table is too small", True),
    "virtual-size-huge": (put(">Q", 24, 1 << 62), "Image is too big", True),
    # qemu's L1 count wraps near 2^64: it fails on the size afterwards
    "virtual-size-over-int64": (put(">Q", 24, (1 << 64) - 512),
                                "Could not refresh total sector count: File too large", True),
    "compressed-offset-past-eof": (put(">Q", COMPRESSED_ENTRY, (1 << 62) | (0xff << 54)
                                       | 0x7000000),
                                   "compressed cluster at 0x7000000 lies past end of "
                                   "file", False),
    "compressed-garbage": (put(">Q", COMPRESSED_ENTRY, (1 << 62) | (3 << 54) | 0x10),
                           "error while reading from input image file: "
                           "Input/output error", False),
    "header-length-short": (put(">I", 100, 50), "qcow2 header too short", True),
    "header-length-long": (put(">I", 100, 1 << 20), "qcow2 header exceeds cluster size",
                           True),
    "backing-offset-past-cluster": (put(">Q", 8, 1 << 20), "Invalid backing file offset",
                                    True),
    "backing-name-too-long": (lambda img: put(">I", 16, 100)(put(">Q", 8, 65500)(img)),
                              "Backing file name too long", True),
    "encryption-aes": (put(">I", 32, 1),
                       "Parameter 'encrypt.key-secret' is required for cipher", True),
    "encryption-luks-no-header": (put(">I", 32, 2),
                                  "Missing CRYPTO header for crypt method 2", True),
    "data-file-bit": (put(">Q", 72, 4), "cordon refuses external data files (data_file)",
                      False),
    "corrupt-bit": (put(">Q", 72, 2), "qcow2: Image is corrupt; cordon refuses images "
                    "marked corrupt", False),
    "unknown-incompatible-bit": (put(">Q", 72, 1 << 32),
                                 "Unsupported qcow2 feature(s): Unknown incompatible "
                                 "feature: 100000000", True),
    "refcount-order-7": (put(">I", 96, 7), "Reference count entry width too large; may "
                         "not exceed 64 bits", True),
    "version-4": (put(">I", 4, 4), "Unsupported qcow2 version 4", True),
    "cluster-bits-22": (put(">I", 20, 22), "Unsupported cluster size: 2^22", True),
    "no-refcount-table": (put(">I", 56, 0), "Image does not contain a reference count "
                          "table", True),
    "zstd-without-bit": (put(">B", 104, 1), "qcow2: Compression type incompatible "
                         "feature bit must be set", True),
    "unknown-compression": (lambda img: put(">Q", 72, 8)(put(">B", 104, 7)(img)),
                            "qcow2: unknown compression type: 7", True),
    "v2-zero-cluster": (lambda img: add(">Q", L2_OFF, 1)(put(">I", 4, 2)(img)),
                        "Zero cluster entry found in pre-v3 image", False),
}
CASES = {k: v for k, v in CASES.items() if v is not None}


def check_refused(run, expected):
    assert run.rc == 1, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("PROG: "), run.stderr
    assert expected in lines[0], run.stderr
    assert "out.raw" not in run.files


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
@pytest.mark.parametrize("name", CASES)
def test_hostile_image_is_refused(tmp_path, run_cordon, run_qemu, name):
    edit, expected, qemu_same = CASES[name]
    img = bytes(edit(base_image(tmp_path)))
    cdir = tmp_path / "cordon"
    cdir.mkdir()
    (cdir / "in.qcow2").write_bytes(img)
    run = run_cordon(["if=in.qcow2", "of=out.raw"], cdir)
    check_refused(run, expected)
    if qemu_same:
        qdir = tmp_path / "qemu"
        qdir.mkdir()
        (qdir / "in.qcow2").write_bytes(img)
        q = run_qemu(["if=in.qcow2", "of=out.raw"], qdir)
        assert (q.rc, q.stderr) == (run.rc, run.stderr)


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
def test_data_past_eof_reads_as_zeros(tmp_path, dd_compare):
    """qemu reads a data cluster beyond end of file as zeros; so does cordon."""
    img = base_image(tmp_path)
    struct.pack_into(">Q", img, L2_OFF + 8, (1 << 63) | 0x200000)
    dd_compare(["if=in.qcow2", "of=out.raw"], {"in.qcow2": bytes(img)})


def test_real_luks_image_is_refused_like_qemu(dd_compare):
    """A LUKS qcow2 made by qemu-img (the first 384 KiB of one: qemu refuses
    it before reading further).  Committed, because LUKS key derivation times
    itself against CPU usage and qemu-img create fails on a loaded machine."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "luks-header.qcow2"
    dd_compare(["if=in.qcow2", "of=out.raw"], {"in.qcow2": fixture.read_bytes()})


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
def test_real_external_data_file_is_refused(tmp_path, run_cordon):
    d = tmp_path / "mk"
    d.mkdir()
    qi.sh("qemu-img", "create", "-f", "qcow2", "-o", "data_file=data.raw",
          "in.qcow2", "1M", cwd=d)
    run = run_cordon(["if=in.qcow2", "of=out.raw"], d)
    check_refused(run, "Could not open 'in.qcow2': cordon refuses external data "
                  "files (data_file): the image keeps its data in 'data.raw'")


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
def test_l2_table_pointing_at_itself_terminates(tmp_path, run_cordon):
    """Metadata that points at metadata is read as data, never followed."""
    img = base_image(tmp_path)
    struct.pack_into(">Q", img, L2_OFF, (1 << 63) | L2_OFF)
    struct.pack_into(">Q", img, L2_OFF + 8, (1 << 63) | L1_OFF)
    (tmp_path / "in.qcow2").write_bytes(img)
    run = run_cordon(["if=in.qcow2", "of=out.raw"], tmp_path)
    assert run.rc == 0, run.stderr
    out = run.files["out.raw"]
    assert out[:8] == struct.pack(">Q", (1 << 63) | L2_OFF)
