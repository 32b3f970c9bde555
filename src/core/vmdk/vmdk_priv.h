/*
 * The state of an open VMDK image, shared by vmdk.c and vmdk_tables.c.
 */
#ifndef CORDON_CORE_VMDK_VMDK_PRIV_H
#define CORDON_CORE_VMDK_VMDK_PRIV_H

#include "vmdk.h"

struct cd_inflate;

/* One extent of the virtual disk, in qemu's terms (VmdkExtent). */
struct vmdk_extent {
	uint32_t dev;
	enum vmdk_extent_type type;
	bool flat;               /* FLAT, VMFS: the file is the data */
	bool vmdk3;              /* a VMFSSPARSE "COWD" extent */
	bool compressed;         /* deflate grains (stream-optimized) */
	bool has_marker;         /* grains start with a 12-byte marker */
	bool zero_grain;         /* a grain table entry of 1 reads as zeros */
	uint32_t version;
	uint64_t start;          /* first virtual sector */
	uint64_t sectors;
	/* flat: where the data starts in the file (bytes); flat_bad: past
	 * what qemu can address, so every read fails as qemu's does */
	uint64_t flat_off;
	bool flat_bad;
	uint64_t gd_off;         /* grain directory (bytes) */
	uint32_t l1_size;        /* grain directory entries */
	uint32_t l1_entry_sectors; /* sectors one grain table covers (qemu's
				    * 32-bit product) */
	uint32_t l2_size;        /* entries of a grain table */
	uint64_t cluster_sectors;
	/* For info: the file's name as qemu shows it (NULL: the image's own
	 * name, owned by no extent) and the descriptor's type word ("": the
	 * image file itself is the extent). */
	char *file_name;
	const char *type_word;
};

/* Grain directory entries read at once, and how many such pages and grain
 * tables are kept: a hostile header may declare 32 Mi directory entries in
 * each of thousands of extents, so nothing is held whole. */
#define VMDK_GD_PAGE 1024u
#define VMDK_GD_PAGES 4u
#define VMDK_GT_SLOTS 16u

struct vmdk_gd_page {
	uint32_t ext;            /* extent index; UINT32_MAX: empty */
	uint32_t page;
	uint32_t *e;             /* VMDK_GD_PAGE entries, host order */
};

struct vmdk_gt_slot {
	uint32_t ext;            /* UINT32_MAX: empty */
	uint32_t l2_offset;      /* sectors, as the directory says */
	uint32_t uses;
	uint32_t *e;             /* VMDK3_GTES entries, host order */
};

struct vmdk {
	struct vmdk_extent *ext;
	uint32_t n_ext, cap_ext;
	uint64_t total;          /* sectors of all extents (saturating) */
	uint64_t top_sectors;    /* the image file's length in sectors */
	uint64_t desc_offset;    /* where CID and the parent hint are read */
	uint32_t cid, parent_cid;
	bool cid_valid;          /* the parent's CID is our parentCID */
	uint32_t nest;           /* descriptors being parsed, one in another */
	char create_type[VMDK_CREATE_TYPE_MAX + 1];

	struct vmdk_gd_page gd[VMDK_GD_PAGES];
	uint32_t gd_next;        /* the page replaced next */
	struct vmdk_gt_slot gt[VMDK_GT_SLOTS];

	struct image view;       /* one extent file as raw, for its holes and
				  * its end (ops NULL: none open) */
	struct cd_inflate *z;    /* compressed grains, made on first use */
	/* Read-ahead over the file of compressed grains, which follow one
	 * another: zra holds [ra_off, ra_off + ra_len) of device ra_dev. */
	uint8_t *zra;
	uint32_t ra_dev;
	uint64_t ra_off, ra_len;
	uint8_t *zout;           /* inflated bytes nobody asked for */
};

#define VMDK_Z_READ_AHEAD (1u << 20)
#define VMDK_Z_CHUNK (64u << 10)

/* What the tables say about the grain holding sector `sec` of extent e. */
enum vmdk_grain {
	VMDK_GRAIN_DATA,     /* at *sector of e's file */
	VMDK_GRAIN_UNALLOC,  /* not here: the parent, or zeros */
	VMDK_GRAIN_ZEROED,   /* zeros, whatever the parent holds */
	VMDK_GRAIN_ERROR,    /* qemu's VMDK_ERROR: read as unallocated */
};

int vmdk_tables_init(struct core_ctx *ctx, struct vmdk *p);
void vmdk_tables_free(struct core_ctx *ctx, struct vmdk *p);
/* Looks sector sec (relative to e's start) up: the grain kind, or -errno;
 * *span is how many sectors from sec on are of that kind (DATA: the rest
 * of the grain; the holes: as far as like entries go). */
int vmdk_grain_lookup(struct core_ctx *ctx, struct vmdk *p, uint32_t ext, uint64_t sec,
		      uint64_t *sector, uint64_t *span);

/* info (vmdk_about.c). */
const char *vmdk_type_word(enum vmdk_extent_type t);
void vmdk_about(struct image *img, struct image_about *a);
int vmdk_about_specific(struct image *img, struct result_out *r);

#endif
