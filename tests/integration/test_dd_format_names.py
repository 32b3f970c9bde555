"""
Every format, protocol and filter name qemu-img 7.2 knows, against the real
qemu-img (src/core/format_table.c is the one table behind all of this):

- images of formats cordon cannot read yet, made by qemu-img itself, are
  refused in one line naming the format qemu-img's own probe finds, with no
  output left and an existing output untouched; never copied as raw;
- images qemu-img probes as raw (a fixed VHD, a VMDK's flat extent) are
  copied exactly as qemu-img copies them;
- -f and -O with protocol and filter names do what qemu-img does with a
  plain file name, in its words;
- character devices as inputs and outputs, as qemu-img takes them.

Deliberate differences, each tested as such (docs/dd.md):
- qemu-img prints "qemu: module block-block-ssh not found, do you want to
  install qemu-block-extra package?" before calling such a driver unknown;
  cordon only calls it unknown;
- -f snapshot-access: qemu-img leaves the output it created when the first
  read fails; cordon leaves none;
- -f/-O host_cdrom on a device: cordon does not use CD-ROM drivers.
"""
import subprocess

import pytest

from conftest import data, populate, run_tool, describe, QEMU_IMG

OUT_BEFORE = b"an existing output\n"


def make_image(tmp_path_factory, fmt, opts):
    """qemu-img create's files (the image and any extents), by name."""
    d = tmp_path_factory.mktemp(f"img-{fmt}")
    argv = [QEMU_IMG, "create", "-q", "-f", fmt] + (["-o", opts] if opts else [])
    subprocess.run(argv + ["in.img", "1M"], cwd=d, check=True)
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def probed_format(files, tmp_path):
    """qemu-img's own probe of in.img: the format `qemu-img info` names."""
    d = tmp_path / "probe"
    populate(d, files)
    out = subprocess.run([QEMU_IMG, "info", "-U", "in.img"], cwd=d, check=True,
                         capture_output=True, text=True).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines()
                if line.startswith("file format: "))


NOT_READ_YET = [
    ("vdi", "static=off"),
    ("vdi", "static=on"),
    ("qed", None),
    ("parallels", None),
    ("qcow", None),
]


@pytest.mark.parametrize("fmt,opts", NOT_READ_YET,
                         ids=[f"{f}-{o}" if o else f for f, o in NOT_READ_YET])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_formats_cordon_cannot_read_yet_are_refused(tmp_path, tmp_path_factory,
                                                    run_cordon, fmt, opts, existing):
    files = make_image(tmp_path_factory, fmt, opts)
    probed = probed_format(files, tmp_path)
    assert probed == fmt  # the oracle's probe agrees with the fixture
    inputs = dict(files, **({"out.raw": OUT_BEFORE} if existing else {}))
    cdir = tmp_path / "cordon"
    populate(cdir, inputs)
    c = run_cordon(["if=in.img", "of=out.raw", "bs=64k"], cdir)
    assert c.rc == 1
    assert c.stderr == f"PROG: Could not open 'in.img': cordon cannot read {fmt} images yet\n"
    assert c.files == inputs  # nothing created, nothing changed


# qemu-img probes these as raw: a fixed VHD's footer is at its end, and a
# flat extent is the disk's bytes.  Copied as qemu-img copies them.
RAW_TO_QEMU = [
    ("vpc", "subformat=fixed", "in.img"),
    ("vmdk", "subformat=monolithicFlat", "in-flat.img"),
    ("vmdk", "subformat=twoGbMaxExtentFlat", "in-f001.img"),
]


@pytest.mark.parametrize("fmt,opts,name", RAW_TO_QEMU,
                         ids=[f"{f}-{o}-{n}" for f, o, n in RAW_TO_QEMU])
def test_files_qemu_probes_as_raw_are_copied_as_raw(tmp_path_factory, dd_compare,
                                                     fmt, opts, name):
    files = make_image(tmp_path_factory, fmt, opts)
    data_file = bytearray(files[name])
    data_file[:4096] = data(4096)  # content the copy must carry
    dd_compare([f"if={name}", "of=out.raw", "bs=64k"], {name: bytes(data_file)})


def head(*fields, size=65536):
    """A file of zeros with bytes placed at offsets: head((0, b"QFI"), ...)."""
    b = bytearray(size)
    for off, value in fields:
        b[off:off + len(value)] = value
    return bytes(b)


