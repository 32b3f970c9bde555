"""
Helpers the image-format tests share (test_dd_vpc.py, test_dd_vhdx.py,
test_dd_vmdk.py):
running qemu-img and cordon on the same inputs in sibling directories, and
looking at an image through qemu-img.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

from cordon_messages import normalise

TIMEOUT = 300


def tool(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=TIMEOUT, **kw)


def rand(n, seed):
    return random.Random(seed).randbytes(n)


def run(argv, cwd):
    """(exit status, stderr with the program name as PROG)."""
    p = tool(argv, cwd=cwd)
    return p.returncode, p.stderr.decode().replace("qemu-img:", "PROG:").replace("cordon:",
                                                                                  "PROG:")


def run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, command, args, inputs):
    """`qemu-img COMMAND args` and `cordon COMMAND args` in tmp_path/qemu and
    tmp_path/cordon, each holding inputs ({name: bytes, or a Path to
    hard-link}): ((status, stderr normalised, stdout, directory) of
    qemu-img, of cordon)."""
    res = {}
    for who, argv in (("qemu", [qemu_img, command]),
                      ("cordon", [str(cordon_bin), command, f"--sandbox={sandbox}"])):
        d = tmp_path / who
        d.mkdir(parents=True, exist_ok=True)
        for name, content in inputs.items():
            if isinstance(content, Path):
                os.link(content, d / name)
            else:
                (d / name).write_bytes(content)
        p = tool(argv + list(args), cwd=d)
        err = normalise(p.stderr.decode(), "qemu-img" if who == "qemu" else "cordon")
        err = err.replace("qemu-img:", "PROG:").replace("cordon:", "PROG:")
        res[who] = (p.returncode, err, p.stdout, d)
    return res["qemu"], res["cordon"]


def run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, inputs):
    """run_both_full() for dd: (status, stderr, directory) of each."""
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "dd", args, inputs)
    return (q[0], q[1], q[3]), (c[0], c[1], c[3])


def qemu_info(qemu_img, path, fmt):
    p = tool([qemu_img, "info", "-f", fmt, "--output=json", str(path)])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def flat(qemu_img, path, fmt):
    """The disk, as qemu-img convert -O raw writes it."""
    out = str(path) + ".flat"
    p = tool([qemu_img, "convert", "-f", fmt, "-O", "raw", str(path), out])
    assert p.returncode == 0, p.stderr
    data = open(out, "rb").read()
    os.unlink(out)
    return data


def allocated(path):
    return os.stat(path).st_blocks * 512


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()


def compare_dd_files(qemu_img, cordon_bin, sandbox, tmp_path, inputs, args):
    """qemu-img dd and cordon dd on the same inputs ({name: bytes or a Path
    to hard-link}): status, messages, which files are left and their
    content.  The directories go afterwards, so that one test can compare
    several windows.  qemu-img's (status, stderr, directory) is returned."""
    def left(d):
        return {p.name: digest(p) for p in sorted(d.iterdir()) if p.name not in inputs}
    try:
        q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, inputs)
        assert c[:2] == q[:2]
        if q[0] == 0:
            assert left(c[2]) == left(q[2])
        else:
            assert left(c[2]) == {}  # cordon leaves nothing behind after a failure
        return q
    finally:
        shutil.rmtree(tmp_path / "qemu", ignore_errors=True)
        shutil.rmtree(tmp_path / "cordon", ignore_errors=True)


def compare_outputs(qemu_img, q, c, out, fmt):
    """Same status and messages; where qemu-img made an image, the same
    virtual size and content, and cordon's no larger on disk."""
    assert (c[0], c[1]) == (q[0], q[1])
    qo, co = q[2] / out, c[2] / out
    if q[0] != 0:
        assert not co.exists()  # qemu-img may leave its output; cordon does not
        return None
    assert qo.exists() == co.exists()
    if not qo.exists():
        return None
    qi, ci = qemu_info(qemu_img, qo, fmt), qemu_info(qemu_img, co, fmt)
    assert ci["virtual-size"] == qi["virtual-size"]
    assert ci.get("cluster-size") == qi.get("cluster-size")
    assert flat(qemu_img, co, fmt) == flat(qemu_img, qo, fmt)
    assert allocated(co) <= allocated(qo) + 4096
    return co
