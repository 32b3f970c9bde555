"""
cordon convert against qemu-img convert.

- A matrix of inputs (raw with holes and zero data, qcow2 v2/v3 with
  compressed clusters, extended L2 and a backing chain, vpc dynamic and
  fixed, vhdx, vmdk monolithicSparse, streamOptimized, twoGbMaxExtentSparse)
  x outputs (raw, qcow2, vpc, vhdx, vmdk) x option sets (plain, -S 0,
  -S 64k, -C, -p): same exit status, messages and progress lines, output
  format, virtual size and content (qemu-img), `qemu-img check` clean, and
  an allocation no denser than qemu-img's (its map and the file's blocks).
- Several inputs concatenated, sizes that are not whole sectors.
- The command line: qemu-img's checks and messages in its order; the
  options cordon does not carry out yet refused in one line.
- Cache modes: unsafe (the default) does not flush, the others do.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from image_tools import digest, flat, qemu_info, rand, run_both_full, tool

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

KiB, MiB = 1 << 10, 1 << 20
QEMU_IO = shutil.which("qemu-io")


def base_raw(d, name="src.raw", size=5 * MiB + 1000, seed=3):
    """Data, zeros stored as data, a hole, data with a 4 KiB zero block
    inside, data in the last (partial) sector: what fits in size."""
    p = d / name
    block = bytearray(rand(200 * KiB, seed + 1))
    block[64 * KiB:68 * KiB] = bytes(4 * KiB)
    with open(p, "wb") as f:
        f.write(rand(300 * KiB, seed))
        f.write(bytes(400 * KiB))               # zeros that are data
        f.seek(3 * MiB)                         # [700k, 3M): a hole
        f.write(block)
        f.truncate(size)
        f.seek(size - 700)
        f.write(rand(700, seed + 2))
    return p


def qconvert(d, src, out, fmt, opts=None, src_fmt="raw"):
    argv = ["qemu-img", "convert", "-f", src_fmt, "-O", fmt]
    if opts:
        argv += ["-o", opts]
    p = tool(argv + [src, out], cwd=d)
    assert p.returncode == 0, p.stderr


def io(d, name, fmt, *cmds):
    argv = [QEMU_IO, "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    p = tool(argv + [name], cwd=d)
    assert p.returncode == 0, p.stderr


def files_of(d, main, new_main):
    """Everything made in d but the source raw, main renamed new_main."""
    return {(new_main if p.name == main else p.name): p
            for p in sorted(d.iterdir()) if p.name != "src.raw"}


def mk_raw(d):
    base_raw(d)
    os.rename(d / "src.raw", d / "in.img")
    return {"in.img": d / "in.img"}


def mk_simple(fmt, opts=None):
    def make(d):
        base_raw(d)
        qconvert(d, "src.raw", "in.img", fmt, opts)
        return files_of(d, "in.img", "in.img")
    return make


def mk_qcow2_compressed(d):
    base_raw(d)
    p = tool(["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "src.raw",
              "in.img"], cwd=d)
    assert p.returncode == 0, p.stderr
    io(d, "in.img", "qcow2", "write -P 0x5a 1M 64k", "write -z 3M 64k")
    return files_of(d, "in.img", "in.img")


def mk_qcow2_extl2(d):
    base_raw(d)
    qconvert(d, "src.raw", "in.img", "qcow2", "extended_l2=on,cluster_size=64k")
    io(d, "in.img", "qcow2", "write -P 0x11 2M 4k", "write -z 3M 8k", "discard 0 4k")
    return files_of(d, "in.img", "in.img")


def mk_qcow2_chain(d):
    base_raw(d)
    qconvert(d, "src.raw", "base.qcow2", "qcow2")
    p = tool(["qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
              "in.img"], cwd=d)
    assert p.returncode == 0, p.stderr
    io(d, "in.img", "qcow2", "write -P 0x77 1M 128k", "write -z 0 64k")
    return files_of(d, "in.img", "in.img")


INPUTS = {
    "raw": mk_raw,
    "qcow2-v3": mk_simple("qcow2"),
    "qcow2-v2": mk_simple("qcow2", "compat=0.10,cluster_size=4k"),
    "qcow2-compressed": mk_qcow2_compressed,
    "qcow2-extl2": mk_qcow2_extl2,
    "qcow2-chain": mk_qcow2_chain,
    "vpc-dynamic": mk_simple("vpc"),
    "vpc-fixed": mk_simple("vpc", "subformat=fixed"),
    "vhdx": mk_simple("vhdx", "block_size=1M"),
    "vmdk-sparse": mk_simple("vmdk"),
    "vmdk-stream": mk_simple("vmdk", "subformat=streamOptimized"),
    "vmdk-2gb": mk_simple("vmdk", "subformat=twoGbMaxExtentSparse"),
}
OUTPUTS = ["raw", "qcow2", "vpc", "vhdx", "vmdk"]
OPTIONS = {
    "plain": [],
    "S0": ["-S", "0"],
    "S64k": ["-S", "64k"],
    "C": ["-C"],
    "p": ["-p"],
}

_cache = {}


def input_files(tmp_path_factory, key):
    if key not in _cache:
        d = tmp_path_factory.mktemp("cv-" + key)
        _cache[key] = INPUTS[key](d)
    return _cache[key]


def run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, inputs):
    """qemu-img convert and cordon convert in sibling directories:
    (status, stderr, stdout, directory) for each."""
    return run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "convert", args, inputs)


def mapped_data(qemu_img, path, fmt):
    """Bytes qemu-img map calls data in the image."""
    p = tool([qemu_img, "map", "-f", fmt, "--output=json", str(path)])
    assert p.returncode == 0, p.stderr
    return sum(e["length"] for e in json.loads(p.stdout) if e["data"])


def check_clean(qemu_img, path, fmt):
    if fmt in ("raw", "vpc"):  # qemu-img check has nothing to say about them
        return
    p = tool([qemu_img, "check", "-f", fmt, str(path)])
    assert p.returncode == 0, p.stdout + p.stderr


# Inputs whose maps cordon divides otherwise than qemu's block status
# (dynamic VHD blocks by the file's own holes, VHDX blocks, where qemu sees
# one run, extended L2 subclusters):
# the percentages between the first and the last two progress lines can
# differ there (docs/convert.md).
PROGRESS_BY_SHAPE = {"vpc-dynamic", "vhdx", "qcow2-extl2"}


def progress_lines(out):
    """qemu-img's -p output: lines of "    (P/100%)\r" and a newline."""
    assert out.endswith(b"\r\n")
    values = [float(x.strip()[1:-6]) for x in out[:-1].decode().split("\r") if x]
    assert values == sorted(values)
    return values


