/*
 * Pure decoders of VMDK's binary headers, over buffers the caller has
 * bounded.  Nothing here is checked: vmdk.c makes qemu's checks, in qemu's
 * order, on what these return.
 */
#include "vmdk.h"

#include "../endian.h"

/* Offsets in the packed VMDK4Header, which follows the magic. */
enum {
	H4_VERSION = 0,
	H4_FLAGS = 4,
	H4_CAPACITY = 8,
	H4_GRANULARITY = 16,
	H4_DESC_OFFSET = 24,
	H4_DESC_SIZE = 32,
	H4_NUM_GTES = 40,
	H4_RGD_OFFSET = 44,
	H4_GD_OFFSET = 52,
	H4_GRAIN_OFFSET = 60,
	H4_CHECK_BYTES = 69,
	H4_COMPRESS = 73,
};

void vmdk4_header_decode(const uint8_t raw[VMDK4_HEADER_LEN], struct vmdk4_header *h)
{
	*h = (struct vmdk4_header){
		.version = load_le32(raw + H4_VERSION),
		.flags = load_le32(raw + H4_FLAGS),
		.capacity = load_le64(raw + H4_CAPACITY),
		.granularity = load_le64(raw + H4_GRANULARITY),
		.desc_offset = load_le64(raw + H4_DESC_OFFSET),
		.desc_size = load_le64(raw + H4_DESC_SIZE),
		.num_gtes_per_gt = load_le32(raw + H4_NUM_GTES),
		.rgd_offset = load_le64(raw + H4_RGD_OFFSET),
		.gd_offset = load_le64(raw + H4_GD_OFFSET),
		.grain_offset = load_le64(raw + H4_GRAIN_OFFSET),
		.compress_algorithm = load_le16(raw + H4_COMPRESS),
	};
}

void vmdk4_header_encode(const struct vmdk4_header *h, uint8_t raw[VMDK4_HEADER_LEN])
{
	memset(raw, 0, VMDK4_HEADER_LEN);
	store_le32(raw + H4_VERSION, h->version);
	store_le32(raw + H4_FLAGS, h->flags);
	store_le64(raw + H4_CAPACITY, h->capacity);
	store_le64(raw + H4_GRANULARITY, h->granularity);
	store_le64(raw + H4_DESC_OFFSET, h->desc_offset);
	store_le64(raw + H4_DESC_SIZE, h->desc_size);
	store_le32(raw + H4_NUM_GTES, h->num_gtes_per_gt);
	store_le64(raw + H4_RGD_OFFSET, h->rgd_offset);
	store_le64(raw + H4_GD_OFFSET, h->gd_offset);
	store_le64(raw + H4_GRAIN_OFFSET, h->grain_offset);
	/* "\n \r\n": a reader sees whether line endings were converted */
	raw[H4_CHECK_BYTES] = 0x0a;
	raw[H4_CHECK_BYTES + 1] = 0x20;
	raw[H4_CHECK_BYTES + 2] = 0x0d;
	raw[H4_CHECK_BYTES + 3] = 0x0a;
	store_le16(raw + H4_COMPRESS, h->compress_algorithm);
}

void vmdk3_header_decode(const uint8_t raw[VMDK3_HEADER_LEN], struct vmdk3_header *h)
{
	/* version, flags, then the four fields qemu uses */
	*h = (struct vmdk3_header){
		.disk_sectors = load_le32(raw + 8),
		.granularity = load_le32(raw + 12),
		.l1dir_offset = load_le32(raw + 16),
		.l1dir_size = load_le32(raw + 20),
	};
}

/* Marker types (the spec's "markers" of a stream-optimized extent). */
#define MARKER_END_OF_STREAM 0u
#define MARKER_FOOTER 3u

bool vmdk_footer_decode(const uint8_t raw[VMDK_FOOTER_LEN], struct vmdk4_header *h)
{
	const uint8_t *footer_marker = raw, *footer = raw + 512, *eos = raw + 1024;
	if (load_be32(footer) != VMDK4_MAGIC || load_le32(footer_marker + 8) != 0 ||
	    load_le32(footer_marker + 12) != MARKER_FOOTER || load_le64(eos) != 0 ||
	    load_le32(eos + 8) != 0 || load_le32(eos + 12) != MARKER_END_OF_STREAM)
		return false;
	vmdk4_header_decode(footer + 4, h);
	return true;
}
