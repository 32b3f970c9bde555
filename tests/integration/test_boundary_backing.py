"""
Backing-file names are chosen by whoever made the image.  These are the
hardening issue's items 1-3 as an attacker would try them: a name on a hung
FUSE mount, a FIFO or device, a private key beside the image, the host's
own descriptors through /proc/self/fd, and names used as an oracle of which
host files exist.  Each ends in one refusal line, exit status 1, no output;
allowed chains still read exactly as qemu-img reads them.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CORDON_TEST, ROOT, hostile_env


def qemu_img(*args, cwd):
    subprocess.run(["qemu-img", *args], cwd=cwd, check=True, capture_output=True)


def overlay(cwd, name, backing, fmt="raw", size="1M"):
    """An overlay naming `backing` without checking it exists (-u)."""
    qemu_img("create", "-q", "-u", "-f", "qcow2", "-b", backing, "-F", fmt, name, size,
             cwd=cwd)


def cordon(binary, sandbox, cwd, *args, env=None, timeout=60):
    e = dict(os.environ, **(env or {}))
    start = time.monotonic()
    p = subprocess.run([str(binary), "dd", f"--sandbox={sandbox}", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=timeout, env=e)
    return p.returncode, p.stderr, time.monotonic() - start


def refused(cordon_bin, sandbox, cwd, image, rule, *opts, env=None):
    rc, err, _ = cordon(cordon_bin, sandbox, cwd, *opts, f"if={image}", "of=out.raw", env=env)
    assert rc == 1, err
    assert err.count("\n") == 1, err
    assert "Could not open backing file: cordon refuses " in err, err
    assert rule in err, err
    assert not (cwd / "out.raw").exists()
    assert not [p for p in os.listdir(cwd) if p.startswith(".cordon-tmp-")]


@pytest.fixture
def img(tmp_path):
    d = tmp_path / "img"
    d.mkdir()
    (d / "base.raw").write_bytes(b"\x42" * 65536)
    return d


def test_private_key_beside_the_image_is_refused(img, cordon_bin, sandbox):
    """The red team's case: `.ssh/id_rsa` as a raw backing file."""
    (img / ".ssh").mkdir()
    (img / ".ssh" / "id_rsa").write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    overlay(img, "rel.qcow2", ".ssh/id_rsa")
    overlay(img, "abs.qcow2", str(img / ".ssh" / "id_rsa"))
    refused(cordon_bin, sandbox, img, "rel.qcow2", "it is hidden")
    refused(cordon_bin, sandbox, img, "abs.qcow2", "it is hidden")
    # Even with the image's directory allowed, and below.
    refused(cordon_bin, sandbox, img, "rel.qcow2", "it is hidden",
            f"--backing-allow={img}")


def test_only_the_image_directory_itself_by_default(img, cordon_bin, sandbox):
    (img / "sub").mkdir()
    (img / "sub" / "deep.raw").write_bytes(b"\x11" * 4096)
    overlay(img, "ov.qcow2", "sub/deep.raw", size="4096")
    refused(cordon_bin, sandbox, img, "ov.qcow2", "in a subdirectory of the image's directory")
    rc, err, _ = cordon(cordon_bin, sandbox, img, f"--backing-allow={img}", "if=ov.qcow2",
                        "of=out.raw")
    assert rc == 0, err
    assert (img / "out.raw").read_bytes() == b"\x11" * 4096


def test_backing_allow_none_refuses_every_backing_file(img, cordon_bin, sandbox):
    overlay(img, "ov.qcow2", "base.raw")
    rule = "backing files are not allowed (--backing-allow=none)"
    refused(cordon_bin, sandbox, img, "ov.qcow2", rule, "--backing-allow=none")
    refused(cordon_bin, sandbox, img, "ov.qcow2", rule, env={"CORDON_BACKING_ALLOW": "none"})
    rc, err, _ = cordon(cordon_bin, sandbox, img, "--backing-allow=none",
                        f"--backing-allow={img}", "if=ov.qcow2", "of=out.raw")
    assert rc == 1 and "cannot be combined" in err
    # A standalone image needs no backing file: unaffected.
    rc, err, _ = cordon(cordon_bin, sandbox, img, "--backing-allow=none", "if=base.raw",
                        "of=out.raw")
    assert rc == 0, err


def test_environment_names_allowed_directories(tmp_path, img, cordon_bin, sandbox):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "b.raw").write_bytes(b"\x33" * 4096)
    overlay(img, "ov.qcow2", str(shared / "b.raw"), size="4096")
    refused(cordon_bin, sandbox, img, "ov.qcow2", "outside the directories")
    rc, err, _ = cordon(cordon_bin, sandbox, img, "if=ov.qcow2", "of=out.raw",
                        env={"CORDON_BACKING_ALLOW": f"/nonexistent-x:{shared}"})
    assert rc == 1 and "--backing-allow: '/nonexistent-x'" in err
    rc, err, _ = cordon(cordon_bin, sandbox, img, "if=ov.qcow2", "of=out.raw",
                        env={"CORDON_BACKING_ALLOW": str(shared)})
    assert rc == 0, err
    assert (img / "out.raw").read_bytes() == b"\x33" * 4096


