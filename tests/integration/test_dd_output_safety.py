"""
What `cordon dd` does to files that already exist: a failing run never
destroys an existing output and leaves no new one behind; a successful run
replaces the output and keeps its permission bits (as qemu-img does); the
input is never the output.  These assert cordon's behaviour; where qemu-img
agrees, the test checks that too.
"""
import os
import stat

import pytest

from conftest import data

OLD = b"precious old output\n" * 100
INPUT = data(1500)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "in.raw").write_bytes(INPUT)
    return tmp_path


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(where, expected):
    """Anything but the named files: temporaries the run left behind."""
    return sorted(set(os.listdir(where)) - set(expected))


@pytest.mark.parametrize("args", [
    pytest.param(["-f", "foo", "if=in.raw"], id="bad-input-format"),
    pytest.param(["-O", "foo", "if=in.raw"], id="bad-output-format"),
    pytest.param(["if=missing"], id="missing-input"),
    pytest.param(["bs=0", "if=in.raw"], id="bad-operand"),
    pytest.param(["-f", "qcow2", "if=in.raw"], id="wrong-input-format"),
])
def test_failure_keeps_existing_output(files, run_cordon, args):
    out = files / "out.raw"
    out.write_bytes(OLD)
    out.chmod(0o640)
    c = run_cordon([*args, "of=out.raw"], files)
    assert c.rc == 1
    assert out.read_bytes() == OLD
    assert mode(out) == 0o640
    assert leftovers(files, ["in.raw", "out.raw"]) == []


@pytest.mark.parametrize("args", [
    pytest.param(["-f", "foo", "if=in.raw"], id="bad-input-format"),
    pytest.param(["-O", "foo", "if=in.raw"], id="bad-output-format"),
    pytest.param(["if=missing"], id="missing-input"),
    pytest.param(["-f", "qcow2", "if=in.raw"], id="wrong-input-format"),
])
def test_failure_leaves_no_new_output(files, run_cordon, args):
    c = run_cordon([*args, "of=out.raw"], files)
    assert c.rc == 1
    assert leftovers(files, ["in.raw"]) == []


def test_short_timeout_is_a_clean_failure_or_success(files, run_cordon):
    """Whatever the watchdog does, there is never a half output."""
    c = run_cordon(["if=in.raw", "of=out.raw"], files,
                   extra_env={"CORDON_SANDBOX_TIMEOUT": "1"})
    if c.rc == 0:
        assert (files / "out.raw").read_bytes()[:1500] == INPUT
    else:
        assert leftovers(files, ["in.raw"]) == []


@pytest.mark.parametrize("old_mode", [0o600, 0o640, 0o755])
def test_success_replaces_output_and_keeps_mode(files, tmp_path_factory,
                                                run_cordon, run_qemu, old_mode):
    args = ["bs=1k", "count=1", "if=in.raw", "of=out.raw"]
    qdir = tmp_path_factory.mktemp("qemu")
    for where in (files, qdir):
        (where / "in.raw").write_bytes(INPUT)
        (where / "out.raw").write_bytes(OLD)
        (where / "out.raw").chmod(old_mode)
    c = run_cordon(args, files)
    q = run_qemu(args, qdir)
    assert (c.rc, q.rc) == (0, 0)
    assert (files / "out.raw").read_bytes() == (qdir / "out.raw").read_bytes()
    assert (files / "out.raw").read_bytes() == INPUT[:1024]
    assert mode(files / "out.raw") == mode(qdir / "out.raw") == old_mode
    assert leftovers(files, ["in.raw", "out.raw"]) == []


def test_new_output_mode_matches_qemu_img(files, tmp_path_factory, run_cordon,
                                          run_qemu):
    qdir = tmp_path_factory.mktemp("qemu")
    (qdir / "in.raw").write_bytes(INPUT)
    assert run_cordon(["if=in.raw", "of=out.raw"], files).rc == 0
    assert run_qemu(["if=in.raw", "of=out.raw"], qdir).rc == 0
    assert mode(files / "out.raw") == mode(qdir / "out.raw")


def same_path(where):
    return "in.raw"


def via_symlink(where):
    os.symlink("in.raw", where / "link.raw")
    return "link.raw"


def via_hard_link(where):
    os.link(where / "in.raw", where / "hard.raw")
    return "hard.raw"


def via_dot_path(where):
    (where / "sub").mkdir()
    return "sub/../in.raw"


@pytest.mark.parametrize("alias", [same_path, via_symlink, via_hard_link,
                                   via_dot_path])
def test_input_is_never_the_output(files, run_cordon, alias):
    """qemu-img would truncate and rewrite a raw input here; cordon refuses."""
    out = alias(files)
    c = run_cordon(["if=in.raw", f"of={out}"], files)
    assert c.rc == 1
    assert c.stderr.startswith("PROG: ")
    assert (files / "in.raw").read_bytes() == INPUT
    assert leftovers(files, ["in.raw", "link.raw", "hard.raw", "sub"]) == []


def test_output_naming_the_inputs_backing_file_gets_the_right_data(tmp_path, run_cordon,
                                                                    run_qemu):
    """of= names the backing file of the input (docs/dd.md): qemu-img
    truncates it before reading through it and writes zeros; cordon writes
    a temporary and renames it over the backing file last, so it reads the
    backing file as it was and writes the input's disk."""
    import subprocess
    from conftest import QEMU_IMG, populate
    base = data(1 << 20, seed=9)
    for d in ("qemu", "cordon"):
        populate(tmp_path / d, {"base.raw": base})
        subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F",
                        "raw", "top.qcow2"], cwd=tmp_path / d, check=True)
    args = ["if=top.qcow2", "of=base.raw", "bs=64k"]
    q = run_qemu(args, tmp_path / "qemu")
    c = run_cordon(args, tmp_path / "cordon")
    assert (q.rc, c.rc, c.stderr) == (0, 0, "")
    assert q.files["base.raw"] == bytes(len(base))  # qemu-img: zeros
    assert c.files["base.raw"] == base              # cordon: the disk
