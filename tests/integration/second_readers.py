"""
Readers other than qemu-img, for formats where qemu-img should not be the
only judge: Debian's libvhdi (python3-libvhdi) for VHD and VHDX, libvmdk
(python3-libvmdk) for VMDK.
"""


def libvhdi_read(path, parent=None):
    """The disk as libvhdi reads it (with parent as the differencing
    image's parent, if given), or None where libvhdi refuses the image (it
    refuses empty VHDs and VHDXs, qemu-img's as much as cordon's)."""
    import pyvhdi
    f = pyvhdi.file()
    try:
        f.open(str(path))
    except OSError:
        return None
    p = None
    try:
        if parent is not None:
            p = pyvhdi.file()
            p.open(str(parent))
            f.set_parent(p)
        return f.read_buffer_at_offset(f.get_media_size(), 0)
    finally:
        f.close()
        if p is not None:
            p.close()


def libvmdk_read(path, parent=None):
    """The disk as libvmdk reads it (extent files found beside path, parent
    as the image's parent if given), or None where libvmdk refuses it."""
    import pyvmdk
    h = pyvmdk.handle()
    try:
        h.open(str(path))
        h.open_extent_data_files()
    except OSError:
        return None
    p = None
    try:
        if parent is not None:
            p = pyvmdk.handle()
            p.open(str(parent))
            p.open_extent_data_files()
            h.set_parent(p)
        return h.read_buffer_at_offset(h.get_media_size(), 0)
    finally:
        h.close()
        if p is not None:
            p.close()
