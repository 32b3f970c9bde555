"""
VHDX through cordon dd against qemu-img dd.

- Images qemu-img makes (block sizes 1, 8, 32 and 256 MiB, fixed, log
  sizes, block_state_zero off, sizes not a multiple of the block size,
  `write -z` ranges): exit status, messages and content equal, with raw,
  qcow2 and vpc outputs and several windows.
- Hostile images: qemu's messages (its error_report lines too), no output.
- Active logs, which qemu-img refuses to read read-only: cordon replays them
  in memory; the oracle is `qemu-img check -r all` on a copy, then
  qemu-img dd of the repaired copy.  The input itself is never written.
"""
import json
import struct

import pytest

import vhdx_images as X
from image_tools import allocated, compare_dd_files, flat, qemu_info, rand, run, run_both, tool
from second_readers import libvhdi_read

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

KiB, MiB = 1 << 10, 1 << 20


WRITES = ["write -P 0x11 0 4k", "write -P 0x22 1500k 700k", "write -z 1600k 100k",
          "write -P 0x33 2900k 100k"]


def qemu_vhdx(qemu_img, tmp, opts, size, writes=WRITES):
    path = tmp / "img.vhdx"
    p = tool([qemu_img, "create", "-q", "-f", "vhdx", "-o", opts, str(path), str(size)])
    assert p.returncode == 0, p.stderr
    argv = ["qemu-io", "-f", "vhdx"]
    for w in writes:
        argv += ["-c", w]
    p = tool(argv + [str(path)])
    assert p.returncode == 0, p.stderr
    return path.read_bytes()


# 256 MiB blocks are dense on disk once written: one case of its own below.
KINDS = ["block_size=1M", "block_size=8M", "block_size=32M", "subformat=fixed",
         "subformat=fixed,block_size=1M", "block_state_zero=off", "log_size=4M",
         "block_size=1M,log_size=8M"]
# 12M crosses an 8 MiB block; none is a multiple of every block size.
SIZES = [("3000k", 3000 * KiB), ("5M", 5 * MiB), ("12M", 12 * MiB)]
KEYS = [(k, s) for k in KINDS for s, _ in SIZES]
IDS = [f"{k}-{s}" for k, s in KEYS]


@pytest.fixture(scope="session")
def qemu_made(qemu_img, tmp_path_factory):
    """{(kind, size name): path} of images qemu-img made, on disk once."""
    out = {}
    for kind in KINDS:
        for sname, size in SIZES:
            d = tmp_path_factory.mktemp("vhdx")
            qemu_vhdx(qemu_img, d, kind, size)
            out[(kind, sname)] = d / "img.vhdx"
    return out


def compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, image, args):
    return compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, {"in.vhdx": image}, args)


WINDOWS = [[], ["bs=1M"], ["bs=777", "skip=3", "count=5000"], ["bs=64k", "skip=20", "count=30"],
           ["bs=512", "skip=1000000"], ["bs=512", "count=0"]]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_read_to_raw_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made,
                                      key, window):
    compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made[key],
               ["-f", "vhdx", "-O", "raw", *window, "if=in.vhdx", "of=out.raw"])


@pytest.mark.parametrize("key", KEYS[:3], ids=IDS[:3])
def test_probed_like_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made, key):
    compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made[key],
               ["if=in.vhdx", "of=out.raw"])


def test_256m_blocks(qemu_img, cordon_bin, sandbox, tmp_path):
    d = tmp_path / "make"
    d.mkdir()
    qemu_vhdx(qemu_img, d, "block_size=256M", 300 * MiB,
              WRITES + ["write -P 0x44 260M 1M"])
    for window in ([], ["bs=1M", "skip=255", "count=262"]):
        compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, d / "img.vhdx",
                   ["-f", "vhdx", "-O", "raw", *window, "if=in.vhdx", "of=out.raw"])


@pytest.mark.parametrize("out_fmt", ["qcow2", "vpc", "vhdx"])
@pytest.mark.parametrize("key", KEYS[::4], ids=IDS[::4])
def test_read_to_images_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, qemu_made,
                                         key, out_fmt):
    args = ["-f", "vhdx", "-O", out_fmt, "bs=64k", "if=in.vhdx", "of=out.img"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, {"in.vhdx": qemu_made[key]})
    assert c[:2] == q[:2]
    qo, co = q[2] / "out.img", c[2] / "out.img"
    assert qemu_info(qemu_img, co, out_fmt)["virtual-size"] == \
        qemu_info(qemu_img, qo, out_fmt)["virtual-size"]
    assert flat(qemu_img, co, out_fmt) == flat(qemu_img, qo, out_fmt)


