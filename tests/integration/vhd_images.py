"""
VHD (vpc) images written from Microsoft's VHD specification, for what
qemu-img cannot make: footers naming other creator applications, hostile
fields, and differencing images (with parent locators and sector bitmaps).
Images qemu-img can make are made by qemu-img in the tests themselves.

Layout of a dynamic or differencing image built here:
    0      footer copy
    512    dynamic disk header (1024 bytes)
    1536   BAT, rounded up to 512 bytes
    ...    parent locator data (differencing), then blocks:
           [sector bitmap][block data] per allocated block, in BAT order
    end    footer
"""
import struct
import uuid as uuidlib

SECTOR = 512
FIXED, DYNAMIC, DIFFERENCING = 2, 3, 4
UNUSED = 0xFFFFFFFF


def checksum(buf):
    return ~sum(buf) & 0xFFFFFFFF


def chs(total_sectors):
    """The spec's CHS algorithm (what qemu's calculate_geometry does)."""
    total_sectors = min(total_sectors, 65535 * 16 * 255)
    if total_sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = total_sectors // spt
    else:
        spt = 17
        cth = total_sectors // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = total_sectors // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = total_sectors // spt
    return cth // heads, heads, spt


def footer(size, disk_type, *, creator_app=b"qemu", geometry=None,
           data_offset=None, ident=None, cookie=b"conectix", bad_sum=False,
           current_size=None):
    if geometry is None:
        geometry = chs(size // SECTOR)
    if data_offset is None:
        data_offset = 0xFFFFFFFFFFFFFFFF if disk_type == FIXED else SECTOR
    ident = ident or uuidlib.uuid4().bytes
    cur = size if current_size is None else current_size
    c, h, s = geometry
    body = struct.pack(">8sIIQI4sHH4sQQHBBII16sB", cookie, 2, 0x00010000,
                       data_offset, 0x12345678, creator_app, 5, 3, b"Wi2k",
                       size, cur, c, h, s, disk_type, 0, ident, 0)
    body += bytes(SECTOR - len(body))
    s = checksum(body) ^ (1 if bad_sum else 0)
    return body[:64] + struct.pack(">I", s) + body[68:]


def utf16be(name):
    return name.encode("utf-16-be")


def dyn_header(table_offset, max_entries, block_size, *, parent_ident=None,
               parent_name="", locators=(), magic=b"cxsparse"):
    """locators: (platform code, data_space bytes, data_length, offset)."""
    pu = parent_ident or bytes(16)
    pn = utf16be(parent_name)[:512]
    body = struct.pack(">8sQQIIII16sII", magic, 0xFFFFFFFFFFFFFFFF,
                       table_offset, 0x00010000, max_entries, block_size, 0,
                       pu, 0x11111111, 0)
    body += pn + bytes(512 - len(pn))
    locs = b""
    for code, space, length, off in list(locators)[:8]:
        locs += struct.pack(">4sIIIQ", code, space, length, 0, off)
    locs += bytes(8 * 24 - len(locs))
    body += locs + bytes(256)
    assert len(body) == 1024
    return body[:36] + struct.pack(">I", checksum(body)) + body[40:]


def bitmap_bytes(block_size):
    return ((block_size // (8 * SECTOR)) + 511) & ~511


def dynamic(size, blocks, *, block_size=2 << 20, disk_type=DYNAMIC,
            creator_app=b"qemu", ident=None, parent_ident=None,
            parent_name="", locator_data=(), max_entries=None,
            bitmaps=None, geometry=None, current_size=None):
    """
    A dynamic or differencing image.  blocks: {index: data bytes (at most
    block_size; the rest reads zero)}; bitmaps: {index: bitmap bytes} (all
    sectors present when absent).  locator_data: (code, bytes) pairs stored
    after the BAT.
    """
    n = max_entries if max_entries is not None else \
        -(-size // block_size)
    bat_len = (n * 4 + 511) & ~511
    pos = 1536 + bat_len
    locs = []
    loc_blobs = b""
    for code, blob in locator_data:
        space = (len(blob) + 511) & ~511 or 512
        locs.append((code, space, len(blob), pos + len(loc_blobs)))
        loc_blobs += blob + bytes(space - len(blob))
    pos += len(loc_blobs)
    bat = [UNUSED] * n
    body = b""
    bm_len = bitmap_bytes(block_size)
    for idx in sorted(blocks):
        bat[idx] = (pos + len(body)) // SECTOR
        bm = (bitmaps or {}).get(idx, b"\xff" * bm_len)
        d = blocks[idx]
        body += bm + bytes(bm_len - len(bm)) + d + bytes(block_size - len(d))
    f = footer(size, disk_type, creator_app=creator_app, ident=ident,
               geometry=geometry, current_size=current_size)
    h = dyn_header(1536, n, block_size, parent_ident=parent_ident,
                   parent_name=parent_name, locators=locs)
    bat_bytes = b"".join(struct.pack(">I", e) for e in bat)
    bat_bytes += b"\xff" * (bat_len - len(bat_bytes))
    return f + h + bat_bytes + loc_blobs + body + f


def fixed(data, *, creator_app=b"qemu", geometry=None, size=None,
          current_size=None):
    size = len(data) if size is None else size
    return data + footer(size, FIXED, creator_app=creator_app,
                         geometry=geometry, current_size=current_size)


def ident_of(image):
    """The unique id in an image's footer (the copy at 0, else the end)."""
    f = image[:SECTOR] if image[:8] == b"conectix" else image[-SECTOR:]
    return f[68:84]


def sector_bitmap(block_size, present_sectors):
    """A bitmap with the given sectors (of one block) present: the first
    sector is the most significant bit of the first byte."""
    bm = bytearray(bitmap_bytes(block_size))
    for s in present_sectors:
        bm[s // 8] |= 0x80 >> (s % 8)
    return bytes(bm)


def differencing(size, parent_image, parent_rel, blocks, bitmaps, *,
                 block_size=2 << 20, locators=("W2ru",), parent_abs=None):
    """A differencing image over parent_image, its parent named by the
    given locators: W2ru (relative, UTF-16LE), W2ku (absolute, UTF-16LE),
    MacX (file URL, UTF-8)."""
    data = []
    for code in locators:
        if code == "W2ru":
            data.append((b"W2ru", parent_rel.replace("/", "\\")
                         .encode("utf-16-le")))
        elif code == "W2ku":
            data.append((b"W2ku", (parent_abs or parent_rel).replace("/", "\\")
                         .encode("utf-16-le")))
        elif code == "MacX":
            data.append((b"MacX", ("file://" + (parent_abs or parent_rel))
                         .encode("utf-8")))
    # Hyper-V's creator code: the size is current_size, not the geometry
    return dynamic(size, blocks, block_size=block_size, creator_app=b"win ",
                   disk_type=DIFFERENCING, parent_ident=ident_of(parent_image),
                   parent_name=parent_rel.rsplit("/", 1)[-1],
                   locator_data=data, bitmaps=bitmaps)
