"""
Sparse inputs: holes, data at unaligned offsets, large virtual sizes.  The
output must equal qemu-img dd's byte for byte, and holes of the input must
stay holes in cordon's output (qemu-img writes them densely).  Files are
compared by hashing so that GiB-sized sparse outputs stay cheap.
"""
import hashlib
import os
import subprocess

import pytest

MiB = 1 << 20


def make_sparse(path, size, extents):
    """A file of `size` bytes, holes except `extents` [(offset, length)]."""
    with open(path, "wb") as f:
        f.truncate(size)
        for i, (off, length) in enumerate(extents):
            f.seek(off)
            f.write(bytes((i * 37 + j * 7 + 1) & 0xFF or 1 for j in range(length)))


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MiB):
            h.update(chunk)
    return os.path.getsize(path), h.hexdigest()


def allocated(path):
    return os.stat(path).st_blocks * 512


SHAPES = {
    # name: (size, extents)
    "holes-between-data": (8 * MiB, [(0, 4096), (3 * MiB + 5, 70000), (8 * MiB - 100, 100)]),
    "leading-hole": (4 * MiB + 333, [(2 * MiB + 1, 1)]),
    "all-hole": (16 * MiB, []),
    "tail-not-512-aligned": (1 * MiB + 1, [(1 * MiB - 10, 11)]),
    "dense-start-sparse-end": (6 * MiB, [(0, 2 * MiB)]),
}

WINDOWS = [
    [],
    ["bs=1M"],
    ["bs=777", "skip=3000", "count=9000"],
    ["bs=64k", "skip=40", "count=10"],
    ["bs=1", "skip=3145733", "count=70000"],
    ["bs=4096", "skip=512"],
]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w) or "whole")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sparse_input_matches_qemu_img(tmp_path, cordon_bin, qemu_img, sandbox, shape, window):
    size, extents = SHAPES[shape]
    src = tmp_path / "in.raw"
    make_sparse(src, size, extents)
    q = subprocess.run([qemu_img, "dd", *window, f"if={src}", f"of={tmp_path / 'q.raw'}"],
                       capture_output=True, text=True, timeout=300)
    c = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", *window,
                        f"if={src}", f"of={tmp_path / 'c.raw'}"],
                       capture_output=True, text=True, timeout=300)
    assert (c.returncode, c.stderr.replace("cordon:", "qemu-img:")) == (q.returncode, q.stderr)
    assert digest(tmp_path / "c.raw") == digest(tmp_path / "q.raw")
    data = sum(length for _, length in extents)
    # Holes stay holes: at most the data plus a block of slack per extent.
    assert allocated(tmp_path / "c.raw") <= data + 8192 * (len(extents) + 1)


def test_large_sparse_window(tmp_path, cordon_bin, qemu_img, sandbox):
    """A 6 GiB virtual size: offsets beyond 32 bits, a window in the middle."""
    src = tmp_path / "big.raw"
    make_sparse(src, 6 << 30, [(5 << 30, 4096), ((4 << 30) + 12345, 999)])
    window = ["bs=1M", "skip=4095", "count=5121"]
    q = subprocess.run([qemu_img, "dd", *window, f"if={src}", f"of={tmp_path / 'q.raw'}"],
                       capture_output=True, timeout=600)
    c = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", *window,
                        f"if={src}", f"of={tmp_path / 'c.raw'}"], capture_output=True, timeout=600)
    assert q.returncode == 0 and c.returncode == 0, c.stderr
    assert digest(tmp_path / "c.raw") == digest(tmp_path / "q.raw")
    assert allocated(tmp_path / "c.raw") <= 64 * 1024


def test_output_is_flushed_and_complete_when_host_copy_is_off(tmp_path, cordon_bin, sandbox):
    """CORDON_HOST_COPY=0 moves every byte through the sandbox: same bytes."""
    src = tmp_path / "in.raw"
    make_sparse(src, 9 * MiB + 17, [(1, 5 * MiB), (7 * MiB, 3)])
    env = dict(os.environ, CORDON_HOST_COPY="0")
    c = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "bs=1000",
                        f"if={src}", f"of={tmp_path / 'c.raw'}"], env=env,
                       capture_output=True, timeout=300)
    assert c.returncode == 0, c.stderr
    want = src.read_bytes() + bytes(-(9 * MiB + 17) % 512)
    assert (tmp_path / "c.raw").read_bytes() == want