# ---- -O vhdx -----------------------------------------------------------------

SHAPES = {
    "empty": b"",
    "one-byte": b"\x01",
    "edges-20M": rand(4096, 1) + bytes(10 * MiB) + rand(70000, 2) + bytes(10 * MiB - 4096)
    + rand(777, 3),
    "written-zeros": bytes(9 * MiB),
    "dense-9M": rand(9 * MiB + 5, 4),
}
RAW_WINDOWS = [[], ["bs=1M"], ["bs=3000", "skip=5", "count=7"], ["bs=512", "skip=100000"],
               ["bs=1M", "skip=8", "count=17"]]


@pytest.mark.parametrize("window", RAW_WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_write_vhdx_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, shape, window):
    args = ["-O", "vhdx", *window, "if=in.raw", "of=out.vhdx"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, {"in.raw": SHAPES[shape]})
    assert c[:2] == q[:2]
    qo, co = q[2] / "out.vhdx", c[2] / "out.vhdx"
    qi, ci = qemu_info(qemu_img, qo, "vhdx"), qemu_info(qemu_img, co, "vhdx")
    assert (ci["virtual-size"], ci["cluster-size"]) == (qi["virtual-size"], qi["cluster-size"])
    data = flat(qemu_img, co, "vhdx")
    assert data == flat(qemu_img, qo, "vhdx")
    p = tool([qemu_img, "check", "-f", "vhdx", str(co)])
    assert p.returncode == 0 and b"No errors were found" in p.stdout, p.stdout + p.stderr
    assert allocated(co) <= allocated(qo)
    seen = libvhdi_read(co)
    assert seen == libvhdi_read(qo)
    assert seen is None and not data or seen == data


def test_write_too_large(qemu_img, cordon_bin, sandbox, tmp_path):
    """Over 64 TiB (a qcow2 input: no file system here holds such a raw
    file): qemu's message, no output."""
    src = tmp_path / "in.qcow2"
    p = tool([qemu_img, "create", "-q", "-f", "qcow2", str(src), str((64 << 40) + 512)])
    assert p.returncode == 0, p.stderr
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", "vhdx", "if=in.qcow2", "of=out.vhdx"], {"in.qcow2": src})
    assert c[:2] == q[:2]
    assert "Image size too large; max of 64TB" in c[1]
    assert not (tmp_path / "cordon" / "out.vhdx").exists()


# ---- 4 KiB logical sectors (deliberate difference) -------------------------------

def test_4k_logical_sectors(qemu_img, cordon_bin, sandbox, tmp_path):
    """qemu-img cannot make one, nor read one (`Operation not supported`):
    a qemu-made image with its logical sector size set to 4096 (with fewer
    blocks than a chunk, the BAT reads the same) must give the disk qemu-img
    reads from the unpatched image, and the one libvhdi reads."""
    d = tmp_path / "make"
    d.mkdir()
    img = bytearray(qemu_vhdx(qemu_img, d, "block_size=1M", 6 * MiB))
    meta = X.regions(img)["metadata"][0]
    item = None
    for i in range(5):
        e = meta + 32 + 32 * i
        if img[e:e + 16] == bytes.fromhex("1dbf41816fa90947ba47f233a8faab5f"):
            item = meta + struct.unpack_from("<I", img, e + 16)[0]
    struct.pack_into("<I", img, item, 4096)
    (d / "k4.vhdx").write_bytes(bytes(img))
    q = run([qemu_img, "dd", "-f", "vhdx", "if=img.vhdx", "of=q.raw"], d)
    assert q == (0, "")
    refused = run([qemu_img, "dd", "-f", "vhdx", "if=k4.vhdx", "of=x.raw"], d)
    assert refused == (1, "PROG: Could not open 'k4.vhdx': Could not open 'k4.vhdx': "
                          "Operation not supported\n")
    c = run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "vhdx", "if=k4.vhdx",
             "of=c.raw"], d)
    assert c == (0, "")
    data = (d / "c.raw").read_bytes()
    assert data == (d / "q.raw").read_bytes()
    assert libvhdi_read(d / "k4.vhdx") == data


