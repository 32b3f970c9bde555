/*
 * Pure decoders for the VHDX header section and metadata, with the checks
 * qemu makes at open, in its order.  No I/O: each works on a buffer of the
 * structure's fixed size.
 */
#include "vhdx.h"

#include "../endian.h"
#include "../utf16.h"

/* GUIDs as stored: the first three fields little-endian, then 8 bytes. */
#define GUID(d1, d2, d3, ...) { (d1) & 0xff, ((d1) >> 8) & 0xff, ((d1) >> 16) & 0xff, \
				(d1) >> 24, (d2) & 0xff, (d2) >> 8, (d3) & 0xff, (d3) >> 8, \
				__VA_ARGS__ }

const uint8_t vhdx_guid_bat[16] =
	GUID(0x2dc27766u, 0xf623u, 0x4200u, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08);
const uint8_t vhdx_guid_metadata[16] =
	GUID(0x8b7ca206u, 0x4790u, 0x4b9au, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e);
const uint8_t vhdx_guid_file_params[16] =
	GUID(0xcaa16737u, 0xfa36u, 0x4d43u, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b);
const uint8_t vhdx_guid_virtual_size[16] =
	GUID(0x2fa54224u, 0xcd1bu, 0x4876u, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8);
const uint8_t vhdx_guid_page83[16] =
	GUID(0xbeca12abu, 0xb2e6u, 0x4523u, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46);
const uint8_t vhdx_guid_physical_sector[16] =
	GUID(0xcda348c7u, 0x445du, 0x4471u, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56);
const uint8_t vhdx_guid_parent_locator[16] =
	GUID(0xa8d35f2du, 0xb30bu, 0x454du, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c);
const uint8_t vhdx_guid_logical_sector[16] =
	GUID(0x8141bf1du, 0xa96fu, 0x4709u, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f);

#define HEADER_SIGNATURE 0x64616568u      /* "head" */
#define REGION_SIGNATURE 0x69676572u      /* "regi" */
#define METADATA_SIGNATURE 0x617461646174656dull /* "metadata" */
#define REGION_REQUIRED 1u
#define META_REQUIRED 4u

void vhdx_header_decode(const uint8_t buf[VHDX_HEADER_LEN], struct vhdx_header *h)
{
	*h = (struct vhdx_header){ 0 };
	memcpy(h->raw, buf, sizeof(h->raw));
	h->seq = load_le64(buf + 8);
	memcpy(h->data_write_guid, buf + 32, 16);
	memcpy(h->log_guid, buf + 48, 16);
	h->log_version = load_le16(buf + 64);
	h->log_length = load_le32(buf + 68);
	h->log_offset = load_le64(buf + 72);
	h->valid = vhdx_crc32c(0, buf, VHDX_HEADER_LEN, 4) == load_le32(buf + 4) &&
		   load_le32(buf) == HEADER_SIGNATURE && load_le16(buf + 66) == 1;
}

int vhdx_pick_header(const struct vhdx_header *h1, const struct vhdx_header *h2)
{
	if (h1->valid && !h2->valid)
		return 0;
	if (!h1->valid && h2->valid)
		return 1;
	if (!h1->valid)
		return -1;
	if (h1->seq != h2->seq)
		return h1->seq > h2->seq ? 0 : 1;
	/* Disk2VHD writes two identical headers: not corrupt */
	return memcmp(h1->raw, h2->raw, sizeof(h1->raw)) == 0 ? 0 : -1;
}

int vhdx_region_overlap(const struct vhdx_regions *rs, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	for (uint32_t i = rs->n; i-- > 0;)
		if (!(start >= rs->r[i].end || end <= rs->r[i].start))
			return (int)i;
	return -1;
}

void vhdx_region_add(struct vhdx_regions *rs, uint64_t start, uint64_t len)
{
	if (rs->n < VHDX_REGIONS_MAX)
		rs->r[rs->n++] = (struct vhdx_region){ start, start + len };
}

