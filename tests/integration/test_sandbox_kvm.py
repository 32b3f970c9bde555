"""The KVM sandbox holds against a misbehaving guest.

Each payload in tests/guest_payloads/ is a whole guest image that breaks one
rule on purpose.  build/cordon-test (the product built with
-DCORDON_TEST_HOOKS) runs it instead of the real guest when
CORDON_TEST_GUEST names it.  Every one must end as a clean error: exit status
1, "cordon: the sandbox stopped: <reason>", within the watchdog, and no
output left behind.
"""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import assert_confined_while_running

ROOT = Path(__file__).resolve().parents[2]
CORDON = ROOT / "build" / "cordon"
CORDON_TEST = ROOT / "build" / "cordon-test"
PAYLOADS = ROOT / "build" / "payloads"
WATCHDOG_MS = 1000
# Generous: the watchdog itself is 1 s; this only catches a hang.
MAX_SECONDS = 10


def _kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as e:
        return f"/dev/kvm is not usable here: {e.strerror}"
    os.close(fd)
    return None


pytestmark = pytest.mark.skipif(_kvm_usable() is not None,
                                reason=_kvm_usable() or "")


@pytest.fixture(scope="session", autouse=True)
def test_build():
    """The test binary and the payloads; never part of the product."""
    subprocess.run(["make", "-s", "build/cordon", "build/cordon-test", "guest-payloads"],
                   cwd=ROOT, check=True)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "in.raw"
    path.write_bytes(os.urandom(1 << 20))
    return path


def run_payload(name, src, dst, timeout_ms=WATCHDOG_MS, args=(), env_extra=None):
    env = dict(os.environ, CORDON_TEST_GUEST=str(PAYLOADS / f"{name}.bin"),
               CORDON_TEST_TIMEOUT_MS=str(timeout_ms), **(env_extra or {}))
    start = time.monotonic()
    proc = subprocess.run([str(CORDON_TEST), "dd", "--sandbox=kvm", *args, f"if={src}",
                           f"of={dst}"], env=env, capture_output=True, text=True, timeout=60)
    return proc, time.monotonic() - start


STOPPED = "cordon: the sandbox stopped: "

