/*
 * VHDX: Microsoft's Hyper-V virtual hard disk format, read inside the
 * sandbox.  Files of this module:
 *
 *   vhdx_crc32c.c  CRC-32C (Castagnoli), every VHDX checksum
 *   vhdx_header.c  pure decoders over bounded buffers: headers, the region
 *                  table, the metadata table, BAT geometry
 *   vhdx_log.c     finding the active log sequence and replaying it in
 *                  memory (the file is never written)
 *   vhdx.c         open, map, read
 *
 * All structures are little-endian ("VHDX Format Specification" v1.00,
 * [MS-VHDX]); qemu 7.2's block/vhdx*.c is the oracle for what qemu-img
 * accepts and says.
 */
#ifndef CORDON_CORE_VHDX_VHDX_H
#define CORDON_CORE_VHDX_VHDX_H

#include "../format.h"

#define VHDX_HEADER_BLOCK (64u * 1024)       /* header section's 64 KiB units */
#define VHDX_HEADER1_OFF (1u * VHDX_HEADER_BLOCK)
#define VHDX_HEADER2_OFF (2u * VHDX_HEADER_BLOCK)
#define VHDX_REGION_TABLE_OFF (3u * VHDX_HEADER_BLOCK)
#define VHDX_HEADER_LEN 4096u                /* what the header's CRC covers */
#define VHDX_METADATA_TABLE_LEN 65536u       /* 32-byte header + 2047 entries */
#define VHDX_LOG_SECTOR 4096u
#define VHDX_MiB (1024u * 1024u)
#define VHDX_BLOCK_MIN (1u * VHDX_MiB)
#define VHDX_BLOCK_MAX (256u * VHDX_MiB)
#define VHDX_MAX_SECTORS_PER_BLOCK (1u << 23)
#define VHDX_BAT_STATE_MASK 7u
#define VHDX_BAT_OFF_MASK 0xfffffffffff00000ull

enum vhdx_payload_state {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_UNMAPPED_V095 = 5,
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
};
#define VHDX_SB_BLOCK_PRESENT 6u   /* a sector bitmap entry's state */
#define VHDX_SB_PAGE 4096u         /* bitmap bytes read at once */

/* The GUIDs of the regions and metadata items cordon knows, as stored
 * (the first three fields little-endian; vhdx_header.c). */
extern const uint8_t vhdx_guid_bat[16], vhdx_guid_metadata[16];
extern const uint8_t vhdx_guid_file_params[16], vhdx_guid_virtual_size[16],
	vhdx_guid_page83[16], vhdx_guid_logical_sector[16], vhdx_guid_physical_sector[16],
	vhdx_guid_parent_locator[16];

/* CRC-32C of len bytes, the 4 bytes at crc_at (if < len) counted as zero;
 * chainable: pass the previous result as `crc` (start with 0). */
uint32_t vhdx_crc32c(uint32_t crc, const uint8_t *p, size_t len, size_t crc_at);

/* ---- headers ------------------------------------------------------------ */

struct vhdx_header {
	bool valid;             /* CRC, "head", version 1 */
	uint64_t seq;
	uint8_t log_guid[16];
	uint8_t data_write_guid[16]; /* what a child's parent_linkage names */
	uint16_t log_version;
	uint32_t log_length;
	uint64_t log_offset;
	uint8_t raw[80];        /* as stored: qemu compares equal-sequence copies */
};

void vhdx_header_decode(const uint8_t buf[VHDX_HEADER_LEN], struct vhdx_header *h);
/* qemu's choice between the two headers: 0 or 1, or -1 for none. */
int vhdx_pick_header(const struct vhdx_header *h1, const struct vhdx_header *h2);

/* ---- regions ---------------------------------------------------------- */

struct vhdx_region {
	uint64_t start, end;    /* end = start + length, wrapping as in qemu */
};

/* File areas open registers, newest checked first (qemu's list order). */
#define VHDX_REGIONS_MAX (2047u + 2u)
struct vhdx_regions {
	struct vhdx_region r[VHDX_REGIONS_MAX];
	uint32_t n;
};

/* The newest registered region [start, start+len) overlaps, or -1. */
int vhdx_region_overlap(const struct vhdx_regions *rs, uint64_t start, uint64_t len);
void vhdx_region_add(struct vhdx_regions *rs, uint64_t start, uint64_t len);

struct vhdx_region_entry {
	uint64_t offset;
	uint32_t length;
};

/* The region table (64 KiB at VHDX_REGION_TABLE_OFF): the BAT and metadata
 * regions, each region checked against the ones before it.  0, or -errno;
 * an overlap is named in *overlap_at (index into rs->r) with the start and
 * length of the offending entry, for qemu's message. */
