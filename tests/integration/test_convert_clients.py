"""
The command lines real clients pass to `qemu-img convert`, read in their
code, run unchanged with cordon in qemu-img's place and compared with
qemu-img (status, messages, output format, size, content, allocation):

- OpenStack Nova, nova/privsep/qemu.py unprivileged_convert_image():
  `convert -t none|writeback -O FMT [-f FMT] [-c] SRC DEST`;
  nova/virt/libvirt/utils.py extract_snapshot(): `convert -f FMT -O FMT`.
- OpenStack Cinder, cinder/image/image_utils.py _get_qemu_convert_cmd():
  `convert -O FMT [-t CACHE] [-c] [-o subformat=X] [-f FMT] SRC DEST`
  (vhd is passed as vpc).
- OpenStack Glance, glance/async_/flows/plugins/image_conversion.py:
  `convert -f FMT -O FMT SRC DEST`, and any stderr output is a failure.
- Proxmox VE, PVE::QemuServer qemu_img_convert(): `convert -p -n [-t none]
  [-T CACHE] -f FMT -O FMT SRC DEST`.

The shapes that need what cordon convert does not do yet (-c, -o, -n) are
listed at the end: refused in one line, nothing written.
"""
import pytest

from image_tools import rand, run_both_full, tool
from test_convert import compare, input_files, run_both

pytestmark = pytest.mark.usefixtures("drop_files_afterwards")

WORKS = {
    "nova-none-qcow2-raw": (["-t", "none", "-O", "raw", "-f", "qcow2"], "qcow2-v3", "raw"),
    "nova-writeback-qcow2-raw": (["-t", "writeback", "-O", "raw", "-f", "qcow2"],
                                 "qcow2-compressed", "raw"),
    "nova-none-probed": (["-t", "none", "-O", "qcow2"], "vmdk-sparse", "qcow2"),
    "nova-extract-snapshot": (["-f", "qcow2", "-O", "qcow2"], "qcow2-chain", "qcow2"),
    "cinder-to-raw": (["-O", "raw", "-t", "none", "-f", "qcow2"], "qcow2-v2", "raw"),
    "cinder-to-vhd": (["-O", "vpc", "-f", "raw"], "raw", "vpc"),
    "cinder-to-vhdx": (["-O", "vhdx", "-t", "none"], "qcow2-extl2", "vhdx"),
    "cinder-from-vmdk-stream": (["-O", "raw", "-f", "vmdk"], "vmdk-stream", "raw"),
    "glance-vhdx-raw": (["-f", "vhdx", "-O", "raw"], "vhdx", "raw"),
    "glance-vpc-qcow2": (["-f", "vpc", "-O", "qcow2"], "vpc-dynamic", "qcow2"),
}


@pytest.mark.parametrize("case", WORKS)
def test_client_command_lines_work_unchanged(qemu_img, cordon_bin, sandbox,
                                             tmp_path_factory, tmp_path, case):
    opts, key, out_fmt = WORKS[case]
    files = input_files(tmp_path_factory, key)
    q, c = run_both(qemu_img, cordon_bin, sandbox, tmp_path, opts + ["in.img", "out.img"],
                    files)
    assert q[0] == 0, q[1]
    compare(qemu_img, q, c, "out.img", out_fmt)
    assert c[1] == ""  # Glance fails a conversion on any stderr output


NOT_YET = {
    "nova-compress": (["-t", "none", "-O", "qcow2", "-f", "raw", "-c"],
                      "cordon cannot write compressed qcow2 images yet"),
    "cinder-subformat": (["-O", "vmdk", "-o", "subformat=streamOptimized", "-f", "raw"],
                         "cordon convert cannot honour -o (output format options) yet"),
}


def test_proxmox_converts_into_an_existing_volume(qemu_img, cordon_bin, sandbox, tmp_path):
    """Proxmox (qemu-server's disk import and move): `-p -n -f raw -O raw`
    into a volume it made beforehand, larger than the data."""
    files = {"in.img": rand(64 << 10, 3), "out.img": b"Y" * (128 << 10)}
    q, c = run_both_full(qemu_img, cordon_bin, sandbox, tmp_path, "convert",
                         ["-p", "-n", "-f", "raw", "-O", "raw", "in.img", "out.img"], files)
    assert q[0] == 0 and (c[0], c[1], c[2]) == (q[0], q[1], q[2])
    assert (c[3] / "out.img").read_bytes() == (q[3] / "out.img").read_bytes()


@pytest.mark.parametrize("case", NOT_YET)
def test_client_command_lines_not_carried_out_yet(cordon_bin, sandbox, tmp_path, case):
    opts, why = NOT_YET[case]
    (tmp_path / "in.img").write_bytes(rand(64 << 10, 3))
    (tmp_path / "out.img").write_bytes(b"kept")
    p = tool([str(cordon_bin), "convert", f"--sandbox={sandbox}", *opts, "in.img", "out.img"],
             cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode().endswith(f"cordon: {why}\n")
    assert (tmp_path / "out.img").read_bytes() == b"kept"
