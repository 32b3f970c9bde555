/*
 * VMDK: VMware's virtual disk format, read and written inside the sandbox.
 * Files of this module:
 *
 *   vmdk_header.c      pure decoders over bounded buffers: the hosted
 *                      sparse header (VMDK4, "KDMV"), the ESX sparse
 *                      header (VMDK3, "COWD"), the stream footer
 *   vmdk_descriptor.c  the text descriptor, read exactly as qemu 7.2 reads
 *                      it (its strstr and sscanf calls, their quirks too)
 *   vmdk_tables.c      grain directories and tables, paged through small
 *                      caches shared by every extent
 *   vmdk.c             open (extents, parent), map, read; compressed grains
 *   vmdk_writer.c      monolithicSparse as qemu-img dd writes it
 *
 * On-disk integers are little-endian (VMware's "Virtual Disk Format 5.0").
 */
#ifndef CORDON_CORE_VMDK_VMDK_H
#define CORDON_CORE_VMDK_VMDK_H

#include "../format.h"

#define VMDK_SECTOR 512u
#define VMDK3_MAGIC 0x434f5744u /* "COWD", read big-endian as qemu does */
#define VMDK4_MAGIC 0x4b444d56u /* "KDMV" */

#define VMDK4_FLAG_NL_DETECT (1u << 0)
#define VMDK4_FLAG_RGD (1u << 1)
#define VMDK4_FLAG_ZERO_GRAIN (1u << 2)
#define VMDK4_FLAG_COMPRESS (1u << 16)
#define VMDK4_FLAG_MARKER (1u << 17)
#define VMDK4_COMPRESSION_DEFLATE 1u
#define VMDK4_GD_AT_END UINT64_MAX
#define VMDK_GTE_ZEROED 1u

/* qemu's limits (block/vmdk.c) */
#define VMDK_DESC_READ_MAX ((1u << 20) - 1) /* vmdk_read_desc() */
#define VMDK_DESC_SIZE (20u * 512u)          /* where CID and parent are read */
#define VMDK_MAX_CLUSTER_SECTORS 0x200000u   /* "Invalid granularity" past it */
#define VMDK_MAX_L1_SIZE (32u * 1024u * 1024u)
#define VMDK4_MAX_GTES 512u
#define VMDK3_GTES 4096u
#define VMDK_FNAME_MAX 511u                  /* %511[...] of an extent line */
#define VMDK_HINT_MAX 4095u                  /* PATH_MAX - 1 */
#define VMDK_CREATE_TYPE_MAX 127u

/* The fields of the hosted sparse extent header (after the magic). */
struct vmdk4_header {
	uint32_t version;
	uint32_t flags;
	uint64_t capacity;       /* sectors */
	uint64_t granularity;    /* sectors per grain */
	uint64_t desc_offset;    /* sectors */
	uint64_t desc_size;
	uint32_t num_gtes_per_gt;
	uint64_t rgd_offset;     /* sectors */
	uint64_t gd_offset;      /* sectors; VMDK4_GD_AT_END: see the footer */
	uint64_t grain_offset;   /* sectors */
	uint16_t compress_algorithm;
};

#define VMDK4_HEADER_LEN 75u /* packed, after the 4-byte magic */

void vmdk4_header_decode(const uint8_t raw[VMDK4_HEADER_LEN], struct vmdk4_header *h);
/* Writes h after the magic, with the newline-detection bytes qemu writes. */
void vmdk4_header_encode(const struct vmdk4_header *h, uint8_t raw[VMDK4_HEADER_LEN]);

/* The ESX sparse ("COWD") header fields qemu uses. */
struct vmdk3_header {
	uint32_t disk_sectors;
	uint32_t granularity;
	uint32_t l1dir_offset;   /* sectors */
	uint32_t l1dir_size;
};

#define VMDK3_HEADER_LEN 40u

void vmdk3_header_decode(const uint8_t raw[VMDK3_HEADER_LEN], struct vmdk3_header *h);