struct vhdx_region_result {
	struct vhdx_region_entry bat, metadata;
	int overlap_at;
	uint64_t overlap_start, overlap_len;
};
int vhdx_region_table_decode(const uint8_t *buf, struct vhdx_regions *rs,
			     struct vhdx_region_result *out);

/* ---- metadata ---------------------------------------------------------- */

struct vhdx_meta_item {
	uint32_t offset, length;
};

struct vhdx_metadata {
	struct vhdx_meta_item file_params, virtual_size, page83, logical_sector,
		physical_sector, parent_locator;
	uint32_t present;       /* VHDX_META_* */
};

#define VHDX_META_FILE_PARAMS (1u << 0)
#define VHDX_META_VIRTUAL_SIZE (1u << 1)
#define VHDX_META_PAGE83 (1u << 2)
#define VHDX_META_LOGICAL_SECTOR (1u << 3)
#define VHDX_META_PHYSICAL_SECTOR (1u << 4)
#define VHDX_META_PARENT_LOCATOR (1u << 5)
#define VHDX_META_ALL (VHDX_META_FILE_PARAMS | VHDX_META_VIRTUAL_SIZE | VHDX_META_PAGE83 | \
		       VHDX_META_LOGICAL_SECTOR | VHDX_META_PHYSICAL_SECTOR)

/* The metadata table (VHDX_METADATA_TABLE_LEN bytes): 0, -CD_EINVAL or
 * -CD_ENOTSUP as qemu returns them. */
int vhdx_metadata_decode(const uint8_t *buf, struct vhdx_metadata *m);

#define VHDX_PARAMS_LEAVE_ALLOCATED (1u << 0)
#define VHDX_PARAMS_HAS_PARENT (1u << 1)

/* A differencing image's parent locator item (MS-VHDX 2.6.2.6): the name
 * of its parent as UTF-8 with '/' for '\' (relative_path, else
 * absolute_win32_path; a volume_path alone cannot be followed), and the
 * parent_linkage and parent_linkage2 texts ("{GUID}", "" if absent). */
#define VHDX_LOCATOR_MAX 65536u
#define VHDX_PARENT_NAME_MAX 4096u
struct vhdx_parent {
	char name[VHDX_PARENT_NAME_MAX];
	size_t name_len;
	char linkage[40], linkage2[40];
};
/* 0, or -CD_EINVAL (not a well-formed locator, no linkage, no path this
 * host can follow) with what is wrong in *why. */
int vhdx_parent_locator_decode(const uint8_t *buf, size_t len, struct vhdx_parent *out,
			       const char **why);
/* The text of a GUID as stored ("{xxxxxxxx-xxxx-...}", upper case). */
void vhdx_guid_text(const uint8_t guid[16], char out[39]);

/* What the metadata values give, after qemu's checks. */
struct vhdx_geometry {
	uint32_t block_size;
	uint32_t chunk_ratio;       /* payload blocks per sector bitmap block */
	uint32_t chunk_ratio_bits;
	uint64_t virtual_size;      /* bytes, as stored */
	uint64_t sectors;           /* virtual_size / 512 */
	uint32_t bat_entries;       /* qemu's count (uint32 arithmetic) */
};

/* block size, logical sector size, virtual size: 0 or -errno as qemu,
 * except that 4096-byte logical sectors are read (qemu refuses them). */
int vhdx_geometry(uint32_t block_size, uint32_t logical_sector, uint64_t virtual_size,
		  struct vhdx_geometry *g);

/* ---- creating (vhdx_writer.c) ------------------------------------------ */

/* The layout qemu-img gives a new dynamic VHDX of `size` bytes with its
 * defaults (block size by size, 1 MiB log, 512-byte sectors, zero-state
 * blocks): everything from the header section to the first block. */
struct vhdx_create_layout {
	uint32_t block_size;
	struct vhdx_geometry g;
	uint64_t bat_off, bat_len;   /* BAT region */
	uint64_t meta_off;           /* metadata region (1 MiB) */
	uint64_t data_start;         /* the first block */
};

#define VHDX_LOG_DEFAULT (1u * VHDX_MiB)
#define VHDX_MAX_IMAGE_SIZE (64ull << 40) /* 64 TiB */

/* qemu's default block size for a disk of size bytes. */
uint32_t vhdx_default_block_size(uint64_t size);
/* -CD_EINVAL over 64 TiB ("Image size too large; max of 64TB"). */
int vhdx_create_layout(uint64_t size, struct vhdx_create_layout *l);

extern const struct writer_ops vhdx_writer_ops;

#endif
