"""
cordon dd without if= or of=: standard input read and standard output
written as streams, with Proxmox VE's semantics (pve-qemu stable-7 at
fa8486e, debian/patches/pve/0010-PVE-Up-qemu-img-dd-add-osize-and-read-
from-to-stdin-.patch and 0011-PVE-Up-qemu-img-dd-add-isize-parameter.patch;
docs/dd.md).  Proxmox's qemu-img is not installed here: PROXMOX holds what
it did, built from those patches over Debian's 7.2 source, for each case
(what was on standard input, status, stderr with the program as PROG,
length and sha256[:16] of standard output and of of=, flattened), written
down once.  The deliberate differences are tested below it, each with its
reason.
"""
import hashlib
import subprocess

import pytest

from image_tools import rand, tool

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

STDIN = {"none": b"", "4k": rand(4096, 16), "4k-zero": bytes(4096)}


def digest(b):
    return (len(b), hashlib.sha256(b).hexdigest()[:16])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipes")
    (d / "in.raw").write_bytes(rand(4096, 16))
    assert tool(["qemu-img", "create", "-q", "-f", "qcow2", "in.qcow2", "1M"],
                cwd=d).returncode == 0
    assert tool(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 64k 64k", "in.qcow2"],
                cwd=d).returncode == 0
    return {p.name: p.read_bytes() for p in d.iterdir()}


def cordon_dd(cordon_bin, sandbox, d, argv, stdin):
    return subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", *argv], cwd=d,
                          input=stdin, capture_output=True, timeout=60)


# (standard input, argv, status, stderr, standard output, of= or None)
PROXMOX = [
    ('4k', ['-f', 'raw', 'osize=4K'], 0, '', (4096, 'ac8ca40999dc9ea9'), None),
    ('4k', ['-f', 'raw', 'count=4', 'bs=1K'], 0, '', (4096, 'ac8ca40999dc9ea9'), None),
    ('4k', ['-f', 'raw', 'osize=8K'], 1, 'PROG: Input ended unexpectedly\n', (4096, 'ac8ca40999dc9ea9'), None),
    ('4k', ['-f', 'raw', 'osize=8K', 'isize=0'], 0, '', (4096, 'ac8ca40999dc9ea9'), None),
    ('4k', ['-f', 'raw', 'count=3', 'skip=1'], 0, '', (1024, '8cb65bc932592255'), None),
    ('4k', ['-f', 'raw', 'count=3', 'skip=9'], 0, 'PROG: (null): cannot skip to specified offset\n', (0, 'e3b0c44298fc1c14'), None),
    ('4k', ['-f', 'raw', 'osize=8K', 'isize=2K'], 0, '', (2048, '82054b9ffbb902ae'), None),
    ('4k', ['-f', 'raw'], 1, 'PROG: Output size must be known when reading from stdin\n', (0, 'e3b0c44298fc1c14'), None),
    ('4k', ['-f', 'raw', 'osize=4K', 'of=o.img'], 0, '', (0, 'e3b0c44298fc1c14'), (4096, 'ac8ca40999dc9ea9')),
    ('4k', ['-f', 'raw', 'count=16', 'of=o.img'], 1, 'PROG: Input ended unexpectedly\n', (0, 'e3b0c44298fc1c14'), None),
    ('4k', ['-f', 'raw', 'osize=16K', 'isize=0', 'of=o.img'], 0, '', (0, 'e3b0c44298fc1c14'), (16384, '386de21aee592bfd')),
    ('4k', ['-f', 'raw', 'osize=64K', 'isize=0', '-O', 'qcow2', 'of=o.img'], 0, '', (0, 'e3b0c44298fc1c14'), (65536, 'a229aedcae1be739')),
    ('4k', ['-f', 'raw', 'osize=4K', 'bs=1', 'of=o.img'], 0, '', (0, 'e3b0c44298fc1c14'), (4096, 'ac8ca40999dc9ea9')),
    ('4k', ['-f', 'raw', 'osize=1K', 'isize=4K', 'of=o.img'], 1, 'PROG: error while writing to output image file: Input/output error\n', (0, 'e3b0c44298fc1c14'), None),
    ('4k', ['-f', 'raw', 'osize=abc'], 1, 'PROG: Invalid size specified. You may use k, M, G, T, P or E suffixes for\nPROG: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n', (0, 'e3b0c44298fc1c14'), None),
    ('none', ['-f', 'raw', 'if=in.raw'], 0, '', (4096, 'ac8ca40999dc9ea9'), None),
    ('none', ['if=in.raw', 'bs=1000', 'skip=1'], 0, '', (3096, 'ffa9ab357b9a1990'), None),
    ('none', ['-f', 'raw', 'if=in.raw', 'osize=8K'], 1, 'PROG: error while reading from input image file: Input/output error\n', (4096, 'ac8ca40999dc9ea9'), None),
    ('none', ['if=in.qcow2', 'bs=64k', 'count=3'], 0, '', (196608, 'b3b054a526ecba86'), None),
    ('none', ['if=in.qcow2', '-O', 'raw', 'skip=1', 'bs=512k'], 0, '', (524288, '07854d2fef297a06'), None),
    ('none', ['-f', 'raw', 'count=0'], 0, '', (0, 'e3b0c44298fc1c14'), None),
    ('4k-zero', ['-f', 'raw', 'osize=4K', 'of=o.img'], 0, '', (0, 'e3b0c44298fc1c14'), (4096, 'ad7facb2586fc6e9')),
]