def compare(qemu_img, q, c, out, fmt, key=None):
    """Same status, messages and progress; where qemu-img made an image:
    its format, virtual size and content, check clean, no denser."""
    assert (c[0], c[1]) == (q[0], q[1])
    if key in PROGRESS_BY_SHAPE and q[2]:
        cv, qv = progress_lines(c[2]), progress_lines(q[2])
        assert cv[0] == qv[0] == 0 and cv[-2:] == qv[-2:] == [100, 100]
    else:
        assert c[2] == q[2]
    qo, co = q[3] / out, c[3] / out
    if q[0] != 0:
        assert not co.exists()  # qemu-img may leave its output; cordon does not
        return
    qi, ci = qemu_info(qemu_img, qo, fmt), qemu_info(qemu_img, co, fmt)
    assert ci["virtual-size"] == qi["virtual-size"]
    assert ci["format"] == qi["format"] == fmt
    assert ci.get("cluster-size") == qi.get("cluster-size")
    assert flat(qemu_img, co, fmt) == flat(qemu_img, qo, fmt)
    check_clean(qemu_img, co, fmt)
    assert mapped_data(qemu_img, co, fmt) <= mapped_data(qemu_img, qo, fmt)
    assert os.stat(co).st_blocks <= os.stat(qo).st_blocks + 8


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("out_fmt", OUTPUTS)
@pytest.mark.parametrize("key", INPUTS)
def test_convert_matches_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path_factory,
                                  tmp_path, key, out_fmt, option):
    if QEMU_IO is None and key.startswith("qcow2-"):
        pytest.fail("qemu-io is not installed (make setup)")
    files = input_files(tmp_path_factory, key)
    args = OPTIONS[option] + ["-O", out_fmt, "in.img", "out.img"]
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args, files)
    compare(qemu_img, q, c, "out.img", out_fmt, key)


def test_input_format_named(qemu_img, cordon_bin, sandbox, tmp_path_factory, tmp_path):
    files = input_files(tmp_path_factory, "qcow2-v3")
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-f", "qcow2", "-O", "qcow2", "in.img", "out.img"], files)
    compare(qemu_img, q, c, "out.img", "qcow2")


