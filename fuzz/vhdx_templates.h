/*
 * Small VHDXs for fuzz_vhdx to mutate.  qemu checks neither the BAT's nor
 * the metadata's alignment, so they sit inside the first MiB here and a
 * template is about 3 MiB: header section, log at 1 MiB, 1 MiB blocks from
 * 2 MiB.  One template has an active log whose entry writes a data sector
 * and zeros into block 0 and a BAT sector that makes block 1 present.
 */
#ifndef CORDON_FUZZ_VHDX_TEMPLATES_H
#define CORDON_FUZZ_VHDX_TEMPLATES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/endian.h"
#include "../src/core/vhdx/vhdx.h"

#define XT_MiB (1u << 20)
#define XT_BAT 0x50000u
#define XT_META 0x60000u
#define XT_LOG XT_MiB
#define XT_DATA (2u * XT_MiB)

struct xt {
	uint8_t *buf;
	size_t len;
};

static void xt_crc(uint8_t *p, size_t len)
{
	store_le32(p + 4, 0);
	store_le32(p + 4, vhdx_crc32c(0, p, len, SIZE_MAX));
}

static void xt_header(uint8_t *h, uint64_t seq, const uint8_t *log_guid)
{
	store_le32(h, 0x64616568);
	store_le64(h + 8, seq);
	if (log_guid)
		memcpy(h + 48, log_guid, 16);
	store_le16(h + 66, 1);
	store_le32(h + 68, XT_MiB);
	store_le64(h + 72, XT_LOG);
	xt_crc(h, 4096);
}

/* A disk of `size` bytes in 1 MiB blocks; blocks in `mask` present with a
 * pattern; `dirty`: an active log (see above). */
static void xt_build(struct xt *t, uint64_t size, uint32_t mask, bool dirty)
{
	uint32_t blocks = (uint32_t)((size + XT_MiB - 1) / XT_MiB);
	t->len = XT_DATA + (size_t)__builtin_popcount(mask) * XT_MiB;
	t->buf = calloc(1, t->len);
	uint8_t *b = t->buf;
	memcpy(b, "vhdxfile", 8);
	static const uint8_t log_guid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	xt_header(b + 0x10000, 1, NULL);
	xt_header(b + 0x20000, 2, dirty ? log_guid : NULL);
	/* region table: BAT and metadata */
	uint8_t *rt = b + 0x30000;
	store_le32(rt, 0x69676572);
	store_le32(rt + 8, 2);
	memcpy(rt + 16, vhdx_guid_bat, 16);
	store_le64(rt + 32, XT_BAT);
	store_le32(rt + 40, 0x10000);
	store_le32(rt + 44, 1);
	memcpy(rt + 48, vhdx_guid_metadata, 16);
	store_le64(rt + 64, XT_META);
	store_le32(rt + 72, 0x10000);
	store_le32(rt + 76, 1);
	xt_crc(rt, 0x10000);
	/* metadata: five items, values after the table */
	uint8_t *m = b + XT_META;
	memcpy(m, "metadata", 8);
	store_le16(m + 10, 5);
	const uint8_t *const ids[5] = { vhdx_guid_file_params, vhdx_guid_virtual_size,
					vhdx_guid_page83, vhdx_guid_logical_sector,
					vhdx_guid_physical_sector };
	for (uint32_t i = 0; i < 5; i++) {
		uint8_t *e = m + 32 + 32 * i;
		memcpy(e, ids[i], 16);
		store_le32(e + 16, 0x8000 + 16 * i);
		store_le32(e + 20, 8);
	}
	store_le32(m + 0x8000, XT_MiB);     /* block size, no flags */
	store_le64(m + 0x8010, size);       /* virtual size */
	store_le32(m + 0x8030, 512);        /* logical sector */
	store_le32(m + 0x8040, 4096);       /* physical sector */
	/* BAT: chunk ratio 4096 for 1 MiB blocks, so no bitmap entry here */
	uint64_t at = XT_DATA;
	for (uint32_t i = 0; i < blocks && i < 32; i++) {
		if (!(mask & (1u << i))) {
			store_le64(b + XT_BAT + 8 * i, i % 3 == 0 ? 2 : 0); /* zero / not present */
			continue;
		}
		store_le64(b + XT_BAT + 8 * i, at | 6);
		for (uint32_t k = 0; k < XT_MiB; k += 512)
			memset(b + at + k, (int)(i * 16 + k / 65536 + 1), 512);
		at += XT_MiB;
	}
	if (!dirty)
		return;
	/* one log entry at the start of the log: a data sector into block 0,
	 * zeros in it, and the BAT's first sector with block 1 made zero */
	uint8_t *l = b + XT_LOG;
	uint64_t seq = 7;
	store_le32(l, 0x65676f6c);
	store_le32(l + 8, 4 * 4096);
	store_le64(l + 16, seq);
	store_le32(l + 24, 3);
	memcpy(l + 32, log_guid, 16);
	store_le64(l + 48, t->len);
	store_le64(l + 56, t->len);
	uint8_t *d = l + 64;
	/* zero 8 KiB of block 0 at 64 KiB */
	store_le32(d, 0x6f72657a);
	store_le64(d + 8, 8192);
	store_le64(d + 16, XT_DATA + 65536);
	store_le64(d + 24, seq);
	/* data: block 0's sector at 4 KiB, then the BAT's first sector */
	for (int k = 1; k <= 2; k++) {
		d += 32;
		uint8_t *sector = l + 4096 * (uint32_t)k;
		uint8_t content[4096];
		if (k == 1) {
			memset(content, 0xee, sizeof(content));
		} else {
			memcpy(content, b + XT_BAT, 4096);
			store_le64(content + 8, 2); /* block 1: zero */
		}
		store_le32(d, 0x63736564);
		memcpy(d + 4, content + 4092, 4);
		memcpy(d + 8, content, 8);
		store_le64(d + 16, k == 1 ? XT_DATA + 4096 : XT_BAT);
		store_le64(d + 24, seq);
		store_le32(sector, 0x61746164);
		store_le32(sector + 4, (uint32_t)(seq >> 32));
		memcpy(sector + 8, content + 8, 4084);
		store_le32(sector + 4092, (uint32_t)seq);
	}
	xt_crc(l, 4 * 4096);
}

