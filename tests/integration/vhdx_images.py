"""
VHDX structures written from Microsoft's VHDX specification ([MS-VHDX]),
for what qemu-img cannot make: active (dirty) logs, and patched images with
their checksums fixed.  Images themselves are made by qemu-img.

A log entry built here: a 4 KiB sector holding the 64-byte entry header and
the first descriptors, more descriptor sectors as needed, then one data
sector per data descriptor; the CRC-32C covers the whole entry.
"""
import struct
import uuid as uuidlib

MiB = 1 << 20
SECTOR = 4096


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_T = _table()


def crc32c(b, crc=0):
    crc ^= 0xFFFFFFFF
    for x in b:
        crc = _T[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def fix_crc(b, off, size):
    """Recomputes the CRC-32C at off+4 of the structure [off, off+size)."""
    b[off + 4:off + 8] = b"\0\0\0\0"
    b[off + 4:off + 8] = struct.pack("<I", crc32c(bytes(b[off:off + size])))


HEADERS = (0x10000, 0x20000)
REGION_TABLE = 0x30000


def header_fields(img, which):
    off = HEADERS[which]
    seq, = struct.unpack_from("<Q", img, off + 8)
    log_len, log_off = struct.unpack_from("<IQ", img, off + 68)
    return seq, log_off, log_len


def active_header(img):
    s0 = header_fields(img, 0)[0]
    s1 = header_fields(img, 1)[0]
    return 0 if s0 > s1 else 1


def regions(img):
    """{'bat': (offset, length), 'metadata': (...)} from the region table."""
    out = {}
    n, = struct.unpack_from("<I", img, REGION_TABLE + 8)
    for i in range(n):
        e = REGION_TABLE + 16 + 32 * i
        guid = bytes(img[e:e + 16])
        off, length = struct.unpack_from("<QI", img, e + 16)
        name = {bytes.fromhex("6677c22d23f600429d64115e9bfd4a08"): "bat",
                bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e"): "metadata"}.get(guid)
        out[name or guid.hex()] = (off, length)
    return out


def bat_entry(img, i):
    off = regions(img)["bat"][0]
    return struct.unpack_from("<Q", img, off + 8 * i)[0]


def log_entry(seq, guid, data_writes=(), zero_writes=(), flushed=0, last=0,
              pad_sectors=0):
    """One log entry: data_writes [(file_offset, 4096 bytes)], zero_writes
    [(file_offset, length)], as descriptors with data sectors."""
    descs = []
    for off, length in zero_writes:
        descs.append(struct.pack("<4sIQQQ", b"zero", 0, length, off, seq))
    datas = []
    for off, content in data_writes:
        assert len(content) == SECTOR
        lead, trail = content[:8], content[-4:]
        descs.append(struct.pack("<4s4s8sQQ", b"desc", trail, lead, off, seq))
        datas.append(struct.pack("<4sI", b"data", seq >> 32) + content[8:-4]
                     + struct.pack("<I", seq & 0xFFFFFFFF))
    n = len(descs)
    dsec = (n + 2 + 127) // 128
    length = (dsec + len(datas) + pad_sectors) * SECTOR
    hdr = struct.pack("<4sIIIQII16sQQ", b"loge", 0, length, 0, seq, n, 0, guid,
                      flushed, last)
    body = bytearray(hdr + b"".join(descs))
    body += bytes(dsec * SECTOR - len(body))
    for d in datas:
        body += d
    body += bytes(pad_sectors * SECTOR)
    struct.pack_into("<I", body, 4, crc32c(bytes(body)))
    return bytes(body)


def with_log(img, entries, guid=None, at=0):
    """img with entries (log_entry() results) written into its log at log
    offset `at`, and the active header naming the log's guid."""
    b = bytearray(img)
    h = active_header(b)
    seq, log_off, log_len = header_fields(b, h)
    blob = b"".join(entries)
    assert at + len(blob) <= log_len
    b[log_off + at:log_off + at + len(blob)] = blob
    hoff = HEADERS[h]
    b[hoff + 48:hoff + 64] = guid
    fix_crc(b, hoff, 4096)
    return bytes(b)


def new_guid():
    return uuidlib.uuid4().bytes


# ---- differencing VHDX (qemu-img cannot make them) --------------------------

PARENT_LOCATOR = uuidlib.UUID("a8d35f2d-b30b-454d-abf7-d3d84834ab0c").bytes_le
LOCATOR_TYPE = uuidlib.UUID("b04aefb7-d19e-4a81-b789-25b8e9445913").bytes_le
NOT_PRESENT, ZERO, FULLY_PRESENT, PARTIALLY_PRESENT = 0, 2, 6, 7
SB_PRESENT = 6


def data_write_guid(img):
    """The data write GUID of the header in use, as a child's
    parent_linkage holds it ("{...}"; lower case, which is what libvhdi
    20210425 parses: cordon takes either case)."""
    which = active_header(img)
    raw = bytes(img[HEADERS[which] + 32:HEADERS[which] + 48])
    return "{" + str(uuidlib.UUID(bytes_le=raw)) + "}"


def locator(entries):
    """A parent locator item: {key: value} as UTF-16LE key-value pairs."""
    table, blob = b"", b""
    base = 20 + 12 * len(entries)
    for k, v in entries.items():
        kb, vb = k.encode("utf-16-le"), v.encode("utf-16-le")
        table += struct.pack("<IIHH", base + len(blob), base + len(blob) + len(kb),
                             len(kb), len(vb))
        blob += kb + vb
    return LOCATOR_TYPE + struct.pack("<HH", 0, len(entries)) + table + blob


def differencing(template, parent, loc, blocks, block_size, logical=512):
    """A differencing VHDX from `template` (a dynamic VHDX qemu-img made with
    block_state_zero=off, of the parent's size and block size): the
    metadata gains the HasParent flag and the parent locator item `loc`
    (None: from the parent's data write GUID and relative path
    "parent.vhdx"); blocks {index: (state, data, present sectors)} become
    BAT entries, their data and the chunks' sector bitmaps appended."""
    img = bytearray(template)
    if loc is None:
        loc = locator({"parent_linkage": data_write_guid(parent),
                       "relative_path": ".\\parent.vhdx"})
    moff, _ = regions(img)["metadata"]
    count, = struct.unpack_from("<H", img, moff + 10)
    items = [struct.unpack_from("<16sIII", img, moff + 32 + 32 * i) for i in range(count)]
    end = max(off + ln for _, off, ln, _ in items)
    at = (end + 7) & ~7
    e = moff + 32 + 32 * count
    struct.pack_into("<16sIII", img, e, PARENT_LOCATOR, at, len(loc), 4)  # required
    struct.pack_into("<H", img, moff + 10, count + 1)
    img[moff + at:moff + at + len(loc)] = loc
    for guid, off, ln, flags in items:
        if guid == uuidlib.UUID("caa16737-fa36-4d43-b3b6-33f0aa44e76b").bytes_le:
            bs, fl = struct.unpack_from("<II", img, moff + off)
            struct.pack_into("<II", img, moff + off, bs, fl | 2)      # HasParent
    boff, _ = regions(img)["bat"]
    ratio = (1 << 23) * logical // block_size
    bitmaps = {}
    for b, (state, data, present) in sorted(blocks.items()):
        slot = b + b // ratio
        entry = state
        if state in (FULLY_PRESENT, PARTIALLY_PRESENT):
            off = (len(img) + MiB - 1) // MiB * MiB
            img += b"\0" * (off - len(img)) + data.ljust(block_size, b"\0")
            entry |= off
        struct.pack_into("<Q", img, boff + 8 * slot, entry)
        if state == PARTIALLY_PRESENT:
            bm = bitmaps.setdefault(b // ratio, bytearray(MiB))
            per_block = block_size // logical
            for s in present:
                n = (b % ratio) * per_block + s
                bm[n // 8] |= 1 << (n % 8)
    for chunk, bm in bitmaps.items():
        off = (len(img) + MiB - 1) // MiB * MiB
        img += b"\0" * (off - len(img)) + bytes(bm)
        struct.pack_into("<Q", img, boff + 8 * (chunk * (ratio + 1) + ratio), SB_PRESENT | off)
    return bytes(img)