@pytest.mark.parametrize("out_fmt", ["raw", "qcow2", "vmdk"])
def test_several_inputs_are_concatenated(qemu_img, cordon_bin, sandbox, tmp_path,
                                         out_fmt):
    """Three inputs, one not a whole number of sectors (qemu rounds each
    up), of different formats, probed one by one."""
    src = tmp_path / "src"
    src.mkdir()
    base_raw(src, "a.raw", size=1 * MiB + 300, seed=5)
    base_raw(src, "b.raw", size=3 * MiB, seed=6)
    qconvert(src, "b.raw", "b.qcow2", "qcow2")
    (src / "c.raw").write_bytes(rand(777, 9))
    inputs = {n: src / n for n in ("a.raw", "b.qcow2", "c.raw")}
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-p", "-O", out_fmt, "a.raw", "b.qcow2", "c.raw", "out.img"], inputs)
    compare(qemu_img, q, c, "out.img", out_fmt)
    assert qemu_info(qemu_img, c[3] / "out.img", out_fmt)["virtual-size"] == \
        (MiB + 512) + 3 * MiB + 1024


@pytest.mark.parametrize("out_fmt", ["raw", "qcow2"])
def test_inputs_sharing_a_backing_file(qemu_img, cordon_bin, sandbox, tmp_path_factory,
                                       tmp_path, out_fmt):
    """The same overlay twice, and a second overlay over the same base: a
    base two chains share is no loop."""
    files = dict(input_files(tmp_path_factory, "qcow2-chain"))
    p = tool(["qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
              "other.qcow2"], cwd=files["base.qcow2"].parent)
    assert p.returncode == 0, p.stderr
    files["other.qcow2"] = files["base.qcow2"].parent / "other.qcow2"
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", out_fmt, "in.img", "in.img", "other.qcow2", "out.img"], files)
    compare(qemu_img, q, c, "out.img", out_fmt)
    assert q[0] == 0


def test_an_empty_input_among_others(qemu_img, cordon_bin, sandbox, tmp_path):
    inputs = {"e.raw": b"", "a.raw": rand(4096, 1)}
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", "qcow2", "e.raw", "a.raw", "e.raw", "out.img"], inputs)
    compare(qemu_img, q, c, "out.img", "qcow2")


@pytest.mark.parametrize("out_fmt", OUTPUTS)
def test_an_empty_image(qemu_img, cordon_bin, sandbox, tmp_path, out_fmt):
    """Zero bytes in: vmdk cannot describe it, the rest make empty images."""
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    ["-O", out_fmt, "e.raw", "out.img"], {"e.raw": b""})
    compare(qemu_img, q, c, "out.img", out_fmt)


# ---- the command line -----------------------------------------------------

BAD_COMMAND_LINES = {
    "no-files": ["-O", "raw"],
    "one-file": ["in.raw"],
    "missing-input": ["-O", "raw", "nope.raw", "out.img"],
    "second-input-missing": ["in.raw", "nope.raw", "out.img"],
    "unknown-out-fmt": ["-O", "nonsense", "in.raw", "out.img"],
    "no-create-fmt": ["-O", "vvfat", "in.raw", "out.img"],
    "unknown-in-fmt": ["-f", "nonsense", "in.raw", "out.img"],
    "in-fmt-mismatch": ["-f", "qcow2", "in.raw", "out.img"],
    "S-unaligned": ["-S", "1000", "in.raw", "out.img"],
    "S-too-big": ["-S", "32M", "in.raw", "out.img"],
    "S-not-a-size": ["-S", "x", "in.raw", "out.img"],
    "m-zero": ["-m", "0", "in.raw", "out.img"],
    "m-17": ["-m", "17", "in.raw", "out.img"],
    "m-junk": ["-m", "4x", "in.raw", "out.img"],
    "bad-src-cache": ["-T", "bogus", "in.raw", "out.img"],
    "bad-cache": ["-t", "bogus", "in.raw", "out.img"],
    "bad-cache-missing-input": ["-t", "bogus", "nope.raw", "out.img"],
    "compress-raw": ["-c", "-O", "raw", "in.raw", "out.img"],
    "compress-vpc": ["-c", "-O", "vpc", "in.raw", "out.img"],
    "c-and-C": ["-c", "-C", "in.raw", "out.img"],
    "S-and-C": ["-S", "4k", "-C", "in.raw", "out.img"],
    "n-and-o": ["-n", "-o", "cluster_size=4k", "in.raw", "out.img"],
    "target-is-zero-without-n": ["--target-is-zero", "in.raw", "out.img"],
    "target-image-opts-without-n": ["--target-image-opts", "in.raw", "out.img"],
    "skip-broken-without-bitmaps": ["--skip-broken-bitmaps", "in.raw", "out.img"],
    "missing-argument": ["in.raw", "out.img", "-O"],
    "unrecognized": ["-Z", "in.raw", "out.img"],
    "unrecognized-long": ["--nonsense", "in.raw", "out.img"],
    "out-is-a-directory": ["in.raw", "d"],
    "out-in-missing-dir": ["in.raw", "nodir/out.img"],
    "rate-not-a-size": ["-r", "fast", "in.raw", "out.img"],
}


