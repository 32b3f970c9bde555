#!/usr/bin/env python3
"""
Seeds for fuzz_vpc: VHDs made by the real qemu-img (dynamic and fixed,
force_size on and off, CHS-exact and not), each behind the byte that tells
fuzz_vpc "the input is the image" (odd), plus one seed per template
(even first byte) with window bytes after it.  Blocks of qemu's VHDs are
2 MiB, so its seeds carry no data blocks: the templates do.

    gen_vpc.py fuzz/corpus/fuzz_vpc
"""
import os
import subprocess
import sys
import tempfile


def qemu_vhd(tmp, name, size, opts):
    path = os.path.join(tmp, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", "vpc", "-o", opts, path,
                    str(size)], check=True)
    return open(path, "rb").read()


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = {
            "dynamic-1m": qemu_vhd(tmp, "a", 1 << 20, "subformat=dynamic"),
            "dynamic-force": qemu_vhd(tmp, "b", 3 << 20, "subformat=dynamic,force_size=on"),
            "dynamic-exact": qemu_vhd(tmp, "c", 34816, "subformat=dynamic"),
            "dynamic-empty": qemu_vhd(tmp, "d", 0, "subformat=dynamic"),
            "fixed-40k": qemu_vhd(tmp, "e", 40960, "subformat=fixed"),
            "fixed-force": qemu_vhd(tmp, "f", 4096, "subformat=fixed,force_size=on"),
        }
        for name, img in seeds.items():
            open(os.path.join(out, name), "wb").write(b"\x01" + img)
    windows = bytes([0, 0, 0, 0x10, 0, 0, 0x20, 0, 0xff, 0xff, 0, 0x7f, 0, 0, 0x01])
    for t in range(4):
        # template t, no edits; then a truncated and a grown copy
        open(os.path.join(out, f"template-{t}"), "wb").write(
            bytes([t << 1, 0]) + windows)
        open(os.path.join(out, f"template-{t}-cut"), "wb").write(
            bytes([(t << 1) | (1 << 3), 0x01, 0x00, 0]) + windows)


if __name__ == "__main__":
    main(sys.argv[1])
