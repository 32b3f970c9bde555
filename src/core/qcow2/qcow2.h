/*
 * qcow2 reader: private declarations shared by the files of src/core/qcow2.
 * The on-disk format is QEMU's docs/interop/qcow2.txt (versions 2 and 3);
 * cordon's own limits and refusals are documented in docs/qcow2.md.
 *
 *   qcow2_header.c      pure decoder of the first cluster (header, extensions)
 *   qcow2_cache.c       bounded cache of L2 tables
 *   qcow2_map.c         virtual offset -> run (L1, L2, subclusters)
 *   qcow2_compressed.c  reading compressed clusters
 *   qcow2.c             open/close and the ops table
 */
#ifndef CORDON_CORE_QCOW2_H
#define CORDON_CORE_QCOW2_H

#include "../endian.h"
#include "../compress.h"
#include "../format.h"

/* ---- on-disk layout -------------------------------------------------------- */

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* The version 3 header; version 2 stops after nb_snapshots (72 bytes). */
struct qcow2_header_disk {
	uint32_t magic;
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	/* version 3 */
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	/* present when header_length > 104 */
	uint8_t compression_type;
	uint8_t padding[7];
} __attribute__((packed));
_Static_assert(sizeof(struct qcow2_header_disk) == 112, "qcow2 header layout");

#define QCOW2_V2_HEADER_LEN 72u
#define QCOW2_V3_HEADER_MIN 104u
#define QCOW2_OFF_COMPRESSION_TYPE 104u

/* Compatible feature bits. */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full
/* Autoclear bits. */
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (1ull << 1)

#define QCOW2_CRYPT_NONE 0u
#define QCOW2_CRYPT_AES 1u
#define QCOW2_CRYPT_LUKS 2u

#define QCOW2_COMPRESSION_ZLIB 0u
#define QCOW2_COMPRESSION_ZSTD 1u

/* Header extensions (between the header and backing name / first cluster end). */
#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_CRYPTO_HEADER 0x0537be77u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_CRYPTO_EXT_LEN 16u
#define QCOW2_FEATURE_NAME_LEN 46u /* one feature table entry is 48 bytes */
#define QCOW2_BITMAPS_EXT_LEN 24u

/* L1 entries: bits 9..55 the L2 table's offset, bit 63 "copied". */
#define QCOW2_L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L1E_RESERVED_MASK 0x7f000000000001ffull
/* Standard L2 entries. */
#define QCOW2_L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L2E_RESERVED_MASK 0x3f000000000001feull
#define QCOW2_L2E_ZERO (1ull << 0)
#define QCOW2_L2E_COMPRESSED (1ull << 62)
#define QCOW2_L2E_COPIED (1ull << 63)
/* Extended L2 entries: a second word with 32 allocation bits (low) and 32
 * zero bits (high), one of each per subcluster. */
#define QCOW2_SUBCLUSTERS 32u

/* ---- limits (why: see each) ------------------------------------------------- */

#define QCOW2_MIN_CLUSTER_BITS 9u  /* 512 B, as qemu */
#define QCOW2_MAX_CLUSTER_BITS 21u /* 2 MiB, as qemu */
/* qemu's QCOW_MAX_L1_SIZE: an L1 table of more than 32 MiB is refused. */
#define QCOW2_MAX_L1_BYTES (32ull << 20)
/* qemu's QCOW_MAX_REFTABLE_SIZE. */
#define QCOW2_MAX_REFTABLE_BYTES (8ull << 20)
/* qemu's QCOW_MAX_SNAPSHOTS times its 40-byte snapshot header. */
#define QCOW2_MAX_SNAPSHOT_BYTES (65536ull * 40)
/* qemu's limit on the backing file name (bs->backing_file is 1024 bytes). */
#define QCOW2_MAX_BACKING_NAME 1023u
/* qemu's bs->backing_format[16]: the format name must be shorter. */
#define QCOW2_MAX_BACKING_FMT 15u
#define QCOW2_MAX_DATA_FILE_NAME 1023u
/* qemu's QCOW2_MAX_BITMAPS and QCOW2_MAX_BITMAP_DIRECTORY_SIZE. */
#define QCOW2_MAX_BITMAPS 65535u
#define QCOW2_MAX_BITMAP_DIRECTORY (1024ull * QCOW2_MAX_BITMAPS)
/* qemu's QCOW_MAX_SNAPSHOT_EXTRA_DATA and QCOW_MAX_SNAPSHOTS_SIZE. */
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024u
#define QCOW2_MAX_SNAPSHOTS_SIZE (64ull << 20)