CASES = {
    "loop": r"timed out after 1 s",
    "output_then_loop": r"timed out after 1 s",
    "null_deref": r"guest exception 14 \(page fault\) at rip 0x[0-9a-f]+ address 0x0 ",
    "output_then_fault": r"guest exception 14 \(page fault\) at rip 0x[0-9a-f]+ address 0x8 ",
    "ud2": r"guest exception 6 \(invalid opcode\) at rip 0x[0-9a-f]+$",
    "stack_overflow": r"guest exception 14 \(page fault\) .* address 0x18[0-9a-f]{3} ",
    "bad_port": r"guest exception 13 \(general protection\)",
    "exec_heap": r"guest exception 14 \(page fault\) at rip (0x[0-9a-f]+) address \1 error code 0x15",
    "pagetable_write": r"guest exception 14 \(page fault\) .* address 0x8[0-9a-f]{3} error code 0x7",
    "oob_buffer": r"read buffer at 0x[0-9a-f]+ \+ 4096 is outside sandbox memory",
    "bad_device": r"read on device 9, which it was not given",
    "write_input": r"write on device 0, an input",
    "huge_len": r"read of 1099511627776 bytes \(the limit is \d+\)",
    "flood": r"more than 64 messages",
    "disk_fill": r"write up to byte 1048576, past the output's limit of 512 bytes",
    # the red team's payload, kept as found: its first step already fails
    "rt_cpl0": r"guest exception 14 \(page fault\) .* address 0x100018 error code 0x5",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_payload_stops_cleanly(name, image, tmp_path):
    out = tmp_path / "out.raw"
    proc, elapsed = run_payload(name, image, out)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(STOPPED), proc.stderr
    assert re.search(CASES[name], last[len(STOPPED):]), last
    assert elapsed < MAX_SECONDS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.raw"], "output left behind"


def cr4_bits():
    """{'offered': {...}, 'cr4': {...}} from the test build's CR4 report."""
    proc = subprocess.run([str(CORDON_TEST), "dd", "--sandbox=kvm", "count=0",
                           f"if={CORDON_TEST}", "of=/dev/null"],
                          env=dict(os.environ, CORDON_TEST_CR4="1"),
                          capture_output=True, text=True, timeout=60)
    m = re.search(r"offered umip=(\d) smep=(\d) smap=(\d); cr4 umip=(\d) smep=(\d) "
                  r"smap=(\d)", proc.stderr)
    assert m, proc.stderr
    v = [int(x) for x in m.groups()]
    names = ("umip", "smep", "smap")
    return {"offered": dict(zip(names, v[:3])), "cr4": dict(zip(names, v[3:]))}


def test_every_hardening_bit_the_vcpu_offers_is_on():
    bits = cr4_bits()
    assert bits["cr4"] == bits["offered"]


# Each way from CPL 3 towards CPL 0 or the guest's own mappings (payload
# escalate.c, step = count=N): the fault each must end in.
ESCALATION = {
    1: ("read the image header (supervisor text)", r"address 0x100018 error code 0x5$"),
    2: ("overwrite the #UD handler", r"address 0x100[0-9a-f]{3} error code 0x7$"),
    3: ("overwrite its own text", r"error code 0x7$"),
    4: ("run .data", r"error code 0x15$"),
    5: ("run .rodata", r"error code 0x15$"),
    6: ("run the stack", r"error code 0x15$"),
    7: ("jump into the CPL-0 handler", r"address 0x100[0-9a-f]{3} error code 0x15$"),
    8: ("write the IDT", r"address 0x5800 error code 0x7$"),
    9: ("write a page table", r"address 0x10000 error code 0x7$"),
    10: ("write the job", r"address 0x2000 error code 0x7$"),
}


@pytest.mark.parametrize("step", sorted(ESCALATION), ids=[v[0] for _, v in
                                                          sorted(ESCALATION.items())])
def test_escalation_step_faults(step, image, tmp_path):
    proc, _ = run_payload("escalate", image, tmp_path / "out.raw", args=(f"count={step}",))
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(STOPPED + "guest exception 14 (page fault)"), last
    assert re.search(ESCALATION[step][1], last), last


def test_umip_hides_the_descriptor_tables(image, tmp_path):
    if not cr4_bits()["cr4"]["umip"]:
        pytest.skip("this vCPU has no UMIP: sgdt works at CPL 3 (the tables stay "
                    "supervisor-only and read-only)")
    proc, _ = run_payload("escalate", image, tmp_path / "out.raw", args=("count=11",))
    assert proc.returncode == 1
    assert "guest exception 13 (general protection)" in proc.stderr


def test_host_is_confined_while_it_serves(image, tmp_path):
    env = dict(os.environ, CORDON_TEST_GUEST=str(PAYLOADS / "loop.bin"),
               CORDON_TEST_TIMEOUT_MS="5000")
    assert_confined_while_running(subprocess.Popen(
        [str(CORDON_TEST), "dd", "--sandbox=kvm", f"if={image}",
         f"of={tmp_path / 'out.raw'}"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def test_failed_run_keeps_existing_output(image, tmp_path):
    out = tmp_path / "out.raw"
    out.write_bytes(b"precious")
    proc, _ = run_payload("output_then_fault", image, out)
    assert proc.returncode == 1
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.raw", "out.raw"]


def test_flood_prints_at_most_the_cap(image, tmp_path):
    proc, _ = run_payload("flood", image, tmp_path / "out.raw")
    assert proc.stderr.count("cordon: warning: flood") == 64


def test_well_behaved_payload_exits_zero(image, tmp_path):
    proc, elapsed = run_payload("ok", image, tmp_path / "out.raw")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert elapsed < MAX_SECONDS


def test_shipped_binary_has_no_test_hooks():
    data = CORDON.read_bytes()
    assert b"CORDON_TEST_GUEST" not in data
    assert b"CORDON_TEST_TIMEOUT_MS" not in data


def test_real_guest_dd_is_fast_and_correct(image, tmp_path):
    """A trivial dd in the real microVM: a few milliseconds here; the bound
    is loose so that a busy CI machine does not flake."""
    out = tmp_path / "out.raw"
    start = time.monotonic()
    proc = subprocess.run([str(CORDON), "dd", "--sandbox=kvm", f"if={image}", f"of={out}"],
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == image.read_bytes()
    assert elapsed < 0.5
