"""
Text from the sandbox is printed as one line with every terminal control
escaped (the hardening issue's item 4): a backing name holding a newline, an
escape sequence or a UTF-8 C1 control cannot forge a second line such as
"cordon: warning: image verified OK", clear the screen or set a title.
"""
import struct
import subprocess

import pytest

HOSTILE = (b"x\ncordon: warning: image verified OK\x1b[2J\x1b]0;pwned\x07"
           b"\xc2\x9b31m\x9d\x7f")


def overlay_naming(cwd, name, raw_name):
    """A qcow2 whose backing file name is raw_name, byte for byte."""
    placeholder = "P" * len(raw_name)
    subprocess.run(["qemu-img", "create", "-q", "-u", "-f", "qcow2", "-b", placeholder,
                    "-F", "raw", name, "1M"], cwd=cwd, check=True, capture_output=True)
    path = cwd / name
    data = bytearray(path.read_bytes())
    off, = struct.unpack(">Q", data[8:16])
    size, = struct.unpack(">I", data[16:20])
    assert data[off:off + size] == placeholder.encode()
    data[off:off + size] = raw_name
    path.write_bytes(bytes(data))


def test_hostile_backing_name_is_one_escaped_line(tmp_path, cordon_bin, sandbox):
    overlay_naming(tmp_path, "ov.qcow2", HOSTILE)
    p = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "if=ov.qcow2",
                        "of=out.raw"], cwd=tmp_path, capture_output=True, timeout=60)
    assert p.returncode == 1
    err = p.stderr
    assert err.count(b"\n") == 1 and err.endswith(b"\n"), err
    body = err[:-1]
    assert all(b >= 0x20 and b != 0x7f and not 0x80 <= b <= 0x9f for b in body), err
    assert (b"x\\x0acordon: warning: image verified OK\\x1b[2J\\x1b]0;pwned\\x07"
            b"\\xc2\\x9b31m\\x9d\\x7f") in body, err
    assert not (tmp_path / "out.raw").exists()


@pytest.mark.parametrize("name", ["base-\u00e9t\u00e9.raw", "\u65e5\u672c.raw"])
def test_other_utf8_names_print_as_they_are(tmp_path, cordon_bin, sandbox, name):
    """Only controls are escaped: a missing backing file named in UTF-8
    reads as qemu-img's message does."""
    overlay_naming(tmp_path, "ov.qcow2", name.encode())
    q = subprocess.run(["qemu-img", "dd", "if=ov.qcow2", "of=q.raw"], cwd=tmp_path,
                       capture_output=True)
    c = subprocess.run([str(cordon_bin), "dd", f"--sandbox={sandbox}", "if=ov.qcow2",
                        "of=c.raw"], cwd=tmp_path, capture_output=True, timeout=60)
    assert (c.returncode, c.stderr.replace(b"cordon:", b"qemu-img:")) == \
        (q.returncode, q.stderr)
