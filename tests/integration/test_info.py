"""
cordon info against qemu-img info: the same status, stderr and stdout,
byte for byte, for human and JSON output, with and without
--backing-chain, over every input shape the convert tests make, images
with internal snapshots, chains of three in mixed formats, multi-extent
VMDKs, and the failures (a missing backing file only with
--backing-chain, a loop, an unknown -f, bad operands).
"""
import os

import pytest

from image_tools import run_both_full, tool
from test_convert import INPUTS, input_files, io

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

OUTPUTS = [[], ["--output=json"], ["--backing-chain"], ["--backing-chain", "--output=json"]]
OUT_IDS = ["human", "json", "chain-human", "chain-json"]


def compare(qemu_img, cordon_bin, sandbox, tmp_path, args, inputs):
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info", args, inputs)
    assert c[0] == q[0], (q, c)
    assert c[1] == q[1]
    assert c[2].decode() == q[2].decode()
    return q


@pytest.mark.parametrize("out", OUTPUTS, ids=OUT_IDS)
@pytest.mark.parametrize("key", sorted(INPUTS))
def test_info_matches_qemu(qemu_img, cordon_bin, sandbox, tmp_path, tmp_path_factory,
                           key, out):
    inputs = input_files(tmp_path_factory, key)
    q = compare(qemu_img, cordon_bin, sandbox, tmp_path, out + ["in.img"], inputs)
    assert q[0] == 0


def make(d, *argvs):
    for argv in argvs:
        p = tool(argv, cwd=d)
        assert p.returncode == 0, p.stderr


@pytest.fixture(scope="module")
def special(tmp_path_factory):
    d = tmp_path_factory.mktemp("info-special")
    make(d,
         ["qemu-img", "create", "-q", "-f", "qcow2", "snap.qcow2", "64M"],
         ["qemu-img", "snapshot", "-c", "first", "snap.qcow2"],
         ["qemu-img", "snapshot", "-c", "a-much-longer-snapshot-name", "snap.qcow2"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", "snap2.qcow2",
          "1G"],
         ["qemu-img", "snapshot", "-c", "v2", "snap2.qcow2"],
         ["qemu-img", "create", "-q", "-f", "vpc", "base.vhd", "32M"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.vhd", "-F", "vpc",
          "mid.qcow2"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2",
          "top.qcow2"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "gone.qcow2", "-F", "qcow2",
          "-u", "orphan.qcow2", "1M"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on,"
          "refcount_bits=1,cluster_size=16k,extended_l2=on", "feat.qcow2", "3M"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-o", "compression_type=zstd",
          "zstd.qcow2", "3M"],
         ["qemu-img", "create", "-q", "-f", "vmdk", "-o",
          "subformat=twoGbMaxExtentFlat", "flat3.vmdk", "5G"],
         ["qemu-img", "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat",
          "mflat.vmdk", "7M"],
         ["qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", "b.vhdx",
          "9M"],
         ["qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", "fixed.vhd",
          "5M"],
         )
    io(d, "snap.qcow2", "qcow2", "write -P 0x11 0 64k")
    make(d, ["qemu-img", "snapshot", "-c", "after-write", "snap.qcow2"])
    make(d, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "loopb.qcow2", "-F", "qcow2",
             "-u", "loopa.qcow2", "1M"],
         ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "loopa.qcow2", "-F", "qcow2",
          "-u", "loopb.qcow2", "1M"])
    # Extents of mixed kinds (qemu then prints no cluster size and no dirty
    # flag) and of one kind twice, in hand-written descriptors.
    make(d, ["qemu-img", "create", "-q", "-f", "vmdk", "-o",
             "subformat=twoGbMaxExtentSparse", "mixed.vmdk", "2M"])
    (d / "mixed-flat.bin").write_bytes(bytes(range(256)) * 4096)
    desc = (d / "mixed.vmdk").read_text()
    sparse = 'RW 4096 SPARSE "mixed-s001.vmdk"\n'
    assert sparse in desc
    (d / "mixed.vmdk").write_text(desc.replace(
        sparse, sparse + 'RW 2048 FLAT "mixed-flat.bin" 0\n'))
    (d / "twice.vmdk").write_text(desc.replace(sparse, sparse * 2))
    make(d, ["qemu-img", "create", "-q", "-f", "qcow2", "bitmaps.qcow2", "16M"],
         ["qemu-img", "bitmap", "--add", "bitmaps.qcow2", "b0"],
         ["qemu-img", "bitmap", "--add", "-g", "1M", "--disable", "bitmaps.qcow2", "b1"])
    # Described, not read (qemu-img info's BDRV_O_NO_IO): marked corrupt,
    # AES-encrypted in v3 and v2.  LUKS is refused (docs/info.md).
    make(d, ["qemu-img", "create", "-q", "-f", "qcow2", "corrupt.qcow2", "1M"])
    img = bytearray((d / "corrupt.qcow2").read_bytes())
    img[79] |= 2  # incompatible features, bit 1
    (d / "corrupt.qcow2").write_bytes(img)
    secret = ["--object", "secret,id=s0,data=abc"]
    make(d, ["qemu-img", "create", "-q", "-f", "qcow2", *secret, "-o",
             "encrypt.format=aes,encrypt.key-secret=s0", "aes.qcow2", "1M"],
         ["qemu-img", "create", "-q", "-f", "qcow2", *secret, "-o",
          "compat=0.10,encrypt.format=aes,encrypt.key-secret=s0", "aes2.qcow2", "1M"])
    # qemu times PBKDF2 by the thread's CPU time, which on a tick-accounted
    # kernel can read 0 ms: "Unable to get accurate CPU usage".  Tried again.
    luks = ["qemu-img", "create", "-q", "-f", "qcow2", *secret, "-o",
            "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10", "luks.qcow2",
            "1M"]
    for _ in range(10):
        p = tool(luks, cwd=d)
        if p.returncode == 0 or b"accurate CPU usage" not in p.stderr:
            break
    assert p.returncode == 0, p.stderr
    os.mkdir(d / "sub")
    make(d, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "../top.qcow2", "-F",
             "qcow2", "sub/deep.qcow2"])
    return {p.name: p for p in d.iterdir() if p.is_file()}, d


