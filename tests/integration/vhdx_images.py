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
