"""
QEMU's image locks (docs/locking.md): with the input or output held by a
running QEMU (a real qemu-io in the background) or by a bare holder of
single lock bytes, cordon dd and qemu-img dd must agree on exit status,
messages and files, with and without -U.
"""
import os
import subprocess
import sys
import time

import pytest

from conftest import data, describe, populate

QEMU_IO = "qemu-io"

# Holds OFD read locks on the bytes given (or, with "w", an exclusive lock),
# as QEMU does, then waits to be killed.
HOLDER = r"""
import fcntl, os, struct, sys, time
path, mode, *nums = sys.argv[1:]
fd = os.open(path, os.O_RDWR if mode == "w" else os.O_RDONLY)
kind = fcntl.F_WRLCK if mode == "w" else fcntl.F_RDLCK
for b in nums:
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", kind, 0, int(b), 1, 0))
time.sleep(3600)
"""


def held_bytes(path):
    """Lock bytes held on path's inode, from /proc/locks."""
    st = os.stat(path)
    ino = st.st_ino
    out = set()
    with open("/proc/locks") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[1] == "OFDLCK" and \
                    int(fields[5].rsplit(":", 1)[1]) == ino:
                out.update(range(int(fields[6]), int(fields[7]) + 1))
    return out


class Holder:
    """A process holding locks on a file until stopped (by its own pid)."""

    def __init__(self, argv, path, want):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not want <= held_bytes(path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{argv} did not lock {sorted(want)} on {path}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def qemu_io_rw(path, fmt):
    """A running QEMU with the image open read-write."""
    return Holder([QEMU_IO, "-f", fmt, "-c", "sleep 3600000", str(path)],
                  path, {100, 101})


def hold(path, *nums, mode="r"):
    return Holder([sys.executable, "-c", HOLDER, str(path), mode,
                   *map(str, nums)], path, set(nums))


@pytest.fixture
def locked_compare(tmp_path, run_cordon, run_qemu):
    """locked_compare(args, inputs, lock) runs args through both tools, each
    in its own directory while lock(dir) holds something there."""
    def compare(args, inputs, lock):
        results = []
        for name, run in (("qemu", run_qemu), ("cordon", run_cordon)):
            where = tmp_path / name
            populate(where, inputs)
            holder = lock(where)
            try:
                results.append(run(args, where))
            finally:
                holder.stop()
        q, c = results
        assert c.rc == q.rc, describe("exit status", q, c)
        assert c.stderr == q.stderr, describe("stderr", q, c)
        for name, content in q.files.items():
            if name.startswith("out"):
                assert c.files.get(name) == content, f"{name} differs"
        return q, c
    return compare


def make_qcow2(where, name="in.qcow2"):
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(where / name),
                    "1M"], check=True)


# ---- the input --------------------------------------------------------------

@pytest.mark.parametrize("share", [[], ["-U"]])
def test_raw_input_written_by_qemu(locked_compare, share):
    """qemu-img dd opens a raw input sharing write: a running QEMU writing
    it does not stop it, with or without -U."""
    q, _ = locked_compare(share + ["if=in.raw", "of=out.raw"],
                          {"in.raw": data(70000)},
                          lambda d: qemu_io_rw(d / "in.raw", "raw"))
    assert q.rc == 0


@pytest.mark.parametrize("share", [[], ["-U"]])
def test_input_read_not_shared(locked_compare, share):
    """Someone refusing to share consistent read (byte 200) stops every
    reader, -U or not: 'Failed to get "consistent read" lock'."""
    q, _ = locked_compare(share + ["if=in.raw", "of=out.raw"],
                          {"in.raw": data(4096)},
                          lambda d: hold(d / "in.raw", 200))
    assert q.rc == 1
    assert q.stderr == ("PROG: Could not open 'in.raw': Failed to get "
                        "\"consistent read\" lock\n"
                        "Is another process using the image [in.raw]?\n")


def test_input_locked_exclusively(locked_compare):
    """A lock byte that cannot even be shared: no hint line."""
    q, _ = locked_compare(["if=in.raw", "of=out.raw"], {"in.raw": data(4096)},
                          lambda d: hold(d / "in.raw", 100, mode="w"))
    assert q.stderr == "PROG: Could not open 'in.raw': Failed to lock byte 100\n"


def test_other_bytes_ignored(locked_compare):
    """Bytes a raw input is not checked against: 100-104, 201-204."""
    locked_compare(["if=in.raw", "of=out.raw"], {"in.raw": data(4096)},
                   lambda d: hold(d / "in.raw", 100, 101, 102, 103, 104,
                                  201, 202, 203, 204))


def test_qcow2_input_written_by_qemu_with_U(locked_compare, tmp_path):
    """-U: a qcow2 input another QEMU writes is read anyway."""
    def lock(d):
        make_qcow2(d)
        return qemu_io_rw(d / "in.qcow2", "qcow2")
    q, _ = locked_compare(["-U", "if=in.qcow2", "of=out.raw"], {}, lock)
    assert q.rc == 0


def test_qcow2_input_written_by_qemu(locked_compare):
    """A format with metadata does not share write: 'Failed to get shared
    "write" lock'."""
    def lock(d):
        make_qcow2(d)
        return qemu_io_rw(d / "in.qcow2", "qcow2")
    q, _ = locked_compare(["if=in.qcow2", "of=out.raw"], {}, lock)
    assert q.rc == 1 and "Failed to get shared \"write\" lock" in q.stderr


# ---- the output -------------------------------------------------------------

def test_output_written_by_qemu(locked_compare):
    """qemu-img dd of= a file a QEMU is writing: allowed (write is shared)."""
    q, _ = locked_compare(["if=in.raw", "of=out.raw"],
                          {"in.raw": data(4096), "out.raw": data(512, seed=2)},
                          lambda d: qemu_io_rw(d / "out.raw", "raw"))
    assert q.rc == 0


@pytest.mark.parametrize("byte,msg", [
    (201, 'out.raw: error while creating output image: Failed to get "write" lock'),
    (103, 'out.raw: error while creating output image: Failed to get shared "resize" lock'),
    (200, "Could not open 'out.raw': Failed to get \"consistent read\" lock"),
])
def test_output_refused(tmp_path, run_cordon, run_qemu, byte, msg):
    """Conflicts on an existing output.  qemu-img has then already created
    (truncated) it when the open fails; cordon leaves it alone, so only
    the exit status and the messages are compared."""
    results = []
    for name, run in (("qemu", run_qemu), ("cordon", run_cordon)):
        where = tmp_path / name
        populate(where, {"in.raw": data(4096), "out.raw": data(512, seed=2)})
        holder = hold(where / "out.raw", byte)
        try:
            results.append(run(["if=in.raw", "of=out.raw"], where))
        finally:
            holder.stop()
    q, c = results
    assert q.rc == 1
    assert q.stderr == f"PROG: {msg}\nIs another process using the image [out.raw]?\n"
    assert (c.rc, c.stderr) == (q.rc, q.stderr), describe("result", q, c)