@pytest.mark.parametrize("case", BAD_COMMAND_LINES)
def test_bad_command_lines_as_qemu_img(qemu_img, cordon_bin, sandbox, tmp_path, case):
    inputs = {"in.raw": rand(64 * KiB, 2)}
    if case == "out-is-a-directory":
        for who in ("qemu", "cordon"):
            (tmp_path / who / "d").mkdir(parents=True)
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, BAD_COMMAND_LINES[case],
                    inputs)
    assert q[0] != 0
    compare(qemu_img, q, c, "out.img", "raw")
    assert sorted(p.name for p in c[3].iterdir()) == sorted(
        ["in.raw"] + (["d"] if case == "out-is-a-directory" else []))


def test_an_existing_output_survives_a_failure(cordon_bin, sandbox, tmp_path):
    (tmp_path / "out.img").write_bytes(b"precious")
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-O", "nonsense",
              "in.raw", "out.img"], cwd=tmp_path)
    assert p.returncode == 1
    (tmp_path / "in.raw").write_bytes(rand(4096, 1))
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-c", "-O", "raw",
              "in.raw", "out.img"], cwd=tmp_path)
    assert p.returncode == 1
    assert (tmp_path / "out.img").read_bytes() == b"precious"


NOT_YET = {
    "-o": (["-o", "cluster_size=4k"], "-o (output format options)"),
    "-B": (["-B", "base.qcow2"], "-B and -F (a backing file for the output)"),
    "-F": (["-F", "qcow2"], "-B and -F (a backing file for the output)"),
    "-r": (["-r", "1M"], "-r (a rate limit)"),
    "--salvage": (["--salvage"], "--salvage"),
    "--bitmaps": (["--bitmaps"], "--bitmaps"),
    "--image-opts": (["--image-opts"], "--image-opts and --target-image-opts"),
    "--object": (["--object", "secret,id=s,data=x"], "--object (cordon takes no QOM objects)"),
}


@pytest.mark.parametrize("opt", NOT_YET)
def test_options_not_carried_out_yet_are_refused(cordon_bin, sandbox, tmp_path, opt):
    (tmp_path / "in.raw").write_bytes(rand(4096, 1))
    args, what = NOT_YET[opt]
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", *args, "-O", "qcow2",
              "in.raw", "out.img"], cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode() == f"cordon: cordon convert cannot honour {what} yet\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.raw"]


def test_compressed_output_is_not_claimed(cordon_bin, sandbox, tmp_path):
    (tmp_path / "in.raw").write_bytes(rand(4096, 1))
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-c", "-O", "qcow2",
              "in.raw", "out.img"], cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode() == "cordon: cordon cannot write compressed qcow2 images yet\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.raw"]


@pytest.mark.parametrize("args", [["-q", "-p"], ["-m", "1", "-W"], ["-m", "16"],
                                  ["-T", "none", "-t", "writeback"], ["-t", "off"],
                                  ["-T", "directsync"], ["-U"], ["-m", "0x10"],
                                  ["-C"]])
def test_accepted_options_change_nothing_visible(qemu_img, cordon_bin, sandbox,
                                                 tmp_path_factory, tmp_path, args):
    files = input_files(tmp_path_factory, "qcow2-v3")
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path,
                    args + ["-O", "vpc", "in.img", "out.img"], files)
    compare(qemu_img, q, c, "out.img", "vpc")


# ---- cache modes: what is flushed -----------------------------------------