int vhdx_region_table_decode(const uint8_t *buf, struct vhdx_regions *rs,
			     struct vhdx_region_result *out)
{
	*out = (struct vhdx_region_result){ .overlap_at = -1 };
	if (vhdx_crc32c(0, buf, VHDX_HEADER_BLOCK, 4) != load_le32(buf + 4) ||
	    load_le32(buf) != REGION_SIGNATURE)
		return -CD_EINVAL;
	uint32_t count = load_le32(buf + 8);
	if (count > 2047) /* the specification's maximum */
		return -CD_EINVAL;
	bool have_bat = false, have_meta = false;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 16 + 32 * i;
		struct vhdx_region_entry r = { load_le64(e + 16), load_le32(e + 24) };
		int at = vhdx_region_overlap(rs, r.offset, r.length);
		if (at >= 0) {
			out->overlap_at = at;
			out->overlap_start = r.offset;
			out->overlap_len = r.length;
			return -CD_EINVAL;
		}
		vhdx_region_add(rs, r.offset, r.length);
		bool *seen = memcmp(e, vhdx_guid_bat, 16) == 0 ? &have_bat
			   : memcmp(e, vhdx_guid_metadata, 16) == 0 ? &have_meta : NULL;
		if (seen) {
			if (*seen)
				return -CD_EINVAL; /* must be unique */
			*seen = true;
			*(seen == &have_bat ? &out->bat : &out->metadata) = r;
		} else if (load_le32(e + 28) & REGION_REQUIRED) {
			return -CD_ENOTSUP; /* a required region cordon does not know */
		}
	}
	return have_bat && have_meta ? 0 : -CD_EINVAL;
}

int vhdx_metadata_decode(const uint8_t *buf, struct vhdx_metadata *m)
{
	static const struct {
		const uint8_t *guid;
		uint32_t bit;
		size_t field;
	} known[] = {
		{ vhdx_guid_file_params, VHDX_META_FILE_PARAMS, offsetof(struct vhdx_metadata, file_params) },
		{ vhdx_guid_virtual_size, VHDX_META_VIRTUAL_SIZE,
		  offsetof(struct vhdx_metadata, virtual_size) },
		{ vhdx_guid_page83, VHDX_META_PAGE83, offsetof(struct vhdx_metadata, page83) },
		{ vhdx_guid_logical_sector, VHDX_META_LOGICAL_SECTOR,
		  offsetof(struct vhdx_metadata, logical_sector) },
		{ vhdx_guid_physical_sector, VHDX_META_PHYSICAL_SECTOR,
		  offsetof(struct vhdx_metadata, physical_sector) },
		{ vhdx_guid_parent_locator, VHDX_META_PARENT_LOCATOR,
		  offsetof(struct vhdx_metadata, parent_locator) },
	};
	*m = (struct vhdx_metadata){ 0 };
	if (load_le64(buf) != METADATA_SIGNATURE)
		return -CD_EINVAL;
	uint32_t count = load_le16(buf + 10);
	if ((uint64_t)count * 32 > VHDX_METADATA_TABLE_LEN - 32)
		return -CD_EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 32 + 32 * i;
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && memcmp(e, known[k].guid, 16) != 0)
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			if (load_le32(e + 24) & META_REQUIRED)
				return -CD_ENOTSUP;
			continue;
		}
		if (m->present & known[k].bit)
			return -CD_EINVAL;
		m->present |= known[k].bit;
		struct vhdx_meta_item *item = (struct vhdx_meta_item *)((uint8_t *)m + known[k].field);
		*item = (struct vhdx_meta_item){ load_le32(e + 16), load_le32(e + 20) };
	}
	/* qemu wants the five items and no parent locator (it cannot read
	 * differencing images); cordon reads those: the caller decides */
	return m->present == VHDX_META_ALL ||
		       m->present == (VHDX_META_ALL | VHDX_META_PARENT_LOCATOR)
		       ? 0 : -CD_ENOTSUP;
}

