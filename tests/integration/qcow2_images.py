"""
qcow2 inputs made by the real qemu-img and qemu-io, for the qcow2 read tests.
Each builder makes its files in a scratch directory and returns them as
{name: bytes}, so that dd_compare can lay identical copies down for qemu-img
and for cordon (chains use relative backing names in one directory).
"""
import shutil
import subprocess
from pathlib import Path

QEMU_IO = shutil.which("qemu-io")
MiB = 1 << 20


def sh(*argv, cwd):
    subprocess.run(list(argv), cwd=cwd, check=True, capture_output=True,
                   timeout=120)


def create(cwd, name, size, opts="", backing=None, backing_fmt=None):
    argv = ["qemu-img", "create", "-f", "qcow2"]
    if opts:
        argv += ["-o", opts]
    if backing:
        argv += ["-b", backing, "-F", backing_fmt]
    sh(*argv, name, str(size), cwd=cwd)


def io(cwd, name, *cmds, fmt="qcow2"):
    argv = [QEMU_IO, "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    sh(*argv, name, cwd=cwd)


def pattern_raw(size, seed=7):
    """Bytes that differ everywhere, with zero runs the converter can skip."""
    out = bytearray((i * 131 + i // 4096 + seed) & 0xFF for i in range(size))
    for start in range(0, size, 5 * 65536):
        out[start + 65536:start + 2 * 65536] = bytes(
            len(out[start + 65536:start + 2 * 65536]))
    return bytes(out)


def collect(cwd):
    return {p.name: p.read_bytes() for p in sorted(Path(cwd).iterdir())}


# Writes at odd offsets and lengths, zero clusters over data, a tail.
WRITES = [
    "write -P 0x11 0 4k",
    "write -P 0x22 12345 7000",
    "write -P 0x33 1M 65536",
    "write -P 0x44 1500k 200k",
    "write -z 1536k 64k",
    "write -P 0x55 3071k 1k",
]


def plain(cwd, cluster, compat="1.1"):
    opts = f"cluster_size={cluster},compat={compat}"
    create(cwd, "in.qcow2", 3 * MiB, opts)
    # v2 has no zero flag: qemu writes zeros as data there.
    io(cwd, "in.qcow2", *WRITES)
    return collect(cwd)


def compressed(cwd, ctype, cluster=65536):
    (Path(cwd) / "src.raw").write_bytes(pattern_raw(3 * MiB + 12345))
    sh("qemu-img", "convert", "-c", "-O", "qcow2", "-o",
       f"compression_type={ctype},cluster_size={cluster}", "src.raw",
       "in.qcow2", cwd=cwd)
    (Path(cwd) / "src.raw").unlink()
    # Some clusters rewritten uncompressed, one zeroed.
    io(cwd, "in.qcow2", "write -P 0x66 128k 64k", "write -z 512k 64k")
    return collect(cwd)


def mixed_compressed(cwd):
    create(cwd, "in.qcow2", 2 * MiB)
    io(cwd, "in.qcow2", "write -c -P 0x77 0 64k", "write -P 0x78 64k 64k",
       "write -c -P 0x79 128k 64k", "write -c -P 0x7a 1M 64k")
    return collect(cwd)


def extended_l2(cwd, cluster=65536):
    create(cwd, "base.raw", 0)
    (Path(cwd) / "base.raw").write_bytes(pattern_raw(2 * MiB))
    create(cwd, "in.qcow2", 2 * MiB,
           f"extended_l2=on,cluster_size={cluster}", "base.raw", "raw")
    io(cwd, "in.qcow2", "write -P 0x55 2k 1k", "write -z 8k 4k",
       "write -P 0x56 30k 5k", "write -P 0x57 64k 64k", "write -z 200k 2k",
       "write -P 0x58 1M 3k")
    return collect(cwd)


def chain(cwd, depth, short_base=True):
    """base.raw <- l1.qcow2 <- l2.qcow2 <- ...; the top is in.qcow2."""
    base_len = MiB + 1000 if short_base else 3 * MiB
    (Path(cwd) / "base.raw").write_bytes(pattern_raw(base_len, seed=3))
    below, fmt = "base.raw", "raw"
    for level in range(1, depth + 1):
        name = "in.qcow2" if level == depth else f"l{level}.qcow2"
        create(cwd, name, 3 * MiB, "cluster_size=4096", below, fmt)
        off = level * 300 * 1024
        io(cwd, name, f"write -P 0x{0x90 + level:x} {off} 70k",
           f"write -z {off + 100 * 1024} 8k",
           f"write -P 0x{0xa0 + level:x} {2 * MiB + level * 4096} 4k")
        below, fmt = name, "qcow2"
    return collect(cwd)


def with_snapshot(cwd):
    create(cwd, "in.qcow2", MiB)
    io(cwd, "in.qcow2", "write -P 0x21 0 128k")
    sh("qemu-img", "snapshot", "-c", "s1", "in.qcow2", cwd=cwd)
    io(cwd, "in.qcow2", "write -P 0x22 64k 128k", "write -z 0 4k")
    return collect(cwd)