# ---- hostile ------------------------------------------------------------------

@pytest.fixture(scope="session")
def base(qemu_img, tmp_path_factory):
    """10 MiB, 8 MiB blocks: header section, log at 1 MiB, BAT at 2 MiB,
    metadata at 3 MiB, block 0 at 4 MiB."""
    return qemu_vhdx(qemu_img, tmp_path_factory.mktemp("base"), "block_size=8M", 10 * MiB,
                     ["write -P 0x33 0 1M", "write -P 0x44 5M 100k"])


def patch(img, off, fmt, value, crc=None):
    b = bytearray(img)
    struct.pack_into(fmt, b, off, value)
    if crc:
        X.fix_crc(b, *crc)
    return bytes(b)


def flip(img, off):
    b = bytearray(img)
    b[off] ^= 1
    return bytes(b)


BAT = 2 * MiB
META = 3 * MiB
RT = (X.REGION_TABLE, 64 * KiB)


def hostile_cases(img):
    meta_params = META + struct.unpack_from("<I", img, META + 32 + 16)[0]
    return {
        "signature": patch(img, 0, "<Q", 0),
        "header-1-crc": flip(img, 0x10010),   # qemu takes header 2
        "header-2-crc": flip(img, 0x20010),
        "both-header-crcs": flip(flip(img, 0x10010), 0x20010),
        "region-table-crc": flip(img, 0x30010),
        "region-overlaps-log": patch(img, 0x30000 + 16 + 16, "<Q", MiB, RT),
        "region-count-2048": patch(img, 0x30000 + 8, "<I", 2048, RT),
        "bat-region-too-small": patch(img, 0x30000 + 16 + 24, "<I", 8, RT),
        "bat-region-unreadable": patch(img, 0x30000 + 16 + 24, "<I", 0xFFFFFFF0, RT),
        "bat-past-eof": patch(img, BAT, "<Q", (100 << 20) | 6),
        "bat-end-past-eof": patch(img, BAT, "<Q", (15 << 20) | 6),
        "bat-offset-overflow": patch(img, BAT, "<Q", (0xFFFFFFFFFFF << 20) | 6),
        "bat-overlaps-bat": patch(img, BAT, "<Q", (2 << 20) | 6),
        "bat-at-zero": patch(img, BAT, "<Q", 6),
        "block-size-512k": patch(img, meta_params, "<I", 512 * KiB),
        "block-size-512M": patch(img, meta_params, "<I", 512 * MiB),
        "block-size-3M": patch(img, meta_params, "<I", 3 * MiB),
        "has-parent-no-locator": patch(img, meta_params + 4, "<I", 2),
        "metadata-item-offset-huge": patch(img, META + 32 + 16, "<I", 0xFFFFFFFF),
        "metadata-count-huge": patch(img, META + 10, "<H", 0xFFFF),
        "metadata-signature": patch(img, META, "<Q", 0),
        "log-offset-unaligned": patch(img, 0x20000 + 72, "<Q", MiB + 4096, (0x20000, 4096)),
        "log-version-1": patch(img, 0x20000 + 64, "<H", 1, (0x20000, 4096)),
    }


HOSTILE = ["signature", "header-1-crc", "header-2-crc", "both-header-crcs",
           "region-table-crc", "region-overlaps-log", "region-count-2048",
           "bat-region-too-small", "bat-region-unreadable", "bat-past-eof",
           "bat-end-past-eof", "bat-offset-overflow", "bat-overlaps-bat",
           "block-size-512k", "block-size-512M", "block-size-3M", "has-parent-no-locator",
           "metadata-item-offset-huge", "metadata-count-huge", "metadata-signature",
           "log-offset-unaligned", "log-version-1"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_images(qemu_img, cordon_bin, sandbox, tmp_path, base, name):
    src = tmp_path / "src.vhdx"
    src.write_bytes(hostile_cases(base)[name])
    q = compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, src,
                   ["-f", "vhdx", "-O", "raw", "if=in.vhdx", "of=out.raw"])
    # one-sided cases qemu reads are the ones named so
    assert q[0] == (0 if name.startswith("header-") and "both" not in name else 1)