SPECIAL = ["snap.qcow2", "snap2.qcow2", "top.qcow2", "mid.qcow2", "orphan.qcow2",
           "feat.qcow2", "zstd.qcow2", "flat3.vmdk", "mflat.vmdk", "b.vhdx", "fixed.vhd",
           "loopa.qcow2", "mixed.vmdk", "twice.vmdk", "bitmaps.qcow2", "corrupt.qcow2",
           "aes.qcow2", "aes2.qcow2"]


@pytest.mark.parametrize("out", OUTPUTS, ids=OUT_IDS)
@pytest.mark.parametrize("name", SPECIAL)
def test_special_images_match_qemu(qemu_img, cordon_bin, sandbox, tmp_path, special, name,
                                   out):
    files, _ = special
    compare(qemu_img, cordon_bin, sandbox, tmp_path, out + [name], files)


@pytest.mark.parametrize("out", OUTPUTS, ids=OUT_IDS)
def test_luks_is_refused(qemu_img, cordon_bin, sandbox, tmp_path, special, out):
    """qemu-img info describes the LUKS header (cipher, key slots), which
    cordon does not decode yet: one line, nothing printed."""
    files, _ = special
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info",
                         out + ["luks.qcow2"], files)
    assert q[0] == 0
    assert c[:3] == (1, "PROG: Could not open 'luks.qcow2': cordon cannot describe LUKS "
                        "encryption headers yet\n", b"")


@pytest.mark.parametrize("name", ["corrupt.qcow2", "aes.qcow2"])
def test_described_images_are_still_not_read(qemu_img, cordon_bin, sandbox, tmp_path,
                                             special, name):
    """What info describes, dd still refuses (docs/qcow2.md)."""
    files, _ = special
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "dd",
                         [f"if={name}", "of=o.raw"], files)
    assert c[0] == 1 and "o.raw" not in os.listdir(c[3])
    assert ("cordon refuses images marked corrupt" if name == "corrupt.qcow2"
            else "Parameter 'encrypt.key-secret' is required for cipher") in c[1]


def link_deep(tmp_path, d):
    for who in ("qemu", "cordon"):
        (tmp_path / who / "sub").mkdir(parents=True)
        os.link(d / "sub" / "deep.qcow2", tmp_path / who / "sub" / "deep.qcow2")


@pytest.mark.parametrize("out", OUTPUTS[:2], ids=OUT_IDS[:2])
def test_backing_in_another_directory(qemu_img, cordon_bin, sandbox, tmp_path, special, out):
    """Named, not opened: "../top.qcow2" (actual path: sub/../top.qcow2)."""
    files, d = special
    link_deep(tmp_path, d)
    compare(qemu_img, cordon_bin, sandbox, tmp_path, out + ["sub/deep.qcow2"], files)


@pytest.mark.parametrize("out", OUTPUTS[2:], ids=OUT_IDS[2:])
def test_chain_outside_the_directory_is_policy(qemu_img, cordon_bin, sandbox, tmp_path,
                                               special, out):
    """--backing-chain opens it: outside the image's directory the host's
    policy refuses it (docs/info.md), in one line, and prints nothing."""
    files, d = special
    link_deep(tmp_path, d)
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info",
                         out + ["sub/deep.qcow2"], files)
    assert q[0] == 0 and c[0] == 1 and c[2] == b""
    assert c[1].startswith("PROG: Could not open 'sub/../top.qcow2': ")
    assert c[1].count("\n") == 1 and "--backing-allow" in c[1]


@pytest.mark.parametrize("args", [
    ["-f", "nosuch", "snap.qcow2"], ["-f", "qcow2", "fixed.vhd"], ["missing.img"],
    [], ["a", "b"], ["--output=xml", "snap.qcow2"], ["-f", "vpc", "snap.qcow2"],
], ids=["unknown-fmt", "wrong-fmt", "missing", "no-file", "two-files", "bad-output",
        "vpc-of-qcow2"])
def test_failures_match_qemu(qemu_img, cordon_bin, sandbox, tmp_path, special, args):
    files, _ = special
    q = compare(qemu_img, cordon_bin, sandbox, tmp_path, args, files)
    assert q[0] != 0


@pytest.mark.parametrize("out", OUTPUTS[:2], ids=OUT_IDS[:2])
def test_vmdk_naming_no_extent_is_refused(qemu_img, cordon_bin, sandbox, tmp_path, out):
    """qemu-img info aborts on it (vmdk_get_info asserts an extent); cordon's
    sandbox once stopped on it (difffuzz): one line, nothing printed."""
    desc = (b'# Disk DescriptorFile\nversion=1\nCID=a956126f\nparentCID=ffffffff\n'
            b'createType="twoGbMaxExtentSparse"\n')
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info", out + ["z.vmdk"],
                         {"z.vmdk": desc})
    assert q[0] < 0  # SIGABRT
    assert c[:3] == (1, "PROG: cordon cannot describe a VMDK whose descriptor names no "
                        "extent (qemu-img aborts on it)\n", b"")