def test_openstack_base_chain_reads_like_qemu_img(tmp_path, cordon_bin, sandbox):
    """Nova's layout: instances/<uuid>/disk names ../_base/<hash>."""
    inst = tmp_path / "instances"
    (inst / "_base").mkdir(parents=True)
    (inst / "uuid").mkdir()
    (inst / "_base" / "0123abcd").write_bytes(os.urandom(1 << 20))
    overlay(inst / "uuid", "disk", "../_base/0123abcd")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5c 8192 4096", "disk"],
                   cwd=inst / "uuid", check=True, capture_output=True)
    refused(cordon_bin, sandbox, inst / "uuid", "disk", "outside the directories")
    q = subprocess.run(["qemu-img", "dd", "if=disk", "of=q.raw"], cwd=inst / "uuid",
                       capture_output=True)
    rc, err, _ = cordon(cordon_bin, sandbox, inst / "uuid", f"--backing-allow={inst / '_base'}",
                        "if=disk", "of=c.raw")
    assert q.returncode == 0 and rc == 0, err
    assert (inst / "uuid" / "c.raw").read_bytes() == (inst / "uuid" / "q.raw").read_bytes()


def test_fifo_and_devices_are_never_opened(img, cordon_bin, sandbox):
    """A FIFO's writer stays blocked: cordon never opened it for reading."""
    os.mkfifo(img / "fifo")
    os.mknod(img / "null", 0o600 | 0o020000, os.makedev(1, 3))  # a /dev/null
    overlay(img, "f.qcow2", "fifo")
    overlay(img, "d.qcow2", "null")
    writer = subprocess.Popen(["python3", "-c", f"open({str(img / 'fifo')!r}, 'w')"])
    # Until the writer sleeps in open(): then any reader would release it.
    wchan = Path(f"/proc/{writer.pid}/wchan")
    for _ in range(500):
        if "partner" in wchan.read_text() or "fifo" in wchan.read_text():
            break
        time.sleep(0.01)
    try:
        refused(cordon_bin, sandbox, img, "f.qcow2", "it is not a regular file")
        refused(cordon_bin, sandbox, img, "d.qcow2", "it is not a regular file")
        time.sleep(0.2)
        assert writer.poll() is None, "the FIFO was opened for reading"
    finally:
        writer.kill()
        writer.wait()


def test_symlinks_and_magic_links_do_not_lead_out(tmp_path, img, cordon_bin, sandbox):
    (tmp_path / "secret").write_bytes(b"SECRET")
    os.symlink("../secret", img / "rel-out")
    os.symlink(str(tmp_path / "secret"), img / "abs-out")
    os.symlink("/proc/self/fd/3", img / "magic")
    for name in ("rel-out", "abs-out", "magic", "/proc/self/fd/3", "/proc/self/environ"):
        overlay(img, "ov.qcow2", name)
        refused(cordon_bin, sandbox, img, "ov.qcow2", "outside the directories")
        os.unlink(img / "ov.qcow2")


@pytest.fixture
def fuse_mount(tmp_path):
    """A FUSE file system that never answers OPEN, mounted at tmp/mnt."""
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("mounting FUSE needs root and /dev/fuse")
    tool = tmp_path / "fusehang"
    subprocess.run(["gcc", "-O1", "-o", str(tool), str(ROOT / "tests" / "tools" / "fusehang.c")],
                   check=True, capture_output=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    server = subprocess.Popen([str(tool), str(mnt)], stderr=subprocess.PIPE)
    for _ in range(100):
        if os.path.ismount(mnt):
            break
        time.sleep(0.05)
    else:
        server.kill()
        pytest.skip("the FUSE test file system did not mount here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    server.send_signal(signal.SIGKILL)
    server.wait()


def test_name_on_a_hung_mount_never_hangs_the_host(tmp_path, img, fuse_mount, cordon_bin,
                                                   sandbox):
    """The red team's fusehang: open() there never returns, even to SIGKILL.
    cordon refuses without opening (another mount: RESOLVE_NO_XDEV), within
    seconds, and the watchdog is not what saves it."""
    os.symlink(str(fuse_mount), img / "mnt")
    overlay(img, "abs.qcow2", str(fuse_mount / "base.raw"))
    overlay(img, "via-link.qcow2", "mnt/base.raw")
    # Outside every allowed directory; through a symlink out of one; and
    # below an allowed directory, across the mount point (RESOLVE_NO_XDEV).
    for image, allow in (("abs.qcow2", img), ("via-link.qcow2", img),
                         ("abs.qcow2", tmp_path)):
        rc, err, elapsed = cordon(cordon_bin, sandbox, img, "--sandbox-timeout=30",
                                  f"--backing-allow={allow}", f"if={image}", "of=out.raw",
                                  timeout=20)
        assert rc == 1 and "cordon refuses" in err, err
        assert elapsed < 10


def probe_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("cordon: warning: probe ")]


def test_refusals_tell_the_sandbox_nothing(tmp_path, sandbox):
    """A subverted sandbox asks for host files by name: secret, missing,
    a directory, a device, its host's descriptors (the temporary output
    among them).  It gets -EACCES for each, whatever the reason."""
    (tmp_path / "in.raw").write_bytes(os.urandom(4096))
    (tmp_path / ".hidden").write_bytes(b"x")
    env = hostile_env(sandbox, "backing_probe", "backing-probe")
    p = subprocess.run([str(CORDON_TEST), "dd", "if=in.raw", "of=out.raw"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    lines = probe_lines(p.stderr)
    assert len(lines) >= 16, p.stderr
    assert all(l.endswith(": -13") for l in lines), p.stderr
    assert sorted(os.listdir(tmp_path)) == [".hidden", "in.raw"]