/* The name the differencing template's locator gives its parent (the
 * first template, whose data write GUID is all zeros). */
#define XT_PARENT_NAME "p.vhdx"

/* A differencing image over a parent of `size` bytes: block 0 fully
 * present, block 1 partially present (every third sector here), block 2
 * zero, the rest the parent's; the locator names XT_PARENT_NAME. */
static void xt_build_differencing(struct xt *t, uint64_t size)
{
	xt_build(t, size, 0, false);
	t->len = XT_DATA + 3 * XT_MiB; /* two blocks and the sector bitmap */
	t->buf = realloc(t->buf, t->len);
	memset(t->buf + XT_DATA, 0, t->len - XT_DATA);
	uint8_t *b = t->buf, *m = b + XT_META;
	store_le32(m + 0x8004, 2); /* HasParent */
	store_le16(m + 10, 6);
	uint8_t *e = m + 32 + 32 * 5;
	memcpy(e, vhdx_guid_parent_locator, 16);
	store_le32(e + 16, 0x8100);
	store_le32(e + 24, 4); /* required */
	/* the locator: parent_linkage and relative_path, UTF-16LE */
	static const uint8_t type[16] = { 0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a,
					  0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13 };
	static const char *const kv[2][2] = {
		{ "parent_linkage", "{00000000-0000-0000-0000-000000000000}" },
		{ "relative_path", ".\\" XT_PARENT_NAME },
	};
	uint8_t *loc = m + 0x8100;
	memcpy(loc, type, 16);
	store_le16(loc + 18, 2);
	uint32_t at = 20 + 12 * 2;
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++) {
			size_t n = strlen(kv[i][k]);
			store_le32(loc + 20 + 12 * i + 4 * k, at);
			store_le16(loc + 20 + 12 * i + 8 + 2 * k, (uint16_t)(2 * n));
			for (size_t c = 0; c < n; c++, at += 2)
				loc[at] = (uint8_t)kv[i][k][c];
		}
	store_le32(e + 20, at);
	/* BAT: block 0 present, 1 partially, 2 zero; the bitmap entry after
	 * the chunk's 4096 payload entries */
	memset(b + XT_BAT, 0, 0x10000);
	store_le64(b + XT_BAT, XT_DATA | 6);
	store_le64(b + XT_BAT + 8, (XT_DATA + XT_MiB) | 7);
	store_le64(b + XT_BAT + 16, 2);
	store_le64(b + XT_BAT + 8 * 4096, (XT_DATA + 2 * XT_MiB) | 6);
	for (uint32_t k = 0; k < 2 * XT_MiB; k++)
		b[XT_DATA + k] = (uint8_t)(k / 512 * 7 + 3);
	uint8_t *sb = b + XT_DATA + 2 * XT_MiB;
	for (uint32_t s = 2048; s < 4096; s += 3) /* block 1's sectors */
		sb[s / 8] |= (uint8_t)(1u << (s % 8));
}

#endif