/* A stream-optimized image's last 1536 bytes: footer marker, footer header,
 * end-of-stream marker.  True when qemu accepts them; the header in *h. */
#define VMDK_FOOTER_LEN 1536u
bool vmdk_footer_decode(const uint8_t raw[VMDK_FOOTER_LEN], struct vmdk4_header *h);

/* ---- the descriptor (vmdk_descriptor.c) ------------------------------- */

/*
 * A descriptor is read as qemu reads it: a C string (up to its first NUL)
 * in a buffer of known length.  Functions take (text, len) with text[len]
 * readable and 0.
 */

/* qemu's vmdk_parse_description(): the value after `key` and two more
 * characters, up to the next '"', into out (at most out_max bytes and a
 * NUL).  False where qemu fails. */
bool vmdk_desc_value(const char *text, size_t len, const char *key, char *out,
		     size_t out_max);

/* qemu's vmdk_read_cid(): the hex number after "CID" or "parentCID" and
 * one more character, as sscanf("%x") reads it.  False where qemu fails. */
bool vmdk_desc_cid(const char *text, size_t len, bool parent, uint32_t *cid);

/* qemu's vmdk_parent_open() over its DESC_SIZE + 1 buffer: 1 with the hint
 * in [*name, *name + *name_len) (perhaps empty), 0 when there is none, -1
 * where qemu fails with -EINVAL. */
int vmdk_desc_parent_hint(const char *buf, size_t buf_len, const char **name,
			  size_t *name_len);

/* One line of qemu's vmdk_parse_extents(), from pos (the start of a line)
 * of the string text[0..end) (end: its length): its sscanf() of
 * `%10s %lld %10s "%511[^\n\r"]" %lld`, which may read on into later lines
 * as sscanf does. */
enum vmdk_line {
	VMDK_LINE_SKIP,     /* not an extent line qemu uses */
	VMDK_LINE_EXTENT,   /* an extent: *e */
	VMDK_LINE_INVALID,  /* qemu's "Invalid extent line: " + the line */
};

enum vmdk_extent_type {
	VMDK_EXT_FLAT,
	VMDK_EXT_SPARSE,
	VMDK_EXT_VMFS,
	VMDK_EXT_VMFSSPARSE,
	VMDK_EXT_SESPARSE,
};

struct vmdk_desc_extent {
	enum vmdk_extent_type type;
	int64_t sectors;
	int64_t flat_offset;          /* sectors (FLAT; VMFS: 0) */
	char fname[VMDK_FNAME_MAX + 1];
	size_t fname_len;
	size_t line_len;              /* of the line at pos, without '\n' */
};

enum vmdk_line vmdk_desc_extent_line(const char *text, size_t end, size_t pos,
				     struct vmdk_desc_extent *e);
/* Where the line after the one at pos starts (end at the end). */
size_t vmdk_desc_next_line(const char *text, size_t end, size_t pos);
/* The first position at or after pos that is not white space (or end):
 * where vmdk_desc_extent_line()'s first conversion starts.  Lines whose
 * scan starts at the same place scan alike (blank lines before a line
 * all read that line), so a caller need not scan them again. */
size_t vmdk_desc_skip_space(const char *text, size_t end, size_t pos);

extern const struct writer_ops vmdk_writer_ops;

/* qemu-img's default layout of a monolithicSparse image of `sectors`
 * (vmdk_init_extent): what the writer writes and the host's cap counts. */
struct vmdk_create_layout {
	uint64_t gt_count;       /* grain tables */
	uint64_t gd_sectors;     /* sectors of one grain directory */
	uint64_t rgd_offset;     /* sectors */
	uint64_t gd_offset;      /* sectors */
	uint64_t grain_offset;   /* sectors: the first grain */
};
#define VMDK_CREATE_GRAIN 128u   /* sectors: 64 KiB */
#define VMDK_CREATE_GTES 512u
/* 0, or -CD_EFBIG where qemu's 32-bit arithmetic would wrap. */
int vmdk_create_layout(uint64_t sectors, struct vmdk_create_layout *l);

#endif