CLOOP = b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n"
VDI_SIG = (64, (0xbeda107f).to_bytes(4, "little"))
# Hand-made heads qemu-img cannot create, with what qemu-img's probe picks:
# the driver its error message comes from; None where cordon must do
# exactly what qemu-img does (raw, or a format cordon reads).
PROBE_CASES = [
    ("vdi-beats-qcow2", "in.img", head((0, b"QFI\xfb\0\0\0\3"), VDI_SIG), "vdi",
     "unsupported VDI image"),
    ("qed-beats-vdi", "in.img", head((0, b"QED\0"), VDI_SIG), "qed", "QED cluster size"),
    ("dmg-by-name-beats-cloop", "in.dmg", head((0, CLOOP)), "dmg", "UDIF trailer"),
    ("dmg-by-name-alone", "in.dmg", head((0, b"hello")), "dmg", "UDIF trailer"),
    ("cloop", "in.img", head((0, CLOOP)), "cloop", "block_size cannot be zero"),
    ("qcow-version-1", "in.img", head((0, b"QFI\xfb\0\0\0\1")), "qcow", "Image size is too small"),
    ("parallels-ext", "in.img", head((0, b"WithouFreSpacExt\2")), "parallels",
     "Zero sectors per track"),
    ("bochs", "in.img", head((0, b"Bochs Virtual HD Image"), (32, b"Redolog"), (48, b"Growing"),
                             (64, (0x20000).to_bytes(4, "little"))), "bochs",
     "Extent size must be at least 512"),
    # cordon reads vmdk: its messages must be qemu's own
    ("vmdk-descriptor-blank-lines", "in.img", head((0, b"# Disk DescriptorFile\n   \r\nversion=1\r\n")),
     None, None),
    ("vmdk-cowd", "in.img", head((0, b"COWD")), None, None),
    ("luks-version-2-is-raw", "in.img", head((0, b"LUKS\xba\xbe\0\2")), None, None),
    ("vmdk-descriptor-after-a-tab-is-raw", "in.img", head((0, b"# Disk\n\tversion=1\n")), None, None),
    ("empty-file-is-raw", "in.img", b"", None, None),
    ("qcow2-version-4-is-qcow2", "in.img", head((0, b"QFI\xfb\0\0\0\4")), None, None),
    ("parallels-version-3-is-raw", "in.img", head((0, b"WithouFreSpacExt\3")), None, None),
    ("bochs-other-type-is-raw", "in.img", head((0, b"Bochs Virtual HD Image"), (32, b"Redolog"),
                                               (48, b"Growing!")), None, None),
]


@pytest.mark.parametrize("name,image,fmt,qemu_says", [c[1:] for c in PROBE_CASES],
                         ids=[c[0] for c in PROBE_CASES])
def test_probe_picks_what_qemu_picks(tmp_path, dd_compare, run_cordon, run_qemu, name,
                                     image, fmt, qemu_says):
    inputs = {name: image}
    args = [f"if={name}", "of=out.raw"]
    if fmt is None:
        dd_compare(args, inputs)
        return
    qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
    populate(qdir, inputs)
    populate(cdir, inputs)
    q = run_qemu(args, qdir, inputs=inputs)
    assert q.rc == 1 and qemu_says in q.stderr, q.stderr  # the oracle's driver
    c = run_cordon(args, cdir)
    assert (c.rc, c.stderr) == (
        1, f"PROG: Could not open '{name}': cordon cannot read {fmt} images yet\n")
    assert c.files == inputs


# -f NAME on a plain file (a qcow2 image, so that raw and qcow2 reads differ):
# every name qemu-img knows that is not an image format, and names of
# drivers Debian ships in qemu-block-extra, which qemu-utils alone lacks.
PLAIN_INPUT_DRIVERS = [
    "file", "host_device", "host_cdrom", "nbd", "nvme", "null-co", "null-aio",
    "vvfat", "blkdebug", "blklogwrites", "blkverify", "compress",
    "copy-before-write", "copy-on-read", "preallocate", "quorum", "replication",
    "throttle", "no-such-driver",
]
MODULE_DRIVERS = ["ssh", "http", "https", "ftp", "ftps", "gluster", "iscsi", "iser",
                  "nfs", "rbd"]


@pytest.fixture(scope="module")
def qcow2_input(tmp_path_factory):
    d = tmp_path_factory.mktemp("qcow2-input")
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "in.img", "1M"], cwd=d,
                   check=True)
    subprocess.run(["qemu-io", "-c", "write -P 0x55 0 64k", "in.img"], cwd=d, check=True,
                   capture_output=True)
    return (d / "in.img").read_bytes()


@pytest.mark.parametrize("driver", PLAIN_INPUT_DRIVERS)
def test_input_driver_names_as_qemu_treats_them(dd_compare, qcow2_input, driver):
    dd_compare(["-f", driver, "if=in.img", "of=out.raw", "bs=64k"], {"in.img": qcow2_input})


