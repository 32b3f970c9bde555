"""
Helpers the image-format tests share (test_dd_vpc.py, test_dd_vhdx.py):
running qemu-img and cordon on the same inputs in sibling directories, and
looking at an image through qemu-img.
"""
import json
import os
import random
import subprocess
from pathlib import Path

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


def run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, inputs):
    """`qemu-img dd args` and `cordon dd args` in tmp_path/qemu and
    tmp_path/cordon, each holding inputs ({name: bytes, or a Path to
    hard-link}): ((status, stderr, directory) of qemu-img, of cordon)."""
    res = {}
    for who, argv in (("qemu", [qemu_img, "dd"]),
                      ("cordon", [str(cordon_bin), "dd", f"--sandbox={sandbox}"])):
        d = tmp_path / who
        d.mkdir(exist_ok=True)
        for name, content in inputs.items():
            if isinstance(content, Path):
                os.link(content, d / name)
            else:
                (d / name).write_bytes(content)
        res[who] = run(argv + list(args), d) + (d,)
    return res["qemu"], res["cordon"]


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