/* ---- the decoded header (qcow2_header.c) ------------------------------------ */

struct qcow2_header {
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t size;            /* virtual size in bytes, as stored */
	bool size_wraps;          /* size is past INT64_MAX: qemu opens it and
				   * fails on it afterwards (qcow2_header.c) */
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t l1_needed;       /* L1 entries the virtual size needs */
	uint64_t incompatible;
	uint64_t compatible;      /* bit 0: lazy refcounts */
	uint64_t autoclear;
	uint32_t refcount_order;
	uint32_t header_length;
	uint32_t compression_type;
	bool extended_l2;
	uint64_t backing_offset;  /* 0: no backing file */
	uint32_t backing_len;
	char backing_fmt[QCOW2_MAX_BACKING_FMT + 1]; /* "" = probe */
	char data_file[QCOW2_MAX_DATA_FILE_NAME + 1]; /* from the extension */
	/* A bitmaps extension without its autoclear bit: qemu warns (and
	 * goes on) when it meets it; the caller prints that, before any
	 * error.  0, or the image's version, which picks the words. */
	uint32_t bitmaps_warning;
	uint32_t nb_bitmaps;      /* in a bitmaps extension qemu reads (its
				   * autoclear bit set); 0: none */
	uint64_t bitmap_dir_offset, bitmap_dir_size;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
};

#define QCOW2_WHY_LEN 384u

/*
 * Decodes and checks the header of a qcow2 image from its first cluster.
 * buf holds the first `len` bytes of the file, zero-padded past the end of
 * the file by the caller (qemu reads zeros there too); file_size is the
 * file's real size.  describe: the image is opened to be described, as
 * qemu-img info opens it (BDRV_O_NO_IO): marked corrupt, or encrypted with
 * AES, it is not refused, as it will not be read.  Pure: no I/O, no
 * allocation.  0, or -errno with the reason (qemu's words where qemu has
 * them) in why.
 */
int qcow2_header_decode(const uint8_t *buf, size_t len, uint64_t file_size, bool describe,
			struct qcow2_header *h, char *why, size_t why_len);

/* qemu's open-time limits on the internal snapshot table (qcow2_snapshot.c):
 * 0, or -errno with qemu's message (and hint) recorded. */
int qcow2_check_snapshots(struct image *img, const struct qcow2_header *h);
/* info: the "snapshots" array (qemu's qcow2_snapshot_list() as
 * bdrv_query_snapshot_info_list() shows it), nothing when there are none. */
int qcow2_list_snapshots(struct image *img, struct result_out *r);

/* qemu's qcow2_load_dirty_bitmaps() at open (qcow2_bitmap.c): the bitmap
 * directory and each consistent bitmap's table checked as qemu checks
 * them.  0, or -errno with qemu's message recorded. */
int qcow2_check_bitmaps(struct image *img);
/* info: the "bitmaps" array (qcow2_get_bitmap_info_list()), nothing when
 * the image has none. */
int qcow2_list_bitmaps(struct image *img, struct result_out *r);

/* A read window over the file (qcow2_window.c): bytes at any offset below
 * qemu's BDRV_MAX_LENGTH, zeros past end of file. */
struct qcow2_window {
	struct image *img;
	uint8_t *buf;
	size_t cap;
	uint64_t off, len; /* the file bytes buf holds */
};
/* qemu's BDRV_MAX_LENGTH: no read may reach past it (-EIO). */
#define QCOW2_BDRV_MAX_LENGTH ((uint64_t)INT64_MAX & ~((1ull << 30) - 1))
int qcow2_window_init(struct qcow2_window *w, struct image *img, size_t cap);
void qcow2_window_free(struct qcow2_window *w);
/* Points *p at len (<= cap) bytes at off: 0, or -errno (-CD_EIO past
 * BDRV_MAX_LENGTH). */
