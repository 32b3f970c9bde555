#!/usr/bin/env python3
"""
Seeds for fuzz_vmdk: VMDKs made by the real qemu-img (monolithicSparse,
streamOptimized, compat6, zeroed grains; 256 KiB disks with data), each
behind the byte that tells fuzz_vmdk "the input is the image" (odd), plus
one seed per template (even first byte), whole and truncated, with window
bytes after it.  Descriptor-only subformats name files fuzz_vmdk does not
have under those names: the templates cover descriptors.

    gen_vmdk.py fuzz/corpus/fuzz_vmdk
"""
import os
import random
import subprocess
import sys
import tempfile


def qemu_vmdk(tmp, name, opts, data):
    src, path = os.path.join(tmp, name + ".raw"), os.path.join(tmp, name)
    open(src, "wb").write(data)
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", opts, src,
                    path], check=True)
    return open(path, "rb").read()


def main(out):
    os.makedirs(out, exist_ok=True)
    r = random.Random(1)
    data = bytearray(256 << 10)
    data[0:2000] = r.randbytes(2000)
    data[2000:70000] = bytes(range(256)) * 265 + bytes(160)
    data[200000:200512] = r.randbytes(512)
    data = bytes(data)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = {
            "sparse": qemu_vmdk(tmp, "a", "subformat=monolithicSparse", data),
            "stream": qemu_vmdk(tmp, "b", "subformat=streamOptimized", data),
            "compat6": qemu_vmdk(tmp, "c", "subformat=monolithicSparse,compat6=on",
                                 data[:4096]),
            "zeroed-grain": qemu_vmdk(tmp, "d", "zeroed_grain=on", data[:131072]),
        }
        for name, img in seeds.items():
            open(os.path.join(out, name), "wb").write(b"\x01" + img)
    windows = bytes([0, 0, 0, 0x10, 0, 0, 0x20, 0, 0xff, 0xff, 0, 0x7f, 0, 0, 0x01])
    for t in range(4):
        open(os.path.join(out, f"template-{t}"), "wb").write(bytes([t << 1, 0]) + windows)
        open(os.path.join(out, f"template-{t}-cut"), "wb").write(
            bytes([(t << 1) | (1 << 3), 0x01, 0x02, 0]) + windows)


if __name__ == "__main__":
    main(sys.argv[1])
