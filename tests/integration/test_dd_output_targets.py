"""
What of= may name, against the real qemu-img (the hardening issue's items 5
and 6): a FIFO fails at once in qemu-img's words instead of hanging; a
symlink is followed exactly when the kernel lets qemu-img's own open()
follow it (fs.protected_symlinks, fs.protected_regular in a sticky
world-writable directory), and the file it leads to is replaced -- never the
link -- with cordon's temporary-file-and-rename safety kept.
"""
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import data

INPUT = data(70000)


def run(tool, cwd, *args, timeout=30):
    start = time.monotonic()
    p = subprocess.run([str(tool), "dd", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stderr.replace("cordon:", "PROG:").replace("qemu-img:", "PROG:"), \
        time.monotonic() - start


@pytest.fixture
def pair(tmp_path):
    """Two identical directories, one per tool."""
    dirs = []
    for name in ("qemu", "cordon"):
        d = tmp_path / name
        d.mkdir()
        (d / "in.raw").write_bytes(INPUT)
        dirs.append(d)
    return dirs


def both(pair, cordon_bin, sandbox, *args):
    q = run("qemu-img", pair[0], *args)
    c = run(cordon_bin, pair[1], f"--sandbox={sandbox}", *args)
    assert (c[0], c[1]) == (q[0], q[1]), f"qemu-img: {q}\ncordon: {c}"
    return q, c


def test_fifo_output_fails_at_once_like_qemu_img(pair, cordon_bin, sandbox):
    for d in pair:
        os.mkfifo(d / "ff")
    q, c = both(pair, cordon_bin, sandbox, "if=in.raw", "of=ff")
    assert q[0] == 1
    assert "ff: error while creating output image: Could not resize file: Invalid argument" \
        in c[1]
    assert c[2] < 10  # with the default watchdog of an hour


def test_symlink_to_existing_file_replaces_the_file(pair, cordon_bin, sandbox):
    for d in pair:
        (d / "real").mkdir()
        (d / "real" / "target.raw").write_bytes(b"old" * 100)
        os.chmod(d / "real" / "target.raw", 0o640)
        os.symlink("real/target.raw", d / "link.raw")
    both(pair, cordon_bin, sandbox, "if=in.raw", "of=link.raw")
    for d in pair:
        assert os.readlink(d / "link.raw") == "real/target.raw"
        assert (d / "real" / "target.raw").read_bytes()[:len(INPUT)] == INPUT
        assert stat.S_IMODE(os.stat(d / "real" / "target.raw").st_mode) == 0o640
    assert sorted(os.listdir(pair[1] / "real")) == ["target.raw"]


def test_dangling_symlink_creates_its_target(pair, cordon_bin, sandbox):
    for d in pair:
        (d / "real").mkdir()
        os.symlink("real/new.raw", d / "dangling.raw")
        os.symlink("dangling.raw", d / "chain.raw")
    both(pair, cordon_bin, sandbox, "if=in.raw", "of=chain.raw")
    for d in pair:
        assert os.path.islink(d / "dangling.raw") and os.path.islink(d / "chain.raw")
        assert (d / "real" / "new.raw").read_bytes()[:len(INPUT)] == INPUT
    # A dangling link into a directory that does not exist: qemu-img's error.
    for d in pair:
        os.symlink("nodir/x.raw", d / "nowhere.raw")
    q, _ = both(pair, cordon_bin, sandbox, "if=in.raw", "of=nowhere.raw")
    assert q[0] == 1


@pytest.fixture
def protected(request):
    """fs.protected_symlinks and fs.protected_regular on, as on most
    distributions; restored afterwards."""
    knobs = {k: Path(f"/proc/sys/fs/{k}") for k in ("protected_symlinks", "protected_regular")}
    try:
        old = {k: p.read_text() for k, p in knobs.items()}
        for p in knobs.values():
            p.write_text("1")
    except OSError as e:
        pytest.skip(f"cannot set fs.protected_*: {e.strerror}")
    yield
    for k, p in knobs.items():
        p.write_text(old[k])


def test_links_planted_in_a_sticky_directory(pair, cordon_bin, sandbox, protected):
    """Another user's link in a sticky world-writable directory (/tmp's
    case): qemu-img's open() is refused, and so is cordon."""
    if os.geteuid() != 0:
        pytest.skip("needs root to plant another user's files")
    for d in pair:
        sticky = d / "sticky"
        sticky.mkdir()
        os.chmod(sticky, 0o1777)
        (d / "victim.raw").write_bytes(b"precious")
        for name, target in (("ex.raw", str(d / "victim.raw")),
                             ("dang.raw", str(d / "created.raw"))):
            os.symlink(target, sticky / name)
            os.lchown(sticky / name, 65534, 65534)
        (sticky / "theirs.raw").write_bytes(b"theirs")
        os.chown(sticky / "theirs.raw", 65534, 65534)
    for name in ("ex.raw", "dang.raw", "theirs.raw"):
        q, c = both(pair, cordon_bin, sandbox, "if=in.raw", f"of=sticky/{name}")
        assert q[0] == 1 and "Permission denied" in c[1]
    for d in pair:
        assert (d / "victim.raw").read_bytes() == b"precious"
        assert not (d / "created.raw").exists()
        assert (d / "sticky" / "theirs.raw").read_bytes() == b"theirs"
    assert sorted(os.listdir(pair[1] / "sticky")) == ["dang.raw", "ex.raw", "theirs.raw"]