int qcow2_window_at(struct qcow2_window *w, uint64_t off, size_t len, const uint8_t **p);

/* info (qcow2_about.c). */
void qcow2_about(struct image *img, struct image_about *a);
int qcow2_about_specific(struct image *img, struct result_out *r);

/* ---- L2 table cache (qcow2_cache.c) ------------------------------------------ */

/* Sequential reading touches each L2 table once; a few more entries keep
 * backing-chain and random windows cheap.  Bounded by count and bytes. */
#define QCOW2_CACHE_MAX_ENTRIES 32u
#define QCOW2_CACHE_MAX_BYTES (16u << 20)

struct qcow2_cache_entry {
	uint64_t offset; /* L2 table offset in the file; 0 = empty */
	uint64_t last_use;
	uint8_t *table;  /* one cluster, big-endian entries as on disk */
};

struct qcow2_cache {
	struct qcow2_cache_entry e[QCOW2_CACHE_MAX_ENTRIES];
	uint32_t n;      /* usable entries */
	uint64_t clock;
	uint64_t loads;  /* tables read from the file (for tests) */
};

/* ---- the open image ---------------------------------------------------------- */

struct qcow2 {
	struct qcow2_header h;
	uint64_t file_size;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint32_t l2_bits;        /* log2 of entries per L2 table */
	uint32_t entry_bytes;    /* 8, or 16 with extended L2 entries */
	uint64_t *l1;            /* host-endian, h.l1_needed entries */
	struct qcow2_cache cache;
	/* compressed clusters: descriptor layout (qemu's csize_shift/mask) */
	uint32_t csize_shift;
	uint64_t csize_mask;
	uint64_t coffset_mask;
	uint8_t *cbuf;           /* compressed bytes, 2 clusters */
	uint8_t *dbuf;           /* the last decompressed cluster */
	uint64_t dbuf_entry;     /* its L2 entry; 0 = none */
	struct cd_zstd *zstd;
};

int qcow2_cache_init(struct core_ctx *ctx, struct qcow2 *q);
void qcow2_cache_free(struct core_ctx *ctx, struct qcow2 *q);
/* The L2 table at off (validated when L1 was loaded): *table points into
 * the cache until the next call.  0 or -errno. */
int qcow2_cache_get(struct image *img, uint64_t off, const uint8_t **table);

/* ---- mapping (qcow2_map.c) ------------------------------------------------------ */

/* What one L2 entry says about the run at a virtual offset. */
enum qcow2_kind {
	QCOW2_UNALLOCATED, /* backing file, or zeros */
	QCOW2_ZERO,
	QCOW2_DATA,        /* host_off */
	QCOW2_COMPRESSED,  /* entry */
};

struct qcow2_run {
	enum qcow2_kind kind;
	uint64_t len;      /* bytes from the offset, inside one cluster or L1 span */
	uint64_t host_off; /* QCOW2_DATA */
	uint64_t entry;    /* QCOW2_COMPRESSED: the L2 entry */
};

/* Describes the run at virtual offset off (< size). 0 or -errno; a
 * corruption is recorded with core_fail. */
int qcow2_lookup(struct image *img, uint64_t off, struct qcow2_run *run);
int64_t qcow2_map(struct image *img, uint64_t off, uint64_t len,
		  struct extent *ext);

/* ---- compressed clusters (qcow2_compressed.c) ------------------------------------ */

int qcow2_read_compressed(struct image *img, uint64_t off, void *buf,
			  uint64_t len);

/* Records "qcow2: Image is corrupt: <what>" and returns -CD_EIO. */
/* cordon's check of an L1 entry the virtual disk uses (entry i of the
 * table at `table`): 0, or -CD_EIO with "qcow2: Image is corrupt: ..." in
 * why. */
int qcow2_l1_entry_problem(const struct qcow2 *q, uint64_t table, uint64_t i, uint64_t e,
			   char *why, size_t why_len);
/* -l (qcow2_snapshot.c): format_ops.load_snapshot. */
int qcow2_load_snapshot(struct image *img, const char *id, const char *name, char *why,
			size_t why_len);
int qcow2_corrupt(struct image *img, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));



#endif
