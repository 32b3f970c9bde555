"""
Backing files named inside images are attacker-chosen.  cordon opens them
only where policy allows (docs/dd.md, "Backing files"): these are real qcow2
images made by qemu-img that name files they must not reach, and chains
that are allowed.  Each refusal is one clear line, exit 1, no output.
"""
import os
import subprocess

import pytest


def qemu_img(*args, cwd):
    subprocess.run(["qemu-img", *args], cwd=cwd, check=True, capture_output=True)


def overlay(cwd, name, backing, fmt="raw", size="1M"):
    """An overlay naming `backing` without checking it exists (-u)."""
    qemu_img("create", "-q", "-u", "-f", "qcow2", "-b", backing, "-F", fmt, name, size, cwd=cwd)


def cordon(cordon_bin, sandbox, cwd, *args):
    p = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", *args],
                       cwd=cwd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stderr


@pytest.fixture
def tree(tmp_path):
    """img/ holds the images; secret/ beside it must stay unreachable."""
    (tmp_path / "img").mkdir()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key").write_bytes(b"SECRET" * 100)
    (tmp_path / "img" / "base.raw").write_bytes(os.urandom(1 << 20))
    return tmp_path


REFUSALS = [
    # (backing name, expected rule text)
    ("/etc/passwd", "it is outside the directories images may name"),
    ("../secret/key", "it is outside the directories images may name"),
    ("link-out", "it is outside the directories images may name"),
    ("sub", "it is not a regular file"),
    ("fifo", "it is not a regular file"),
    ("nbd:localhost:10809", "cordon opens plain file names only"),
]


@pytest.mark.parametrize("backing,rule", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_backing_files(tree, cordon_bin, sandbox, backing, rule):
    img = tree / "img"
    os.symlink("../secret/key", img / "link-out")
    (img / "sub").mkdir()
    os.mkfifo(img / "fifo")
    overlay(img, "ov.qcow2", backing)
    rc, err = cordon(cordon_bin, sandbox, img, "if=ov.qcow2", "of=out.raw")
    assert rc == 1
    assert err.startswith("cordon: Could not open 'ov.qcow2': Could not open backing file: "
                          "cordon refuses "), err
    assert rule in err
    assert err.count("\n") == 1
    assert not (img / "out.raw").exists()


def test_loop_is_refused_where_qemu_img_hangs(tree, cordon_bin, sandbox):
    img = tree / "img"
    overlay(img, "a.qcow2", "b.qcow2", fmt="qcow2")
    overlay(img, "b.qcow2", "a.qcow2", fmt="qcow2")
    rc, err = cordon(cordon_bin, sandbox, img, "if=a.qcow2", "of=out.raw")
    assert rc == 1
    assert "cordon refuses 'a.qcow2': it is already in the backing chain (a loop)" in err
    assert not (img / "out.raw").exists()


def test_chain_longer_than_16_is_refused(tree, cordon_bin, sandbox):
    img = tree / "img"
    prev, fmt = "base.raw", "raw"
    for i in range(18):
        overlay(img, f"l{i}.qcow2", prev, fmt=fmt)
        prev, fmt = f"l{i}.qcow2", "qcow2"
    rc, err = cordon(cordon_bin, sandbox, img, f"if={prev}", "of=out.raw")
    assert rc == 1
    assert "the backing chain is longer than 16 links" in err
    # 16 links are fine: l15 has base.raw 16 links below it.
    rc, err = cordon(cordon_bin, sandbox, img, "if=l14.qcow2", "of=ok.raw")
    assert rc == 0, err


def test_backing_allow_opens_another_directory(tree, cordon_bin, sandbox):
    img = tree / "img"
    shared = tree / "shared"
    shared.mkdir()
    (shared / "base.raw").write_bytes(b"\x5a" * 4096)
    overlay(img, "ov.qcow2", str(shared / "base.raw"), size="4096")
    rc, err = cordon(cordon_bin, sandbox, img, "if=ov.qcow2", "of=no.raw")
    assert rc == 1 and "outside the directories" in err
    rc, err = cordon(cordon_bin, sandbox, img, f"--backing-allow={shared}",
                     "if=ov.qcow2", "of=yes.raw")
    assert rc == 0, err
    assert (img / "yes.raw").read_bytes() == b"\x5a" * 4096


def test_subdirectory_and_relative_names_match_qemu_img(tree, cordon_bin, sandbox):
    """A chain across sub/, allowed with --backing-allow: bytes identical to
    qemu-img dd."""
    img = tree / "img"
    (img / "sub").mkdir()
    os.rename(img / "base.raw", img / "sub" / "base.raw")
    overlay(img / "sub", "mid.qcow2", "base.raw")
    overlay(img, "top.qcow2", "sub/mid.qcow2", fmt="qcow2")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x33 4096 8192", "top.qcow2"],
                   cwd=img, check=True, capture_output=True)
    q = subprocess.run(["qemu-img", "dd", "if=top.qcow2", "of=q.raw"], cwd=img,
                       capture_output=True)
    rc, err = cordon(cordon_bin, sandbox, img, "if=top.qcow2", "of=c.raw")
    assert rc == 1 and "in a subdirectory of the image's directory" in err
    rc, err = cordon(cordon_bin, sandbox, img, f"--backing-allow={img}", "if=top.qcow2",
                     "of=c.raw")
    assert q.returncode == 0 and rc == 0, err
    assert (img / "c.raw").read_bytes() == (img / "q.raw").read_bytes()


def test_missing_backing_file_reads_like_qemu_img(tree, cordon_bin, sandbox):
    img = tree / "img"
    (img / "sub").mkdir()
    overlay(img / "sub", "ov.qcow2", "missing.raw")
    q = subprocess.run(["qemu-img", "dd", "if=sub/ov.qcow2", "of=q.raw"], cwd=img,
                       capture_output=True, text=True)
    rc, err = cordon(cordon_bin, sandbox, img, "if=sub/ov.qcow2", "of=c.raw")
    assert (rc, err.replace("cordon:", "qemu-img:")) == (q.returncode, q.stderr)