@pytest.mark.parametrize("stdin,argv,status,err,out,of", PROXMOX,
                         ids=[f"{c[0]}: {' '.join(c[1])}" for c in PROXMOX])
def test_pipes_as_proxmox(cordon_bin, sandbox, tmp_path, files, stdin, argv, status, err,
                          out, of):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    p = cordon_dd(cordon_bin, sandbox, tmp_path, argv, STDIN[stdin])
    assert (p.returncode, p.stderr.decode().replace("cordon:", "PROG:")) == (status, err)
    assert digest(p.stdout) == out
    o = tmp_path / "o.img"
    if of is None:
        assert not o.exists()
        return
    if "qcow2" in argv:
        assert tool(["qemu-img", "convert", "-O", "raw", "o.img", "flat.raw"],
                    cwd=tmp_path).returncode == 0
        o = tmp_path / "flat.raw"
    assert digest(o.read_bytes()) == of


@pytest.mark.parametrize("argv", [["-f", "qcow2", "osize=4K"], ["osize=4K"],
                                  ["if=in.raw", "-O", "qcow2"]])
def test_a_stream_that_is_not_raw_is_upstreams_refusal(cordon_bin, sandbox, tmp_path, files,
                                                       argv):
    """Proxmox says "Input format must be raw when readin from stdin" or
    "Output format must be raw when writing to stdout"; upstream refuses the
    same command line with its own words, which win (docs/dd.md)."""
    (tmp_path / "in.raw").write_bytes(files["in.raw"])
    p = cordon_dd(cordon_bin, sandbox, tmp_path, argv, STDIN["4k"])
    assert (p.returncode, p.stderr, p.stdout) == (
        1, b"cordon: Must specify both input and output files\n", b"")


def test_a_pipe_that_delivers_in_pieces(cordon_bin, sandbox, tmp_path):
    """Proxmox advances by a whole block after a short read() and leaves
    gaps; cordon reads each block whole (docs/dd.md)."""
    data = rand(3 << 20, 5)
    writer = subprocess.Popen(["sh", "-c", "head -c 100; sleep 0.2; cat"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p = subprocess.Popen([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "raw",
                          "bs=2M", f"osize={len(data)}", "of=o.img"], cwd=tmp_path,
                         stdin=writer.stdout, stderr=subprocess.PIPE)
    writer.stdout.close()
    writer.communicate(data)
    _, err = p.communicate(timeout=60)
    assert (p.returncode, err) == (0, b"")
    assert (tmp_path / "o.img").read_bytes() == data


def test_standard_output_closed_early(cordon_bin, sandbox, tmp_path):
    """A reader that goes away is a write error in one line with its real
    cause (Proxmox prints "Operation not permitted" for every errno)."""
    with open(tmp_path / "big.raw", "wb") as f:
        f.truncate(256 << 20)
    p = subprocess.Popen([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "raw",
                          "bs=1M", "if=big.raw"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert len(p.stdout.read(4096)) == 4096
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == 1
    assert err == b"cordon: error while writing to output image file: Broken pipe\n"


def test_standard_input_from_a_file(cordon_bin, sandbox, tmp_path, files):
    """< file is standard input too: read in order, as a pipe is."""
    (tmp_path / "in.raw").write_bytes(files["in.raw"])
    with open(tmp_path / "in.raw", "rb") as f:
        p = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "-f", "raw",
                            "count=8", "of=o.img"], cwd=tmp_path, stdin=f,
                           capture_output=True, timeout=60)
    assert (p.returncode, p.stderr) == (0, b"")
    assert (tmp_path / "o.img").read_bytes() == files["in.raw"]
