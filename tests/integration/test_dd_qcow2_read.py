"""
cordon dd with qcow2 input against qemu-img dd: images made by qemu-img and
qemu-io (cluster sizes, compat levels, compression types, extended L2
entries, zero clusters, backing chains, snapshots), read through several
windows to raw; exit status, stderr and output bytes must match.
"""
import pytest

import qcow2_images as qi

WINDOWS = {
    "whole": [],
    "bs-1M": ["bs=1M"],
    "bs-777": ["bs=777", "skip=3", "count=5000"],
}

IMAGES = {
    "v3-c512": lambda d: qi.plain(d, 512),
    "v3-c4k": lambda d: qi.plain(d, 4096),
    "v3-c64k": lambda d: qi.plain(d, 65536),
    "v3-c2M": lambda d: qi.plain(d, 2 * qi.MiB),
    "v2-c64k": lambda d: qi.plain(d, 65536, compat="0.10"),
    "v2-c4k": lambda d: qi.plain(d, 4096, compat="0.10"),
    "zlib-c64k": lambda d: qi.compressed(d, "zlib"),
    "zstd-c64k": lambda d: qi.compressed(d, "zstd"),
    "zlib-c512": lambda d: qi.compressed(d, "zlib", 512),
    "zstd-c2M": lambda d: qi.compressed(d, "zstd", 2 * qi.MiB),
    "mixed-compressed": qi.mixed_compressed,
    "extl2-c64k": qi.extended_l2,
    "extl2-c16k": lambda d: qi.extended_l2(d, 16384),
    "chain-1": lambda d: qi.chain(d, 1),
    "chain-2": lambda d: qi.chain(d, 2),
    "chain-3": lambda d: qi.chain(d, 3),
    "chain-2-long-base": lambda d: qi.chain(d, 2, short_base=False),
    "snapshot": qi.with_snapshot,
}

_cache = {}


def image(tmp_path_factory, key):
    if key not in _cache:
        d = tmp_path_factory.mktemp("img-" + key)
        _cache[key] = IMAGES[key](d)
    return _cache[key]


@pytest.mark.skipif(qi.QEMU_IO is None, reason="qemu-io is not installed")
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("key", IMAGES)
def test_qcow2_input_matches_qemu_img(tmp_path_factory, dd_compare, key, window):
    files = image(tmp_path_factory, key)
    dd_compare(["-O", "raw", *WINDOWS[window], "if=in.qcow2", "of=out.raw"], files)


def test_probed_and_named_format_agree(tmp_path_factory, dd_compare):
    files = image(tmp_path_factory, "v3-c64k")
    dd_compare(["-f", "qcow2", "bs=64k", "count=20", "if=in.qcow2", "of=out.raw"],
               files)


def test_missing_backing_file(tmp_path_factory, dd_compare):
    files = dict(image(tmp_path_factory, "chain-1"))
    del files["base.raw"]
    dd_compare(["if=in.qcow2", "of=out.raw"], files)


def test_qcow2_on_raw_refused(dd_compare):
    dd_compare(["-f", "qcow2", "if=in.raw", "of=out.raw"],
               {"in.raw": b"QFI\xfb" + bytes(2000)})
