/*
 * Pure decoders for VHD structures and the rules qemu applies to them at
 * open.  No I/O: every function works on a buffer of fixed, known length.
 */
#include "vpc.h"

#include "../endian.h"
#include "../utf16.h"

#define PLATFORM(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			      (uint32_t)(c) << 8 | (uint32_t)(d))
#define VPC_PLAT_W2RU PLATFORM('W', '2', 'r', 'u') /* relative, UTF-16LE */
#define VPC_PLAT_W2KU PLATFORM('W', '2', 'k', 'u') /* absolute, UTF-16LE */
#define VPC_PLAT_MACX PLATFORM('M', 'a', 'c', 'X') /* file URL, UTF-8 */

uint32_t vpc_checksum(const uint8_t *p, size_t len, size_t skip_at)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++)
		if (i < skip_at || i >= skip_at + 4)
			sum += p[i];
	return ~sum;
}

void vpc_footer_decode(const uint8_t raw[VPC_FOOTER_LEN], struct vpc_footer *f)
{
	*f = (struct vpc_footer){ 0 };
	f->cookie_ok = memcmp(raw, "conectix", 8) == 0;
	f->data_offset = load_be64(raw + 16);
	memcpy(f->creator_app, raw + 28, 4);
	f->current_size = load_be64(raw + 48);
	f->cyls = load_be16(raw + 56);
	f->heads = raw[58];
	f->secs = raw[59];
	f->type = load_be32(raw + 60);
	f->checksum_ok = vpc_checksum(raw, VPC_FOOTER_LEN, 64) == load_be32(raw + 64);
	memcpy(f->uuid, raw + 68, 16);
}

uint64_t vpc_virtual_sectors(const struct vpc_footer *f)
{
	uint64_t chs = (uint64_t)f->cyls * f->heads * f->secs;
	/* Creators whose tools size the disk by current_size, not geometry
	 * (qemu's table; "tap\0" is XenServer). */
	static const char *const by_size[] = { "win ", "qem2", "d2v ", "CTXS", "tap\0" };
	bool use_chs = true;
	for (size_t i = 0; i < sizeof(by_size) / sizeof(by_size[0]); i++)
		if (memcmp(f->creator_app, by_size[i], 4) == 0)
			use_chs = false;
	if (!use_chs || chs == VPC_MAX_GEOMETRY)
		return f->current_size / VPC_SECTOR;
	return chs;
}

void vpc_dyn_decode(const uint8_t raw[VPC_DYN_HEADER_LEN], struct vpc_dyn_header *h)
{
	*h = (struct vpc_dyn_header){ 0 };
	h->magic_ok = memcmp(raw, "cxsparse", 8) == 0;
	h->table_offset = load_be64(raw + 16);
	h->max_table_entries = load_be32(raw + 28);
	h->block_size = load_be32(raw + 32);
	memcpy(h->parent_uuid, raw + 40, 16);
	memcpy(h->parent_name, raw + 64, 512);
	for (size_t i = 0; i < 8; i++) {
		const uint8_t *e = raw + 576 + 24 * i;
		h->loc[i] = (struct vpc_locator){
			.platform = load_be32(e),
			.data_space = load_be32(e + 4),
			.data_length = load_be32(e + 8),
			.data_offset = load_be64(e + 16),
		};
	}
}

int vpc_check_layout(const struct vpc_dyn_header *h, uint64_t sectors,
		     struct vpc_layout *l, char *buf, size_t buf_len)
{
	uint32_t bs = h->block_size;
	if (bs < VPC_SECTOR || (bs & (bs - 1)) != 0) {
		snprintf(buf, buf_len, "Invalid block size %u", bs);
		return -CD_EINVAL;
	}
	/* The callers bound sectors by VPC_MAX_SECTORS: no overflow here. */
	uint64_t bytes = sectors * VPC_SECTOR;
	if (bytes / bs > 0xffffffffull) {
		snprintf(buf, buf_len, "Too many blocks");
		return -CD_EINVAL;
	}
	/* qemu holds the count in an int: 2^31 and up are negative there, and
	 * its product with the block size wraps as a uint64_t. */
	int32_t entries = (int32_t)h->max_table_entries;
	uint64_t covered = (uint64_t)(int64_t)entries * bs;
	if (covered < bytes) {
		snprintf(buf, buf_len, "Page table too small");
		return -CD_EINVAL;
	}
	if (entries < 0 || entries > 0x7fffffff / 4) {
		snprintf(buf, buf_len, "Max Table Entries too large (%d)", (int)entries);
		return -CD_EINVAL;
	}
	uint64_t bat_bytes = (uint64_t)entries * 4;
	if (bat_bytes > VPC_QEMU_MAX_REQUEST || h->table_offset > VPC_QEMU_MAX_LENGTH - bat_bytes) {
		snprintf(buf, buf_len, "Error reading pagetable");
		return -CD_EIO;
	}
	*l = (struct vpc_layout){
		.block_size = bs,
		.bitmap_size = ((bs / (8 * VPC_SECTOR)) + 511) & ~511u,
		.entries = (uint32_t)entries,
		.bat_offset = h->table_offset,
		.bat_bytes = bat_bytes,
	};
	return 0;
}

/* ---- parent locators ---------------------------------------------------- */

int vpc_locator_pick(const struct vpc_dyn_header *h)
{
	static const uint32_t order[] = { VPC_PLAT_W2RU, VPC_PLAT_MACX, VPC_PLAT_W2KU };
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (int i = 0; i < 8; i++)
			if (h->loc[i].platform == order[o] && h->loc[i].data_length > 0)
				return i;
	return -1;
}

int vpc_locator_name(uint32_t platform, const uint8_t *blob, size_t len, char *out,
		     size_t out_len)
{
	if (platform == VPC_PLAT_W2RU || platform == VPC_PLAT_W2KU)
		return utf16_path_to_utf8(blob, len, false, out, out_len);
	if (platform != VPC_PLAT_MACX || out_len == 0)
		return -CD_EINVAL;
	while (len > 0 && blob[len - 1] == 0)
		len--;
	static const char scheme[] = "file://";
	size_t skip = len >= 7 && memcmp(blob, scheme, 7) == 0 ? 7 : 0;
	if (len - skip >= out_len)
		return -CD_ENAMETOOLONG;
	for (size_t i = skip; i < len; i++)
		if (blob[i] == 0)
			return -CD_EINVAL;
	memcpy(out, blob + skip, len - skip);
	out[len - skip] = '\0';
	return len - skip > 0 ? (int)(len - skip) : -CD_EINVAL;
}

int vpc_parent_name(const uint8_t name_be[512], char *out, size_t out_len)
{
	return utf16_path_to_utf8(name_be, 512, true, out, out_len);
}