@pytest.mark.parametrize("state", [4, 7])
def test_blocks_qemu_cannot_read(qemu_img, cordon_bin, sandbox, tmp_path, base, state):
    """A partially present block (differencing images only) and an unknown
    state: qemu's read error; qemu leaves a partial output, cordon none."""
    img = patch(base, BAT, "<Q", (4 << 20) | state)
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-f", "vhdx", "-O", "raw", "if=in.vhdx", "of=out.raw"], {"in.vhdx": img})
    assert c[:2] == q[:2]
    assert q[:2] == (1, "PROG: error while reading from input image file: "
                        "Input/output error\n")
    assert not (tmp_path / "cordon" / "out.raw").exists()


def test_block_at_offset_zero_is_refused(cordon_bin, sandbox, tmp_path, qemu_img):
    """A present block in the header section, with nothing else there for
    qemu's overlap check to catch (1 MiB blocks): qemu reads it, with
    content that depends on its request sizes; cordon refuses it."""
    img = bytearray(qemu_vhdx(qemu_img, tmp_path, "block_size=1M", 3 * MiB, []))
    struct.pack_into("<Q", img, X.regions(img)["bat"][0], 6)
    (tmp_path / "in.vhdx").write_bytes(bytes(img))
    rc, err = run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "vhdx",
                   "if=in.vhdx", "of=out.raw"], tmp_path)
    assert (rc, err) == (1, "PROG: Could not open 'in.vhdx': Could not open 'in.vhdx': BAT "
                            "entry 0 places a block at offset 0, in the header section: "
                            "cordon refuses it\n")
    assert not (tmp_path / "out.raw").exists()


# ---- active logs ---------------------------------------------------------------

def block_off(img, i):
    return X.bat_entry(img, i) & ~0xFFFFF


def dirty_image(img, guid, unaligned_end=True):
    """Two entries: data and zeros over block 0; then block 1 made present
    at the end of the file (its BAT sector and one data sector)."""
    b0 = block_off(img, 0)
    e1 = X.log_entry(5, guid, data_writes=[(b0 + 8192, b"\x77" * 4096)],
                     zero_writes=[(b0 + 512 * KiB, 64 * KiB)], flushed=len(img), last=len(img))
    newoff = len(img)
    bat = X.regions(img)["bat"][0]
    sector = bytearray(img[bat:bat + 4096])
    struct.pack_into("<Q", sector, 8, newoff | 6)
    e2 = X.log_entry(6, guid, data_writes=[(bat, bytes(sector)),
                                           (newoff + 4096, bytes(range(256)) * 16)],
                     flushed=len(img), last=newoff + 8 * MiB + (1 if unaligned_end else 0))
    return [e1, e2]


def replayed_by_qemu(qemu_img, tmp, img):
    """qemu-img check -r all on a copy, then its qemu-img dd: the oracle."""
    d = tmp / "oracle"
    d.mkdir()
    (d / "in.vhdx").write_bytes(img)  # the copy, under the same name
    tool([qemu_img, "check", "-r", "all", "in.vhdx"], cwd=d)
    return run([qemu_img, "dd", "-f", "vhdx", "-O", "raw", "if=in.vhdx", "of=out.raw"], d), \
        (d / "out.raw").read_bytes() if (d / "out.raw").exists() else None


def cordon_read(cordon_bin, sandbox, tmp, img, *window):
    d = tmp / "cordon"
    d.mkdir(exist_ok=True)
    (d / "in.vhdx").write_bytes(img)
    res = run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "vhdx", "-O", "raw",
               *window, "if=in.vhdx", "of=out.raw"], d)
    assert (d / "in.vhdx").read_bytes() == img  # never written
    return res, (d / "out.raw").read_bytes() if (d / "out.raw").exists() else None


def test_qemu_refuses_an_active_log_read_only(qemu_img, tmp_path, base):
    guid = X.new_guid()
    img = X.with_log(base, dirty_image(base, guid), guid)
    (tmp_path / "in.vhdx").write_bytes(img)
    rc, err = run([qemu_img, "dd", "-f", "vhdx", "if=in.vhdx", "of=out.raw"], tmp_path)
    assert rc == 1 and "contains a log that needs to be replayed" in err


