/*
 * VHD ("vpc" in qemu): Microsoft's Virtual Hard Disk format, read and
 * written inside the sandbox.  Files of this module:
 *
 *   vpc_header.c  pure decoders over bounded buffers: the footer, the
 *                 dynamic disk header, qemu's virtual-size rules, the checks
 *                 qemu makes at open, parent locators
 *   vpc_chs.c     qemu's CHS geometry and the rounding of created sizes
 *   vpc.c         open, map, read (fixed, dynamic and differencing images)
 *   vpc_writer.c  dynamic VHDs as qemu-img creates them
 *
 * All structures are big-endian on disk (Microsoft's VHD specification,
 * "Virtual Hard Disk Image Format Specification" 1.0).
 */
#ifndef CORDON_CORE_VPC_VPC_H
#define CORDON_CORE_VPC_VPC_H

#include "../format.h"

#define VPC_SECTOR 512u
#define VPC_FOOTER_LEN 512u
#define VPC_DYN_HEADER_LEN 1024u

enum vpc_disk_type {
	VPC_FIXED = 2,
	VPC_DYNAMIC = 3,
	VPC_DIFFERENCING = 4,
};

/* qemu's VHD_CHS_MAX_* and size limits (block/vpc.c). */
#define VPC_CHS_MAX_C 65535u
#define VPC_CHS_MAX_H 16u
#define VPC_CHS_MAX_S 255u
#define VPC_MAX_GEOMETRY ((uint64_t)VPC_CHS_MAX_C * VPC_CHS_MAX_H * VPC_CHS_MAX_S)
#define VPC_MAX_SECTORS 0xff000000ull /* 2040 GiB */
#define VPC_BAT_UNUSED 0xffffffffu
/* seconds from the Unix epoch to the VHD epoch (2000-01-01 00:00 UTC) */
#define VPC_TIMESTAMP_BASE 946684800ull

/* The fields of a footer cordon uses, decoded. */
struct vpc_footer {
	bool cookie_ok;         /* "conectix" */
	bool checksum_ok;       /* qemu's one's-complement byte sum */
	char creator_app[4];
	uint64_t data_offset;
	uint64_t current_size;
	uint16_t cyls;
	uint8_t heads, secs;
	uint32_t type;
	uint8_t uuid[16];
};

void vpc_footer_decode(const uint8_t raw[VPC_FOOTER_LEN], struct vpc_footer *f);
/* One's complement of the byte sum, the checksum field counted as zero. */
uint32_t vpc_checksum(const uint8_t *p, size_t len, size_t skip_at);

/*
 * The virtual size in sectors as qemu 7.2 computes it: the CHS geometry,
 * unless the creator application is one that uses the current-size field
 * (Hyper-V, qemu's force_size, Disk2vhd, XenServer, XenConverter) or the
 * geometry is the maximum one.  > VPC_MAX_SECTORS means qemu refuses it.
 */
uint64_t vpc_virtual_sectors(const struct vpc_footer *f);

struct vpc_locator {
	uint32_t platform;   /* 'W2ru', 'W2ku', 'MacX', ... */
	uint32_t data_space;
	uint32_t data_length;
	uint64_t data_offset;
};

struct vpc_dyn_header {
	bool magic_ok;          /* "cxsparse" */
	uint64_t table_offset;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint8_t parent_uuid[16];
	uint8_t parent_name[512]; /* UTF-16BE, as stored */
	struct vpc_locator loc[8];
};

void vpc_dyn_decode(const uint8_t raw[VPC_DYN_HEADER_LEN], struct vpc_dyn_header *h);

/* What qemu derives from the dynamic header, once it has passed the checks. */
struct vpc_layout {
	uint32_t block_size;
	uint32_t bitmap_size;   /* bytes in front of each block */
	uint32_t entries;       /* BAT entries */
	uint64_t bat_offset;
	uint64_t bat_bytes;     /* entries * 4 */
};

/*
 * qemu's checks on a dynamic header for a disk of `sectors`, in its order
 * and words (the message in why, a static string or one formatted into
 * buf).  0, or -errno.
 */
int vpc_check_layout(const struct vpc_dyn_header *h, uint64_t sectors,
		     struct vpc_layout *l, char *buf, size_t buf_len);

/* qemu's BDRV_MAX_LENGTH: a read qemu makes must end at or before it, else
 * it fails (the caller's "Error reading ..." message). */
#define VPC_QEMU_MAX_LENGTH 0x7fffffffc0000000ull
/* qemu's BDRV_REQUEST_MAX_BYTES: the longest single read. */
#define VPC_QEMU_MAX_REQUEST 0x7ffffe00ull

/*
 * The parent's name a differencing image gives, chosen among its locators
 * (relative Windows path, then file URL, then absolute Windows path; the
 * header's parent name last) and converted to a UTF-8 path with '/'
 * separators.  `blob` holds the chosen locator's bytes (len bytes); the
 * caller has read them from the file.  The name is written to out (NUL-
 * terminated) and its length returned, or -errno for a locator that is not
 * valid text or does not fit.
 */
int vpc_locator_pick(const struct vpc_dyn_header *h);  /* index or -1: use parent_name */
int vpc_locator_name(uint32_t platform, const uint8_t *blob, size_t len, char *out,
		     size_t out_len);
int vpc_parent_name(const uint8_t name_be[512], char *out, size_t out_len);

/* ---- CHS (vpc_chs.c) ------------------------------------------------------ */

struct vpc_chs {
	uint16_t cyls;
	uint8_t heads, secs;
};

/* qemu's calculate_geometry(): the spec's algorithm, rounding down. */
void vpc_geometry(uint64_t total_sectors, struct vpc_chs *g);

/*
 * The virtual size qemu-img gives a VHD it creates for `bytes` (qemu's
 * vpc_co_create_opts and vpc_co_create): rounded up to a sector, then to
 * the next size a CHS geometry describes exactly, unless force_size; where
 * the geometry saturates (65535/16/255) the size itself, rounded to a
 * sector.  The declared size in *out and the geometry in *g, or:
 *   -CD_EFBIG   over 2040 GiB ("Disk size is too large, max size is 2040 GiB")
 *   -CD_EINVAL  the second pass disagrees ("cannot be represented in CHS
 *               geometry"; *out then holds qemu's suggested size)
 */
int chs_rounded_size(uint64_t bytes, bool force_size, uint64_t *out, struct vpc_chs *g);

extern const struct writer_ops vpc_writer_ops;

#endif
