"""
The process sandbox holds its boundary: a child that breaks a rule on
purpose (build/cordon-test, CORDON_TEST_MISBEHAVE) ends as a clean error,
quickly, with no output left behind.  The shipped binary has no such hook.
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import assert_confined_while_running

ROOT = Path(__file__).resolve().parents[2]
CORDON = ROOT / "build" / "cordon"
CORDON_TEST = ROOT / "build" / "cordon-test"

CASES = [
    ("open", "the sandboxed process was killed (a forbidden system call)"),
    ("crash", "the sandboxed process crashed (signal 11"),
    ("loop", "timed out after 2 s"),
    ("bad-buffer", "invalid request: read buffer at 0x"),
    ("bad-device", "invalid request: read on device 7, which it was not given"),
    ("write-input", "invalid request: write on device 0, an input"),
    ("huge-length", "invalid request: read of 1099511627776 bytes (the limit is"),
    ("flood", "invalid request: more than 64 messages"),
    ("bad-op", "invalid request: unknown hostcall 57005"),
    ("disk-fill", "invalid request: write up to byte 1048576, past the output's limit of "
                  "512 bytes"),
    ("truncate-huge", "invalid request: truncate up to byte 9223372036854775807, past the "
                      "output's limit"),
    ("pipe-fill", "invalid request: the sandbox rings without reading its replies"),
]


def run(binary, tmp_path, env_extra, *args):
    (tmp_path / "in.raw").write_bytes(os.urandom(5000))
    env = dict(os.environ, **env_extra)
    start = time.monotonic()
    p = subprocess.run([str(binary), "dd", "--sandbox=process", "--sandbox-timeout=2",
                        *args, "if=in.raw", "of=out.raw"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=30)
    return p, time.monotonic() - start


@pytest.mark.parametrize("kind,reason", CASES, ids=[c[0] for c in CASES])
def test_misbehaving_child_is_stopped(tmp_path, kind, reason):
    if not CORDON_TEST.exists():
        pytest.fail(f"{CORDON_TEST} is not built (make test-build)")
    p, elapsed = run(CORDON_TEST, tmp_path, {"CORDON_TEST_MISBEHAVE": kind})
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[-1].startswith("cordon: the sandbox stopped: "), p.stderr
    assert reason in lines[-1]
    # The flood is cut at the message cap (64); others say one line only.
    assert len(lines) == (65 if kind == "flood" else 1), p.stderr
    assert elapsed < 10
    assert sorted(os.listdir(tmp_path)) == ["in.raw"]  # no output, no temp file


def test_pipe_fill_does_not_outlast_the_watchdog(tmp_path):
    """The red team's rt-pipefill blocked the host in write() past any
    timeout; now it is stopped at once, whatever the watchdog says."""
    (tmp_path / "in.raw").write_bytes(b"x" * 512)
    start = time.monotonic()
    p = subprocess.run([str(CORDON_TEST), "dd", "--sandbox=process", "if=in.raw",
                        "of=out.raw"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, CORDON_TEST_MISBEHAVE="pipe-fill"))
    assert p.returncode == 1
    assert "rings without reading its replies" in p.stderr
    assert time.monotonic() - start < 10


def test_child_starts_with_nothing_of_the_host(tmp_path):
    """The red team's rt-env: a subverted child copies everything it was
    started with into the output.  The host's environment, argv and memory
    are not there: the child is a fresh program with an empty environment."""
    (tmp_path / "in.raw").write_bytes(b"x" * 512)
    env = dict(os.environ, CORDON_TEST_MISBEHAVE="env-dump",
               SECRET_TOKEN="s3cr3t-0f-the-h0st")
    p = subprocess.run([str(CORDON_TEST), "dd", "--sandbox=process", "if=in.raw",
                        "of=out.raw", "--sandbox-timeout=30"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out.raw").read_bytes() == b"cordon-sandbox\nenv-dump\n-\n"


def test_host_is_confined_while_it_serves(tmp_path):
    """The host installs its seccomp filter on this path too."""
    (tmp_path / "in.raw").write_bytes(b"x" * 512)
    assert_confined_while_running(subprocess.Popen(
        [str(CORDON_TEST), "dd", "--sandbox=process", "--sandbox-timeout=5", "if=in.raw",
         "of=out.raw"], cwd=tmp_path, env=dict(os.environ, CORDON_TEST_MISBEHAVE="loop"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def test_existing_output_survives_a_stopped_sandbox(tmp_path):
    (tmp_path / "out.raw").write_bytes(b"precious")
    p, _ = run(CORDON_TEST, tmp_path, {"CORDON_TEST_MISBEHAVE": "crash"})
    assert p.returncode == 1
    assert (tmp_path / "out.raw").read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["in.raw", "out.raw"]


def test_shipped_binary_has_no_misbehaviour_hook(tmp_path):
    p, _ = run(CORDON, tmp_path, {"CORDON_TEST_MISBEHAVE": "open"})
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out.raw").read_bytes()[:5000] == (tmp_path / "in.raw").read_bytes()
