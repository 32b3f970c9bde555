"""
Writes that fail part way, against qemu-img: a file size limit (a soft
RLIMIT_FSIZE, as `ulimit -S -f` sets) makes the output's writes fail with
EFBIG at a known byte, in the middle of the data.  Both tools must say so in
qemu-img's words and exit 1; cordon must not die of SIGXFSZ, must leave no
file behind and must keep an existing output.  With cordon's writes made
behind (the host writes one buffer while the sandbox reads the next), the
failure still names the piece qemu-img names where both cut the data alike
(VHD blocks); where qemu-img names its own 2 MiB request inside cordon's
larger write (qcow2, VMDK), only the byte differs (docs/convert.md).
"""
import re
import resource
import subprocess

import pytest

from image_tools import TIMEOUT, rand
from cordon_messages import normalise

LIMIT = 8 << 20  # bytes any file of the run may reach
SIZE = 64 << 20

# Output format -> whether the byte qemu-img names is cordon's too.
CONVERT_OUTPUTS = {"raw": True, "qcow2": False, "vpc": True, "vhdx": True,
                   "vmdk": False}


def limited():
    resource.setrlimit(resource.RLIMIT_FSIZE,
                       (LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT,
                       preexec_fn=limited)
    who = "qemu-img" if "qemu-img" in argv[0] else "cordon"
    err = normalise(p.stderr.decode(), who).replace(f"{who}:", "PROG:")
    return p.returncode, err


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    d = tmp_path_factory.mktemp("fsize")
    (d / "in.raw").write_bytes(rand(SIZE, 77))
    return d / "in.raw"


def sibling_dirs(tmp_path, big_input):
    dirs = {}
    for who in ("qemu", "cordon"):
        d = tmp_path / who
        d.mkdir()
        (d / "in.raw").hardlink_to(big_input)
        dirs[who] = d
    return dirs


@pytest.mark.parametrize("out_fmt", CONVERT_OUTPUTS)
def test_convert_past_a_file_size_limit(qemu_img, cordon_bin, sandbox, tmp_path,
                                        big_input, out_fmt):
    d = sibling_dirs(tmp_path, big_input)
    args = ["-O", out_fmt, "in.raw", f"out.{out_fmt}"]
    q = run([qemu_img, "convert"] + args, d["qemu"])
    c = run([str(cordon_bin), "convert", f"--sandbox={sandbox}"] + args, d["cordon"])
    assert q[0] == 1 and c[0] == 1, (q, c)
    if CONVERT_OUTPUTS[out_fmt]:
        assert c[1] == q[1]
    else:
        byte = re.compile(r"at byte \d+")
        assert byte.sub("at byte N", c[1]) == byte.sub("at byte N", q[1])
    # Nothing left: no output, no temporary file.
    assert sorted(p.name for p in d["cordon"].iterdir()) == ["in.raw"]


@pytest.mark.parametrize("out_fmt", ["raw", "qcow2", "vpc", "vhdx", "vmdk"])
def test_dd_past_a_file_size_limit(qemu_img, cordon_bin, sandbox, tmp_path, big_input,
                                   out_fmt):
    d = sibling_dirs(tmp_path, big_input)
    args = ["-O", out_fmt, "if=in.raw", f"of=out.{out_fmt}"]
    q = run([qemu_img, "dd"] + args, d["qemu"])
    c = run([str(cordon_bin), "dd", f"--sandbox={sandbox}"] + args, d["cordon"])
    assert q[0] == 1 and c[0] == 1, (q, c)
    if out_fmt == "vmdk":
        # qemu-img's vmdk driver turns this EFBIG into EINVAL on its way
        # up; cordon tells the cause (docs/dd.md).
        assert q[1] == "PROG: error while writing to output image file: Invalid argument\n"
        assert c[1] == "PROG: error while writing to output image file: File too large\n"
    else:
        assert c[1] == q[1]
    assert sorted(p.name for p in d["cordon"].iterdir()) == ["in.raw"]


def test_an_existing_output_survives_a_failed_write(cordon_bin, sandbox, tmp_path,
                                                    big_input):
    (tmp_path / "in.raw").hardlink_to(big_input)
    (tmp_path / "out.vpc").write_bytes(b"precious")
    c = run([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-O", "vpc", "in.raw",
             "out.vpc"], tmp_path)
    assert c[0] == 1 and "File too large" in c[1]
    assert (tmp_path / "out.vpc").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.raw", "out.vpc"]
