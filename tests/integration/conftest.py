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
import hashlib
import os
import pickle
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
    """Every test that runs cordon runs once per sandbox kind (KVM: a
    subset of the large matrices, see pytest_collection_modifyitems)."""
    if request.param == "kvm":
        ok, why = kvm_usable()
        if not ok:
            pytest.skip(why)
    return request.param


# Both sandboxes serve the same hostcall server; what the KVM runs add is
# the transport.  Large parametrized matrices run in full under the process
# sandbox and one case in KVM_SAMPLE under KVM; CORDON_KVM_ALL=1 runs all.
KVM_SAMPLE = 4
KVM_MATRIX = 8  # a test with more KVM cases than this is a matrix


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: cases over 1 GiB (make integration-slow)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CORDON_KVM_ALL") == "1":
        return
    groups = {}
    for item in items:
        params = getattr(item, "callspec", None)
        if params and params.params.get("sandbox") == "kvm":
            groups.setdefault(item.originalname or item.name, []).append(item)
    dropped = []
    for group in groups.values():
        if len(group) > KVM_MATRIX:
            dropped += [it for i, it in enumerate(group) if i % KVM_SAMPLE]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        keep = set(map(id, dropped))
        items[:] = [it for it in items if id(it) not in keep]


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
def drop_files_afterwards(tmp_path):
    """For tests whose images and outputs run to tens of MiB each (qemu-img
    writes blocks densely): nothing is kept once a case has passed or
    failed (`pytestmark = pytest.mark.usefixtures(...)`)."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture(scope="session")
def oracle_cache(tmp_path_factory):
    """qemu-img's results by what they depend on, shared by every xdist
    worker: a case is run once by the oracle, not once per sandbox."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    d = root / "qemu-oracle"
    d.mkdir(exist_ok=True)
    return d


def oracle_key(argv, inputs):
    h = hashlib.sha256(repr(argv).encode())
    for name in sorted(inputs):
        content = inputs[name]
        h.update(name.encode() + b"\0")
        h.update(b"<dir>" if content is DIR else hashlib.sha256(content).digest())
    return h.hexdigest()


@pytest.fixture
def run_qemu(qemu_img, oracle_cache):
    """run(args, cwd, command, inputs=None): with the inputs that populated
    cwd given, the result is cached for the next sandbox's run."""
    def run(args, cwd, command="dd", inputs=None):
        argv = [qemu_img] + ([command] if command else []) + list(args)
        if inputs is None:
            return run_tool(argv, cwd, "qemu-img")
        path = oracle_cache / oracle_key(argv, inputs)
        if path.exists():
            return pickle.loads(path.read_bytes())
        result = run_tool(argv, cwd, "qemu-img")
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_bytes(pickle.dumps(result))
        os.replace(tmp, path)
        return result
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
        q = run_qemu(args, qdir, command=command, inputs=inputs)
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
