"""
A real client of `qemu-img info`'s output: OpenStack's oslo.utils
(Debian's python3-oslo.utils), whose `imageutils.QemuImgInfo` Nova, Cinder
and Glance parse it with.  `QemuImgInfo(out, format='json')` and the human
parser `QemuImgInfo(out)` must set the same attributes from cordon's output
as from qemu-img's, for every input the convert tests make and every image
of test_info.py's `special` fixture that qemu-img describes; and enough of
them must be set (format, sizes, backing file, snapshots, format-specific
data) that the test fails if cordon's output stopped parsing.
"""
import pytest

imageutils = pytest.importorskip(
    "oslo_utils.imageutils",
    reason="oslo.utils is not installed (python3-oslo.utils; make setup installs it)")

from image_tools import run_both_full  # noqa: E402
from test_convert import INPUTS, input_files  # noqa: E402
# special is test_info.py's module fixture, imported to be used here too.
from test_info import SPECIAL, link_deep, special  # noqa: E402,F401

pytestmark = [
    pytest.mark.usefixtures("drop_files_afterwards"),
    # Parsing the human text is deprecated in oslo.utils, not gone.
    pytest.mark.filterwarnings("ignore:The human format is deprecated:FutureWarning"),
]

# What QemuImgInfo sets (oslo_utils/imageutils.py); vars() compares them
# all, and any a later oslo.utils adds.
ATTRS = {"image", "file_format", "virtual_size", "disk_size", "cluster_size",
         "backing_file", "backing_file_format", "encrypted", "snapshots",
         "format_specific"}

# The forms oslo.utils parses: (qemu-img info options, QemuImgInfo format).
# `--backing-chain --output=json` is left out: it prints a JSON list, and
# QemuImgInfo calls .get() on what json.loads returns (AttributeError).
# The human parser takes --backing-chain's text without complaint, the
# images' lines merged (a later image's value wins), so that form is kept.
FORMS = {
    "human": ([], "human"),
    "json": (["--output=json"], "json"),
    "chain-human": (["--backing-chain"], "human"),
}

FORMATS = {"raw", "qcow2", "vpc", "vhdx", "vmdk"}
SUFFIX_FORMAT = {".qcow2": "qcow2", ".vmdk": "vmdk", ".vhdx": "vhdx", ".vhd": "vpc"}
# qemu probes a fixed VHD (its footer at the end, nothing at the start) as raw.
PROBED_RAW = {"vpc-fixed", "fixed.vhd"}
DEEP = "sub/deep.qcow2"  # backing file "../top.qcow2", outside its directory
BACKED = {"qcow2-chain", "top.qcow2", "mid.qcow2", "orphan.qcow2", "loopa.qcow2", DEEP}
SNAPSHOTS = {"snap.qcow2": 3, "snap2.qcow2": 1}
ENCRYPTED = {"aes.qcow2", "aes2.qcow2"}
# --backing-chain fails on these, so they have no chain-human case
# (test_info.py compares the failures): a missing backing file, a loop, and
# (cordon's policy) a backing file outside the image's directory.
CHAIN_FAILS = {"orphan.qcow2", "loopa.qcow2", DEEP}


def check(qemu_img, cordon_bin, sandbox, tmp_path, files, name, arg, fmt, form):
    args, how = FORMS[form]
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "info", args + [arg],
                         files)
    assert q[0] == 0 and c[0] == 0, (q[1], c[1])
    qi = vars(imageutils.QemuImgInfo(q[2].decode(), format=how))
    ci = vars(imageutils.QemuImgInfo(c[2].decode(), format=how))
    assert ci == qi
    assert ATTRS <= set(ci)

    # Not parsed into nothing:
    assert isinstance(ci["virtual_size"], int) and ci["virtual_size"] > 0
    assert isinstance(ci["disk_size"], int) and ci["disk_size"] > 0
    assert ci["encrypted"] == ("yes" if name in ENCRYPTED else None)
    if form == "chain-human":  # the last image's name and format
        assert ci["image"] and ci["file_format"] in FORMATS
        return
    assert ci["image"] == arg
    assert ci["file_format"] == ("raw" if name in PROBED_RAW else fmt)
    if fmt in ("qcow2", "vhdx"):
        assert ci["cluster_size"] > 0
    if name in BACKED:
        assert ci["backing_file"] and ci["backing_file_format"]
    else:
        assert ci["backing_file"] is None
    if how == "json":
        if fmt in ("qcow2", "vmdk"):
            assert ci["format_specific"]["type"] == fmt
        # The human parser finds none: qemu 7.2's rows ("0 B" as VM SIZE)
        # are not the 6 columns it splits them into.
        assert len(ci["snapshots"]) == SNAPSHOTS.get(name, 0)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("key", sorted(INPUTS))
def test_oslo_parses_convert_inputs_alike(qemu_img, cordon_bin, sandbox, tmp_path,
                                          tmp_path_factory, key, form):
    files = input_files(tmp_path_factory, key)
    check(qemu_img, cordon_bin, sandbox, tmp_path, files, key, "in.img",
          key.split("-")[0], form)


SPECIAL_CASES = [(name, form) for name in SPECIAL + [DEEP] for form in FORMS
                 if not (form == "chain-human" and name in CHAIN_FAILS)]


@pytest.mark.parametrize("name,form", SPECIAL_CASES,
                         ids=[f"{n}-{f}" for n, f in SPECIAL_CASES])
def test_oslo_parses_special_images_alike(qemu_img, cordon_bin, sandbox, tmp_path, special,
                                          name, form):
    files, d = special
    if name == DEEP:
        link_deep(tmp_path, d)
    fmt = SUFFIX_FORMAT["." + name.rsplit(".", 1)[1]]
    check(qemu_img, cordon_bin, sandbox, tmp_path, files, name, name, fmt, form)