@pytest.mark.parametrize("unaligned_end", [True, False], ids=["grown", "not-grown"])
def test_active_log_replayed_as_qemu_check_does(qemu_img, cordon_bin, sandbox, tmp_path,
                                                base, unaligned_end):
    """With last_file_offset unaligned qemu grows the file to the next MiB
    (block 1 then fits); aligned, it does not (qemu's quirk), and the BAT
    check fails the same way in both."""
    guid = X.new_guid()
    img = X.with_log(base, dirty_image(base, guid, unaligned_end), guid)
    q, qdata = replayed_by_qemu(qemu_img, tmp_path, img)
    c, cdata = cordon_read(cordon_bin, sandbox, tmp_path, img)
    assert c == q
    assert cdata == qdata
    if unaligned_end:
        # the replay changed the disk: block 0's logged sector, block 1's
        # new data sector
        assert q[0] == 0
        assert qdata[8192:8192 + 4096] == b"\x77" * 4096
        assert qdata[512 * KiB:576 * KiB] == bytes(64 * KiB)
        assert qdata[8 * MiB + 4096:8 * MiB + 8192] == bytes(range(256)) * 16
    else:
        assert q[0] == 1 and "Image has probably been truncated" in q[1]


def test_replayed_log_with_windows(qemu_img, cordon_bin, sandbox, tmp_path, base):
    guid = X.new_guid()
    img = X.with_log(base, dirty_image(base, guid), guid)
    _, qdata = replayed_by_qemu(qemu_img, tmp_path, img)
    # qemu-img dd's count includes the skipped blocks: [skip*bs, count*bs)
    for window, (start, end) in ((["bs=4096", "skip=1", "count=3"], (4096, 12288)),
                                 (["bs=1M", "skip=8", "count=9"], (8 * MiB, 9 * MiB))):
        c, cdata = cordon_read(cordon_bin, sandbox, tmp_path, img, *window)
        assert c == (0, "")
        assert cdata == qdata[start:end]


def test_log_without_a_valid_entry_reads_as_clean(qemu_img, cordon_bin, sandbox, tmp_path,
                                                  base):
    """A log guid but no entry with a good CRC: nothing to replay, and
    qemu-img reads the image itself."""
    guid = X.new_guid()
    entries = dirty_image(base, guid)
    bad = bytearray(entries[0])
    bad[100] ^= 1
    src = tmp_path / "src.vhdx"
    src.write_bytes(X.with_log(base, [bytes(bad)], guid))
    q = compare_dd(qemu_img, cordon_bin, sandbox, tmp_path, src,
                   ["-f", "vhdx", "-O", "raw", "if=in.vhdx", "of=out.raw"])
    assert q[0] == 0


def test_newest_sequence_wins(qemu_img, cordon_bin, sandbox, tmp_path, base):
    """Two sequences in the log: the one whose first entry has the higher
    sequence number is replayed."""
    guid = X.new_guid()
    b0 = block_off(base, 0)
    old = X.log_entry(9, guid, data_writes=[(b0, b"\x01" * 4096)], flushed=len(base),
                      last=len(base))
    new = X.log_entry(20, guid, data_writes=[(b0, b"\x02" * 4096)], flushed=len(base),
                      last=len(base))
    img = X.with_log(base, [new, bytes(4096), old], guid)
    q, qdata = replayed_by_qemu(qemu_img, tmp_path, img)
    c, cdata = cordon_read(cordon_bin, sandbox, tmp_path, img)
    assert c == q == (0, "")
    assert cdata == qdata and cdata[:4] == b"\x02" * 4


@pytest.mark.parametrize("case", ["data-sequence-mismatch", "into-the-log",
                                  "past-qemu-limit", "truncated-file"])
def test_hostile_logs(qemu_img, cordon_bin, sandbox, tmp_path, base, case):
    guid = X.new_guid()
    b0 = block_off(base, 0)
    kw = dict(flushed=len(base), last=len(base))
    if case == "data-sequence-mismatch":
        e = bytearray(X.log_entry(5, guid, data_writes=[(b0, b"\x05" * 4096)], **kw))
        struct.pack_into("<I", e, 4096 + 4092, 99)  # the data sector's low sequence
        struct.pack_into("<I", e, 4, 0)
        struct.pack_into("<I", e, 4, X.crc32c(bytes(e)))
        entries = [bytes(e)]
        want = "Invalid argument"
    elif case == "into-the-log":
        entries = [X.log_entry(5, guid, data_writes=[(MiB + 64 * KiB, b"\x05" * 4096)], **kw)]
        want = "its log writes into the log itself: cordon refuses to replay it"
    elif case == "past-qemu-limit":
        entries = [X.log_entry(5, guid, zero_writes=[(0x7FFFFFFFC0000000 - 4096, 8192)], **kw)]
        want = "Input/output error"
    else:
        entries = [X.log_entry(5, guid, data_writes=[(b0, b"\x05" * 4096)],
                               flushed=len(base) + MiB, last=len(base))]
        want = "Invalid argument"
    img = X.with_log(base, entries, guid)
    (c, err), data = cordon_read(cordon_bin, sandbox, tmp_path, img)
    assert c == 1 and data is None
    assert err == f"PROG: Could not open 'in.vhdx': Could not open 'in.vhdx': {want}\n"