int vhdx_geometry(uint32_t block_size, uint32_t logical_sector, uint64_t virtual_size,
		  struct vhdx_geometry *g)
{
	*g = (struct vhdx_geometry){ 0 };
	if (block_size < VHDX_BLOCK_MIN || block_size > VHDX_BLOCK_MAX)
		return -CD_EINVAL;
	/* the specification's two sizes; qemu 7.2 reads 512 only, cordon both
	 * (docs/vhdx.md): 4 KiB sectors only change how many payload blocks
	 * share a sector bitmap block */
	if (logical_sector != 512 && logical_sector != 4096)
		return -CD_ENOTSUP;
	uint64_t ratio = (uint64_t)VHDX_MAX_SECTORS_PER_BLOCK * logical_sector / block_size;
	if ((block_size & (block_size - 1)) || (ratio & (ratio - 1)))
		return -CD_EINVAL;
	g->block_size = block_size;
	g->chunk_ratio = (uint32_t)ratio;
	g->chunk_ratio_bits = (uint32_t)__builtin_ctzll(ratio);
	g->virtual_size = virtual_size;
	g->sectors = virtual_size >> 9;
	/* qemu's uint32_t arithmetic, wrap and all: a disk of 0 bytes asks
	 * for 2^32 >> chunk_ratio_bits entries */
	uint32_t data_blocks = (uint32_t)((virtual_size + block_size - 1) / block_size);
	g->bat_entries = data_blocks + ((data_blocks - 1) >> g->chunk_ratio_bits);
	return 0;
}

/* ---- parent locator ---------------------------------------------------- */

static const uint8_t locator_type[16] =
	GUID(0xb04aefb7u, 0xd19eu, 0x4a81u, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13);

void vhdx_guid_text(const uint8_t g[16], char out[39])
{
	snprintf(out, 39, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", load_le32(g),
		 load_le16(g + 4), load_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
}

int vhdx_parent_locator_decode(const uint8_t *buf, size_t len, struct vhdx_parent *out,
			       const char **why)
{
	*out = (struct vhdx_parent){ 0 };
	*why = "not a VHDX parent locator";
	if (len < 20 || memcmp(buf, locator_type, 16) != 0)
		return -CD_EINVAL;
	uint32_t count = load_le16(buf + 18);
	if (count > (len - 20) / 12) {
		*why = "its key-value table runs past the locator";
		return -CD_EINVAL;
	}
	/* the paths by preference: relative first; only the one used is
	 * decoded */
	enum { REL, ABS, VOL, NPATH };
	static const char *const path_keys[NPATH] = { "relative_path", "absolute_win32_path",
						      "volume_path" };
	uint32_t path_off[NPATH], path_len[NPATH] = { 0, 0, 0 };
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 20 + 12 * i;
		uint32_t ko = load_le32(e), vo = load_le32(e + 4);
		uint32_t kl = load_le16(e + 8), vl = load_le16(e + 10);
		if (ko > len || kl > len - ko || vo > len || vl > len - vo || kl == 0 || vl == 0) {
			*why = "an entry lies outside the locator";
			return -CD_EINVAL;
		}
		char key[32];
		if (utf16_to_utf8(buf + ko, kl, false, key, sizeof(key)) < 0)
			continue; /* a key cordon does not know */
		char *linkage = strcmp(key, "parent_linkage") == 0	? out->linkage
				: strcmp(key, "parent_linkage2") == 0 ? out->linkage2 : NULL;
		if (linkage) {
			if (utf16_to_utf8(buf + vo, vl, false, linkage, sizeof(out->linkage)) < 0) {
				*why = "its parent_linkage is not a GUID";
				return -CD_EINVAL;
			}
			continue;
		}
		for (int k = 0; k < NPATH; k++)
			if (strcmp(key, path_keys[k]) == 0) {
				path_off[k] = vo;
				path_len[k] = vl;
			}
	}
	if (!out->linkage[0]) {
		*why = "it has no parent_linkage";
		return -CD_EINVAL;
	}
	for (int k = REL; k <= ABS; k++) {
		if (!path_len[k])
			continue; /* absent: the next one */
		int n = utf16_path_to_utf8(buf + path_off[k], path_len[k], false, out->name,
					   sizeof(out->name));
		if (n < 0) {
			*why = "its parent path is not valid UTF-16";
			return -CD_EINVAL;
		}
		out->name_len = (size_t)n;
		return 0;
	}
	*why = path_len[VOL] ? "it names its parent by volume only"
				   : "it names no parent path";
	return -CD_EINVAL;
}