@pytest.mark.parametrize("driver", PLAIN_INPUT_DRIVERS + ["snapshot-access", "bochs",
                                                          "cloop", "dmg", "raw", "foo"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_output_driver_names_as_qemu_treats_them(dd_compare, qcow2_input, driver,
                                                 existing):
    inputs = {"in.img": qcow2_input}
    if existing:
        inputs["out.img"] = OUT_BEFORE
    dd_compare(["-O", driver, "if=in.img", "of=out.img", "bs=64k"], inputs)


def compare_without_module_hint(tmp_path, run_cordon, args, inputs):
    """qemu-img's answer with its "module ... not found" hint taken out."""
    qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
    populate(qdir, inputs)
    populate(cdir, inputs)
    q = run_tool([QEMU_IMG, "dd"] + args, qdir, "qemu-img")
    hint = [line for line in q.stderr.splitlines(keepends=True)
            if line.startswith("qemu: module ")]
    assert hint, "qemu-img no longer prints the module hint: update this test"
    q.stderr = "".join(line for line in q.stderr.splitlines(keepends=True)
                       if line not in hint)
    c = run_cordon(args, cdir)
    assert (c.rc, c.stderr) == (q.rc, q.stderr), describe("outcome", q, c)
    assert c.files == q.files


@pytest.mark.parametrize("driver", MODULE_DRIVERS)
def test_drivers_qemu_utils_lacks_are_unknown(tmp_path, run_cordon, qcow2_input, driver):
    compare_without_module_hint(tmp_path, run_cordon,
                                ["-f", driver, "if=in.img", "of=out.raw"],
                                {"in.img": qcow2_input})


@pytest.mark.parametrize("driver", ["ssh", "http"])
def test_output_drivers_qemu_utils_lacks_are_unknown(tmp_path, run_cordon, qcow2_input,
                                                     driver):
    compare_without_module_hint(tmp_path, run_cordon,
                                ["-O", driver, "if=in.img", "of=out.raw"],
                                {"in.img": qcow2_input})


@pytest.mark.parametrize("fmt", ["vdi", "qed", "parallels", "qcow", "luks"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_output_formats_cordon_cannot_write_yet(tmp_path, run_cordon, fmt, existing):
    inputs = {"in.raw": data(65536)}
    if existing:
        inputs["out.img"] = OUT_BEFORE
    cdir = tmp_path / "cordon"
    populate(cdir, inputs)
    c = run_cordon(["-O", fmt, "if=in.raw", "of=out.img"], cdir)
    assert (c.rc, c.stderr) == (1, f"PROG: cordon cannot write {fmt} images yet\n")
    assert c.files == inputs


def test_snapshot_access_fails_reading_and_leaves_no_output(tmp_path, run_cordon,
                                                           run_qemu, qcow2_input):
    args = ["-f", "snapshot-access", "if=in.img", "of=out.raw", "bs=64k"]
    inputs = {"in.img": qcow2_input}
    qdir, cdir = tmp_path / "qemu", tmp_path / "cordon"
    populate(qdir, inputs)
    populate(cdir, inputs)
    q = run_qemu(args, qdir, inputs=inputs)
    c = run_cordon(args, cdir)
    assert (c.rc, c.stderr) == (q.rc, q.stderr), describe("outcome", q, c)
    assert q.rc == 1 and "out.raw" in q.files  # qemu-img leaves it
    assert c.files == inputs  # cordon does not


# Character devices: qemu-img reads them as raw files of size 0 (its probe
# sees no bytes), -f file refuses them, -f host_device takes them; as
# outputs, raw and host_device "cannot grow" them, file cannot resize them.
DEVICE_CASES = [
    ["if=/dev/zero", "of=out.raw", "count=1", "bs=4k"],
    ["if=/dev/null", "of=out.raw"],
    ["-f", "raw", "if=/dev/zero", "of=out.raw", "bs=4k", "count=1"],
    ["-f", "qcow2", "if=/dev/zero", "of=out.raw"],
    ["-f", "file", "if=/dev/zero", "of=out.raw", "count=1"],
    ["-f", "host_device", "if=/dev/zero", "of=out.raw", "count=1"],
    ["if=in.raw", "of=/dev/null"],
    ["-O", "file", "if=in.raw", "of=/dev/null"],
    ["-O", "host_device", "if=in.raw", "of=/dev/null"],
]


@pytest.mark.parametrize("args", DEVICE_CASES, ids=[" ".join(a) for a in DEVICE_CASES])
def test_character_devices_as_qemu_takes_them(dd_compare, args):
    dd_compare(args, {"in.raw": data(65536)})


def test_host_cdrom_on_a_device_is_not_used(tmp_path, run_cordon):
    c = run_cordon(["-f", "host_cdrom", "if=/dev/zero", "of=out.raw"], tmp_path)
    assert (c.rc, c.stderr) == (
        1, "PROG: Could not open '/dev/zero': cordon does not use the 'host_cdrom' driver\n")
    assert c.files == {}