# ---- differencing VHDX (qemu-img refuses them; cordon reads them) --------------

DIFF_SIZE, DIFF_BS = 8 * MiB, MiB


@pytest.fixture(scope="session")
def diff_parts(qemu_img, tmp_path_factory):
    """(parent, child template): a parent with data in every block, and a
    dynamic image of the same geometry to make children from."""
    d = tmp_path_factory.mktemp("diff")
    parent = qemu_vhdx(qemu_img, d, "block_size=1M", DIFF_SIZE,
                       ["write -P 0x11 0 4M", "write -P 0x22 4M 4M"])
    (d / "img.vhdx").unlink()
    template = qemu_vhdx(qemu_img, d, "block_size=1M,block_state_zero=off", DIFF_SIZE, [])
    return parent, template


# block: (state, data, sectors present), and which blocks libvhdi 20210425
# reads as the specification does (it reads zero, undefined and unmapped
# blocks from the parent: cordon reads them as zeros, MS-VHDX 2.5.1.1)
DIFF_BLOCKS = {
    0: (X.FULLY_PRESENT, rand(DIFF_BS, 1), ()),
    1: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 2), list(range(8)) + [100, 1000, 2047]),
    2: (X.NOT_PRESENT, b"", ()),
    3: (X.ZERO, b"", ()),
    5: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 3), list(range(1, 2048, 2))),
    6: (1, b"", ()),
    7: (3, b"", ()),
}
NOT_LIKE_LIBVHDI = (3, 6, 7)


def diff_model(parent_disk, blocks):
    """The disk the specification describes."""
    disk = bytearray(parent_disk)
    for b, (state, data, present) in blocks.items():
        at = b * DIFF_BS
        if state == X.FULLY_PRESENT:
            disk[at:at + DIFF_BS] = data
        elif state == X.PARTIALLY_PRESENT:
            for s in present:
                disk[at + 512 * s:at + 512 * s + 512] = data[512 * s:512 * s + 512]
        elif state != X.NOT_PRESENT:
            disk[at:at + DIFF_BS] = bytes(DIFF_BS)
    return bytes(disk)


def test_differencing_reads_its_parent(qemu_img, cordon_bin, sandbox, tmp_path, diff_parts):
    parent, template = diff_parts
    child = X.differencing(template, parent, None, DIFF_BLOCKS, DIFF_BS)
    (tmp_path / "parent.vhdx").write_bytes(parent)
    want = diff_model(flat(qemu_img, tmp_path / "parent.vhdx", "vhdx"), DIFF_BLOCKS)
    inputs = {"in.vhdx": child, "parent.vhdx": parent}
    for window in ([], ["bs=777", "skip=1300", "count=3000"], ["bs=4k", "skip=256", "count=300"]):
        q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path / ("w" + "-".join(window)),
                        ["-f", "vhdx", *window, "if=in.vhdx", "of=out.raw"], inputs)
        # qemu-img 7.2 refuses differencing images
        assert q[:2] == (1, "PROG: Could not open 'in.vhdx': Could not open 'in.vhdx': "
                            "Operation not supported\n")
        assert c[:2] == (0, "")
        got = (c[2] / "out.raw").read_bytes()
        if not window:
            assert got == want
        else:
            bs, skip, count = (int(v[:-1]) * 1024 if v.endswith("k") else int(v)
                               for v in (w.split("=")[1] for w in window))
            # qemu's count counts from the start of the input, skip
            # included; the output is rounded up to a sector of zeros
            part = want[bs * skip:bs * count]
            assert got == part + bytes(-len(part) % 512)
    # libvhdi, an independent reader, reads the same disk where it follows
    # the specification
    (tmp_path / "in.vhdx").write_bytes(child)
    seen = libvhdi_read(tmp_path / "in.vhdx", parent=tmp_path / "parent.vhdx")
    assert seen is not None and len(seen) == len(want)
    for b in range(DIFF_SIZE // DIFF_BS):
        block = slice(b * DIFF_BS, (b + 1) * DIFF_BS)
        assert (seen[block] == want[block]) == (b not in NOT_LIKE_LIBVHDI), b


def test_differencing_to_images(qemu_img, cordon_bin, sandbox, tmp_path, diff_parts):
    """Flattened into qcow2 and vhdx outputs: the same disk."""
    parent, template = diff_parts
    child = X.differencing(template, parent, None, DIFF_BLOCKS, DIFF_BS)
    (tmp_path / "parent.vhdx").write_bytes(parent)
    want = diff_model(flat(qemu_img, tmp_path / "parent.vhdx", "vhdx"), DIFF_BLOCKS)
    for fmt in ("qcow2", "vhdx"):
        d = tmp_path / fmt
        d.mkdir()
        (d / "in.vhdx").write_bytes(child)
        (d / "parent.vhdx").write_bytes(parent)
        p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-O", fmt, "if=in.vhdx",
                  "of=out.img"], cwd=d)
        assert p.returncode == 0, p.stderr
        assert flat(qemu_img, d / "out.img", fmt) == want


