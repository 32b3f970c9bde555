"""
VMDK structures written from VMware's "Virtual Disk Format 5.0" for what
qemu-img does not make: hostile headers and descriptors, ESX "COWD" sparse
extents, grain tables pointing anywhere, compressed grains with any length.
Ordinary images are made by qemu-img (and vmdk-stream-converter).
"""
import struct
import zlib

SECTOR = 512
RGD, NL_DETECT, ZERO_GRAIN = 1 << 1, 1 << 0, 1 << 2
COMPRESS, MARKER = 1 << 16, 1 << 17


def header4(capacity, granularity=128, gtes=512, gd=0, rgd=0, grain_offset=0,
            flags=NL_DETECT, version=1, desc_offset=0, desc_size=0, compress=0):
    """Sector 0 of a hosted sparse extent: "KDMV" and the packed header."""
    h = b"KDMV" + struct.pack("<IIQQQQIQQQ", version, flags, capacity, granularity,
                              desc_offset, desc_size, gtes, rgd, gd, grain_offset)
    h += b"\0" + b"\n \r\n" + struct.pack("<H", compress)
    return h.ljust(SECTOR, b"\0")


def descriptor(create_type, extents, cid=0x1234abcd, parent_cid=0xffffffff, hint=None,
               extra=""):
    """A descriptor as qemu writes one; extents are whole lines."""
    text = (f"# Disk DescriptorFile\nversion=1\nCID={cid:x}\nparentCID={parent_cid:x}\n"
            f"createType=\"{create_type}\"\n")
    if hint is not None:
        text += f"parentFileNameHint=\"{hint}\"\n"
    text += "\n# Extent description\n" + "".join(e + "\n" for e in extents)
    text += "\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n" + extra
    return text.encode()


def sparse(capacity, grains, granularity=128, gtes=512, flags=NL_DETECT | RGD,
           version=1, desc=None, zeroed=(), compress=False, gt_override=None,
           header=None):
    """A hosted sparse extent of capacity sectors: grains {index: bytes}
    (compressed with zlib when compress, with 12-byte markers), grain indexes
    in zeroed given entry 1.  gt_override {index: raw entry} sets entries as
    they are.  Layout: header, descriptor (sectors 1..20), one directory and
    its tables, grains.  header: a dict of header4 fields to override."""
    gsize = granularity * SECTOR
    n_gt = max(1, -(-capacity // (granularity * gtes)))
    gt_sectors = -(-gtes * 4 // SECTOR)
    gd_sectors = -(-n_gt * 4 // SECTOR)
    gd = 21
    gts = gd + gd_sectors
    data = -(-(gts + n_gt * gt_sectors) // granularity) * granularity if granularity else gts
    entries = [0] * (n_gt * gtes)
    body = bytearray()
    for g in sorted(grains):
        at = data + len(body) // SECTOR
        entries[g] = at
        blob = grains[g]
        if compress:
            z = zlib.compress(blob)
            blob = struct.pack("<QI", g * granularity, len(z)) + z
            blob += b"\0" * (-len(blob) % SECTOR)
        else:
            blob = blob.ljust(gsize, b"\0")
        body += blob
    for g in zeroed:
        entries[g] = 1
    for g, v in (gt_override or {}).items():
        entries[g] = v
    fields = dict(capacity=capacity, granularity=granularity, gtes=gtes, gd=gd,
                  rgd=gd if flags & RGD else 0, grain_offset=data, flags=flags,
                  version=version, desc_offset=1 if desc else 0,
                  desc_size=20 if desc else 0, compress=1 if compress else 0)
    fields.update(header or {})
    img = bytearray(header4(**fields))
    img += (desc or b"").ljust(20 * SECTOR, b"\0")
    gdt = [gts + i * gt_sectors for i in range(n_gt)]
    img += struct.pack(f"<{n_gt}I", *gdt).ljust(gd_sectors * SECTOR, b"\0")
    for i in range(n_gt):
        img += struct.pack(f"<{gtes}I", *entries[i * gtes:(i + 1) * gtes]).ljust(
            gt_sectors * SECTOR, b"\0")
    img += b"\0" * (data * SECTOR - len(img))
    return bytes(img + body)


def cowd(disk_sectors, grains, granularity=16, l1dir_size=None):
    """An ESX "COWD" sparse extent (qemu's VMDK3): 4096-entry grain tables."""
    gtes = 4096
    n_gt = max(1, -(-disk_sectors // (granularity * gtes))) if granularity else 1
    l1 = n_gt if l1dir_size is None else l1dir_size
    gd = 4
    gts = gd + -(-n_gt * 4 // SECTOR)
    data = gts + n_gt * gtes * 4 // SECTOR
    entries = [0] * (n_gt * gtes)
    body = bytearray()
    for g in sorted(grains):
        entries[g] = data + len(body) // SECTOR
        body += grains[g].ljust(granularity * SECTOR, b"\0")
    h = b"COWD" + struct.pack("<IIIIIIIIII", 1, 3, disk_sectors, granularity, gd, l1, 0,
                              0, 0, 0)
    img = bytearray(h.ljust(gd * SECTOR, b"\0"))
    img += struct.pack(f"<{n_gt}I", *[gts + i * gtes * 4 // SECTOR
                                      for i in range(n_gt)]).ljust((gts - gd) * SECTOR,
                                                                   b"\0")
    img += struct.pack(f"<{n_gt * gtes}I", *entries)
    return bytes(img + body)