def syscalls(cordon_bin, sandbox, tmp_path, args):
    """The host's syscalls during a run, by strace."""
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed (make setup)")
    (tmp_path / "in.raw").write_bytes(rand(MiB, 1))
    log = tmp_path / "trace"
    p = tool(["strace", "-f", "-qq", "-e", "trace=fdatasync,fsync,sync_file_range",
              "-o", str(log), str(cordon_bin), "convert", f"--sandbox={sandbox}",
              *args, "in.raw", "out.img"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return log.read_text()


@pytest.mark.parametrize("mode,flushed", [(None, False), ("unsafe", False),
                                          ("writeback", True), ("none", True),
                                          ("writethrough", True), ("directsync", True)])
def test_cache_mode_decides_the_flush(cordon_bin, sandbox, tmp_path, mode, flushed):
    args = (["-t", mode] if mode else []) + ["-S", "0"]
    trace = syscalls(cordon_bin, sandbox, tmp_path, args)
    assert ("fdatasync(" in trace) == flushed, trace
    assert ("sync_file_range(" in trace) == flushed, trace
    assert digest(tmp_path / "out.img") == digest(tmp_path / "in.raw")


@pytest.mark.parametrize("abbrev,full", [("--sa", "--salvage"), ("--b", "--bitmaps"),
                                         ("--target-is", "--target-is-zero")])
def test_qemus_abbreviations_are_its_options(cordon_bin, sandbox, tmp_path, abbrev, full):
    """An abbreviation unique among qemu-img convert's long options is that
    option, though cordon's own (--sandbox, --backing-allow) share its
    start (src/cli/common_opts.c qemu_long_abbreviation)."""
    (tmp_path / "in.raw").write_bytes(rand(4096, 1))
    def run(opt):
        return tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", opt, "-O", "raw",
                     "in.raw", "out.img"], cwd=tmp_path)
    a, f = run(abbrev), run(full)
    assert (a.returncode, a.stderr) == (f.returncode, f.stderr)
    assert b"unrecognized option" not in a.stderr


# convert -n: (target before, argv before the target's name); both tools
# write into their own copy of the target, compared afterwards byte for byte.
INTO_EXISTING = {
    "larger-target-keeps-its-tail": (b"X" * 8192, ["-n", "-O", "raw", "in.raw"]),
    "smaller-target": (b"\0" * 2048, ["-n", "-O", "raw", "in.raw"]),
    "unaligned-target": (b"X" * 4000, ["-n", "-O", "raw", "in.raw"]),
    "target-is-zero": (bytes(8192), ["-n", "--target-is-zero", "-O", "raw", "in.raw"]),
    "qcow2-input": (b"X" * (1 << 20), ["-n", "-O", "raw", "in.qcow2"]),
    "qcow2-input-S0": (b"X" * (1 << 20), ["-n", "-O", "raw", "-S", "0", "in.qcow2"]),
    "two-inputs": (b"X" * 16384, ["-n", "-O", "raw", "in.raw", "in.raw"]),
    "missing-target": (None, ["-n", "-O", "raw", "in.raw"]),
    "with-o": (b"X" * 8192, ["-n", "-o", "size=1M", "-O", "raw", "in.raw"]),
}


@pytest.mark.parametrize("name", sorted(INTO_EXISTING))
def test_convert_into_an_existing_target_as_qemu(qemu_img, cordon_bin, sandbox, tmp_path, name):
    target, args = INTO_EXISTING[name]
    src = tmp_path / "src"
    src.mkdir()
    (src / "in.raw").write_bytes(rand(4096, 9))
    assert tool(["qemu-img", "create", "-q", "-f", "qcow2", "in.qcow2", "1M"],
                cwd=src).returncode == 0
    io(src, "in.qcow2", "qcow2", "write -P 0x11 64k 64k", "write -z 256k 64k")
    files = {p.name: p for p in src.iterdir()}
    if target is not None:
        files["t.img"] = target
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, args + ["t.img"], files)
    assert (c[0], c[1], c[2]) == (q[0], q[1], q[2])
    qt, ct = q[3] / "t.img", c[3] / "t.img"
    assert qt.exists() == ct.exists()
    if target is not None:
        assert ct.read_bytes() == qt.read_bytes()
    assert sorted(p.name for p in c[3].iterdir()) == sorted(p.name for p in q[3].iterdir())


def test_convert_into_an_existing_qcow2_is_refused(cordon_bin, sandbox, tmp_path):
    """qemu-img writes into the image in place; cordon has no in-place qcow2
    writer yet (docs/convert.md): one line, the image untouched."""
    (tmp_path / "in.raw").write_bytes(rand(4096, 1))
    assert tool(["qemu-img", "create", "-q", "-f", "qcow2", "t.qcow2", "8K"],
                cwd=tmp_path).returncode == 0
    before = (tmp_path / "t.qcow2").read_bytes()
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", "-n", "-O", "qcow2",
              "in.raw", "t.qcow2"], cwd=tmp_path)
    assert (p.returncode, p.stderr) == (1, b"cordon: Could not open 't.qcow2': cordon cannot "
                                           b"write into an existing qcow2 image yet\n")
    assert (tmp_path / "t.qcow2").read_bytes() == before