def test_differencing_chain_of_two(qemu_img, cordon_bin, sandbox, tmp_path, diff_parts):
    parent, template = diff_parts
    middle = X.differencing(template, parent, None,
                            {0: (X.FULLY_PRESENT, rand(DIFF_BS, 7), ())}, DIFF_BS)
    loc = X.locator({"parent_linkage": X.data_write_guid(middle),
                     "relative_path": ".\\parent.vhdx"})
    top = X.differencing(template, middle, loc,
                         {1: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 8), [0, 5])}, DIFF_BS)
    # the middle image names "parent.vhdx": the files are top -> mid -> base
    loc_top = X.locator({"parent_linkage": X.data_write_guid(middle),
                         "relative_path": "mid.vhdx"})
    top = X.differencing(template, middle, loc_top,
                         {1: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 8), [0, 5])}, DIFF_BS)
    d = tmp_path
    (d / "in.vhdx").write_bytes(top)
    (d / "mid.vhdx").write_bytes(middle)
    (d / "parent.vhdx").write_bytes(parent)
    base = flat(qemu_img, d / "parent.vhdx", "vhdx")
    want = diff_model(diff_model(base, {0: (X.FULLY_PRESENT, rand(DIFF_BS, 7), ())}),
                      {1: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 8), [0, 5])})
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "if=in.vhdx", "of=out.raw"], cwd=d)
    assert p.returncode == 0, p.stderr
    assert (d / "out.raw").read_bytes() == want


def diff_case(diff_parts, loc_entries=None, blocks=None, raw_loc=None):
    parent, template = diff_parts
    loc = raw_loc if raw_loc is not None else (
        None if loc_entries is None else X.locator(loc_entries))
    return X.differencing(template, parent, loc, DIFF_BLOCKS if blocks is None else blocks,
                          DIFF_BS)


DIFF_REFUSED = {
    "parent-missing": (lambda p: {"in.vhdx": diff_case(p)},
                       "Could not open backing file: Could not open './parent.vhdx'"),
    "not-the-parent": (lambda p: {"in.vhdx": diff_case(p, {"parent_linkage": "{" + "0" * 8 +
                                                           "-0000-0000-0000-" + "0" * 12 + "}",
                                                           "relative_path": "parent.vhdx"}),
                                  "parent.vhdx": p[0]},
                       "is not the parent of this differencing image"),
    "no-linkage": (lambda p: {"in.vhdx": diff_case(p, {"relative_path": "parent.vhdx"}),
                              "parent.vhdx": p[0]}, "it has no parent_linkage"),
    "volume-path-only": (lambda p: {"in.vhdx": diff_case(p, {
        "parent_linkage": X.data_write_guid(p[0]),
        "volume_path": "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\parent.vhdx"}),
        "parent.vhdx": p[0]}, "it names its parent by volume only"),
    "entry-out-of-bounds": (lambda p: {"in.vhdx": diff_case(
        p, raw_loc=X.locator({"parent_linkage": "x"})[:-4]), "parent.vhdx": p[0]},
        "an entry lies outside the locator"),
    "not-a-locator": (lambda p: {"in.vhdx": diff_case(p, raw_loc=b"\0" * 64),
                                 "parent.vhdx": p[0]}, "not a VHDX parent locator"),
    "parent-outside-policy": (lambda p: {"in.vhdx": diff_case(p, {
        "parent_linkage": X.data_write_guid(p[0]), "absolute_win32_path": "/etc/passwd"})},
        "'/etc/passwd'"),
    "parent-loop": (lambda p: {"in.vhdx": diff_case(p, {
        "parent_linkage": "{00000000-0000-0000-0000-000000000000}",
        "relative_path": "in.vhdx"})}, "a loop"),
}


