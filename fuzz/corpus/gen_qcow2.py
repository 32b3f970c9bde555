#!/usr/bin/env python3
"""
Seeds for fuzz_qcow2: qcow2 images made by the real qemu-img with what the
in-memory templates lack (persistent bitmaps, one of them in use or with a
table pointing at data; internal snapshots), at 512-byte clusters so that
each is a few KiB, each behind the byte that tells fuzz_qcow2 "the input is
the image" (odd).

    gen_qcow2.py fuzz/corpus/fuzz_qcow2
"""
import os
import struct
import subprocess
import sys
import tempfile


def sh(tmp, *argv):
    subprocess.run(list(argv), cwd=tmp, check=True, stdout=subprocess.DEVNULL)


def make(tmp, name, size, *steps):
    sh(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", name,
       str(size))
    for s in steps:
        sh(tmp, *s)
    return bytearray(open(os.path.join(tmp, name), "rb").read())


def set_first_bitmap_in_use(img):
    """Flags of the first directory entry: in use and auto."""
    p = struct.unpack_from(">I", img, 100)[0]
    while struct.unpack_from(">I", img, p)[0] != 0x23852875:
        p += 8 + ((struct.unpack_from(">I", img, p + 4)[0] + 7) & ~7)
    directory = struct.unpack_from(">Q", img, p + 8 + 16)[0]
    struct.pack_into(">I", img, directory + 12, 3)
    return img


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        bitmaps = ("qemu-img", "bitmap", "--add", "-g", "4k")
        seeds = {
            "bitmaps": make(tmp, "a", 1 << 20, bitmaps + ("a", "b0"),
                            ("qemu-img", "bitmap", "--add", "--disable", "a", "second"),
                            ("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 64k 8k", "a")),
            "bitmap-in-use": set_first_bitmap_in_use(
                make(tmp, "b", 1 << 20, bitmaps + ("b", "b0"))),
            "snapshots": make(tmp, "c", 1 << 20,
                              ("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 4k", "c"),
                              ("qemu-img", "snapshot", "-c", "one", "c"),
                              ("qemu-img", "snapshot", "-c", "two", "c")),
        }
        for name, img in seeds.items():
            open(os.path.join(out, name), "wb").write(b"\x01" + bytes(img))


if __name__ == "__main__":
    main(sys.argv[1])
