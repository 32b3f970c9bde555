"""
Shared fixtures for cordon's integration tests: the real binary against the
real qemu-img (Debian's qemu-utils), run on identical files in separate
directories with identical relative names.

    def test_x(dd_compare):
        dd_compare(["bs=1k", "if=in.raw", "of=out.raw"], {"in.raw": data(1500)})

compares exit status, stdout, stderr (program names normalised) and every file left
in the directory afterwards (so inputs must be unchanged and failures must
leave no output behind, in both).
"""
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One rule for comparing messages, shared with scripts/differential-fuzz.py.
sys.path.insert(0, str(ROOT / "scripts"))
from cordon_messages import normalise  # noqa: E402
CORDON = ROOT / "build" / "cordon"
QEMU_IMG = shutil.which("qemu-img")
TIMEOUT = 120

# A directory in an input spec: {"d": DIR}.
DIR = object()


def data(size, seed=1):
    """Deterministic non-zero-ish bytes: every size gets the same prefix."""
    return random.Random(seed).randbytes(size)


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"/dev/kvm unusable here: {e.strerror}"
    os.close(fd)
    return True, ""


CORDON_TEST = ROOT / "build" / "cordon-test"
PAYLOADS = ROOT / "build" / "payloads"


def hostile_env(sandbox, payload, misbehaviour, **extra):
    """The environment for build/cordon-test to run a sandbox that breaks a
    rule on purpose: a guest payload (tests/guest_payloads) under KVM, a
    misbehaviour of the process sandbox's helper otherwise."""
    if not CORDON_TEST.exists():
        pytest.fail(f"{CORDON_TEST} is not built (make test-build)")
    env = dict(os.environ, CORDON_SANDBOX=sandbox, **extra)
    if sandbox == "kvm":
        env["CORDON_TEST_GUEST"] = str(PAYLOADS / f"{payload}.bin")
    else:
        env["CORDON_TEST_MISBEHAVE"] = misbehaviour
    return env


def assert_confined_while_running(proc):
    """proc's host process installs its seccomp filter (with no_new_privs)
    while it serves the sandbox; proc is killed afterwards."""
    import time
    try:
        status = ""
        for _ in range(200):
            status = Path(f"/proc/{proc.pid}/status").read_text()
            if "Seccomp:\t2" in status:
                break
            time.sleep(0.01)
        assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status, status
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def cordon_bin():
    if not CORDON.exists():
        pytest.fail(f"{CORDON} is not built (make build/cordon)")
    return CORDON


@pytest.fixture(scope="session")
def qemu_img():
    if QEMU_IMG is None:
        pytest.fail("qemu-img is not installed (make setup)")
    return QEMU_IMG


@pytest.fixture(params=["process", "kvm"])
def sandbox(request):
    """Every test that runs cordon runs once per sandbox kind."""
    if request.param == "kvm":
        ok, why = kvm_usable()
        if not ok:
            pytest.skip(why)
    return request.param


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    files: dict


def populate(where, inputs):
    where.mkdir(parents=True, exist_ok=True)
    for name, content in inputs.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(content)


def snapshot(where):
    """Every entry below where: bytes for files, DIR for directories."""
    out = {}
    for path in sorted(where.rglob("*")):
        rel = str(path.relative_to(where))
        if path.is_symlink():
            out[rel] = ("symlink", os.readlink(path))
        elif path.is_dir():
            out[rel] = "<dir>"
        else:
            out[rel] = path.read_bytes()
    return out


def run_tool(argv, cwd, prog, env=None):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT,
                       env=env)
    return Run(p.returncode, p.stdout.decode(errors="replace"),
               normalise(p.stderr.decode(errors="replace"), prog),
               snapshot(cwd))


@pytest.fixture
def run_cordon(cordon_bin, sandbox):
    """run_cordon(args, cwd, extra_env=None) -> Run, for `cordon dd args`."""
    def run(args, cwd, extra_env=None, command="dd"):
        env = dict(os.environ, CORDON_SANDBOX=sandbox)
        env.update(extra_env or {})
        argv = [str(cordon_bin)] + ([command] if command else []) + list(args)
        return run_tool(argv, cwd, "cordon", env)
    return run


@pytest.fixture
def run_qemu(qemu_img):
    def run(args, cwd, command="dd"):
        argv = [qemu_img] + ([command] if command else []) + list(args)
        return run_tool(argv, cwd, "qemu-img")
    return run


def describe(what, q, c):
    return (f"{what} differs\n--- qemu-img: rc={q.rc}\n{q.stderr}"
            f"--- cordon: rc={c.rc}\n{c.stderr}")


def short(files):
    """Sizes instead of bytes, for readable assertion messages."""
    return {k: (len(v) if isinstance(v, bytes) else v) for k, v in files.items()}


@pytest.fixture
def dd_compare(tmp_path, run_cordon, run_qemu):
    """Runs args through both tools on copies of inputs; asserts equality."""
    def compare(args, inputs, command="dd"):
        qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
        populate(qdir, inputs)
        populate(cdir, inputs)
        q = run_qemu(args, qdir, command=command)
        c = run_cordon(args, cdir, command=command)
        assert c.rc == q.rc, describe("exit status", q, c)
        assert c.stderr == q.stderr, describe("stderr", q, c)
        assert c.stdout == q.stdout, "stdout differs"
        if q.files != c.files:
            assert short(c.files) == short(q.files), "files differ"
            for name in q.files:
                assert c.files[name] == q.files[name], f"{name}: bytes differ"
        return q, c
    return compare
