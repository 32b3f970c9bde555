"""
SIGINT, SIGTERM and SIGHUP in the middle of a run (the hardening issue's
item 7): the partial temporary output is removed, an existing output is
untouched, and cordon dies of the signal, as it would without a handler.
The run is held mid-way by a sandbox that writes part of the output and
then spins (build/cordon-test only).
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import CORDON_TEST, hostile_env


def temporaries(d):
    return [n for n in os.listdir(d) if n.startswith(".cordon-tmp-")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["INT", "TERM", "HUP"])
def test_signal_removes_the_partial_output(tmp_path, sandbox, sig):
    (tmp_path / "in.raw").write_bytes(os.urandom(8192))
    (tmp_path / "out.raw").write_bytes(b"precious")
    env = hostile_env(sandbox, "output_then_loop", "output-then-loop")
    p = subprocess.Popen([str(CORDON_TEST), "dd", "if=in.raw", "of=out.raw"], cwd=tmp_path,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The temporary file exists from the start; wait until it holds data.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tmps = temporaries(tmp_path)
        if tmps and (tmp_path / tmps[0]).stat().st_size > 0:
            break
        time.sleep(0.02)
    else:
        p.kill()
        pytest.fail("the run never wrote its output")
    p.send_signal(sig)
    p.communicate(timeout=20)
    assert p.returncode == -sig
    assert temporaries(tmp_path) == []
    assert (tmp_path / "out.raw").read_bytes() == b"precious"