@pytest.mark.parametrize("name", sorted(DIFF_REFUSED))
def test_differencing_refusals(cordon_bin, sandbox, tmp_path, diff_parts, name):
    make, says = DIFF_REFUSED[name]
    for n, content in make(diff_parts).items():
        (tmp_path / n).write_bytes(content)
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "if=in.vhdx", "of=out.raw"],
             cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 1 and err.startswith("cordon: Could not open 'in.vhdx': ") \
        and says in err and err.count("\n") == 1, err
    assert not (tmp_path / "out.raw").exists()


def test_partially_present_without_bitmap(cordon_bin, sandbox, tmp_path, diff_parts):
    """A partially present block whose chunk has no sector bitmap: a read
    error, no output."""
    parent, template = diff_parts
    child = bytearray(X.differencing(template, parent, None,
                                     {1: (X.PARTIALLY_PRESENT, rand(DIFF_BS, 2), [0])}, DIFF_BS))
    boff, _ = X.regions(child)["bat"]
    ratio = (1 << 23) * 512 // DIFF_BS
    struct.pack_into("<Q", child, boff + 8 * ratio, 0)  # the sector bitmap entry
    (tmp_path / "in.vhdx").write_bytes(bytes(child))
    (tmp_path / "parent.vhdx").write_bytes(parent)
    p = tool([str(cordon_bin), "dd", f"--sandbox={sandbox}", "bs=1M", "if=in.vhdx",
              "of=out.raw"], cwd=tmp_path)
    assert (p.returncode, p.stderr.decode()) == (
        1, "cordon: error while reading from input image file: Input/output error\n")
    assert not (tmp_path / "out.raw").exists()


def test_differencing_info(qemu_img, cordon_bin, sandbox, tmp_path, diff_parts):
    """info describes a differencing image with its parent as backing file
    (qemu-img 7.2 cannot open it: docs/info.md), and --backing-chain goes on
    to the parent, which it describes exactly as qemu-img does."""
    parent, template = diff_parts
    child = X.differencing(template, parent, None, DIFF_BLOCKS, DIFF_BS)
    (tmp_path / "in.vhdx").write_bytes(child)
    (tmp_path / "parent.vhdx").write_bytes(parent)
    q = tool([qemu_img, "info", "--output=json", "in.vhdx"], cwd=tmp_path)
    assert q.returncode == 1 and b"Operation not supported" in q.stderr

    def cordon(*args):
        p = tool([str(cordon_bin), "info", f"--sandbox={sandbox}", *args], cwd=tmp_path)
        assert p.returncode == 0 and p.stderr == b"", p.stderr
        return p.stdout

    me = json.loads(cordon("--output=json", "in.vhdx"))
    assert me["format"] == "vhdx" and me["virtual-size"] == DIFF_SIZE
    assert me["cluster-size"] == DIFF_BS
    assert me["backing-filename"] == "./parent.vhdx"  # MS-VHDX ".\\parent.vhdx"
    assert me["full-backing-filename"] == "./parent.vhdx"
    assert me["backing-filename-format"] == "vhdx"
    assert me["actual-size"] == allocated(tmp_path / "in.vhdx")
    human = cordon("in.vhdx").decode()
    assert "backing file: ./parent.vhdx\n" in human and "backing file format: vhdx\n" in human
    chain = json.loads(cordon("--backing-chain", "--output=json", "in.vhdx"))
    assert chain[0] == me
    q = tool([qemu_img, "info", "--output=json", "./parent.vhdx"], cwd=tmp_path)
    assert q.returncode == 0
    assert chain[1:] == [json.loads(q.stdout)]
