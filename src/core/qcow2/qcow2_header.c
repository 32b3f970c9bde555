/*
 * The qcow2 header decoder: a pure function over the first cluster of the
 * file.  Checks run in qemu's order (block/qcow2.c, qcow2_do_open) and fail
 * with qemu's words, so that an image qemu-img refuses is refused the same
 * way; cordon's own refusals (encryption keys it cannot take, external data
 * files, images marked corrupt, tables past end of file) say "cordon".
 */
#include "qcow2.h"

#include "../overflow.h"

struct dec {
	const uint8_t *buf;
	size_t len;
	uint64_t file_size;
	uint64_t cluster_size;
	uint64_t ext_end;   /* extensions end here: backing name or cluster end */
	uint32_t reftable_clusters;
	uint64_t reftable_offset;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	struct qcow2_header *h;
	bool describe;
	char *why;
	size_t why_len;
};

static int fail(struct dec *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct dec *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->why, d->why_len, fmt, ap);
	va_end(ap);
	return err;
}

/* Appends to why (for the list of unsupported features). */
static void append(struct dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(struct dec *d, const char *fmt, ...)
{
	size_t used = strnlen(d->why, d->why_len);
	if (used + 1 >= d->why_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->why + used, d->why_len - used, fmt, ap);
	va_end(ap);
}

/* ---- the fixed header ----------------------------------------------------------- */

static int decode_fixed(struct dec *d)
{
	const uint8_t *b = d->buf;
	struct qcow2_header *h = d->h;
	if (load_be32(b) != QCOW2_MAGIC)
		return fail(d, -CD_EINVAL, "Image is not in qcow2 format");
	h->version = load_be32(b + 4);
	if (h->version < 2 || h->version > 3)
		return fail(d, -CD_ENOTSUP, "Unsupported qcow2 version %u", h->version);
	h->cluster_bits = load_be32(b + 20);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return fail(d, -CD_EINVAL, "Unsupported cluster size: 2^%u",
			    h->cluster_bits);
	d->cluster_size = 1ull << h->cluster_bits;
	if (d->len < d->cluster_size)
		return fail(d, -CD_EIO, "Could not read qcow2 header");
	h->backing_offset = load_be64(b + 8);
	h->backing_len = load_be32(b + 16);
	h->size = load_be64(b + 24);
	h->crypt_method = load_be32(b + 32);
	h->l1_size = load_be32(b + 36);
	h->l1_table_offset = load_be64(b + 40);
	d->reftable_offset = load_be64(b + 48);
	d->reftable_clusters = load_be32(b + 56);
	h->nb_snapshots = d->nb_snapshots = load_be32(b + 60);
	h->snapshots_offset = d->snapshots_offset = load_be64(b + 64);
	return 0;
}

static int decode_v3(struct dec *d)
{
	const uint8_t *b = d->buf;
	struct qcow2_header *h = d->h;
	if (h->version == 2) {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HEADER_LEN;
	} else {
		h->incompatible = load_be64(b + 72);
		h->compatible = load_be64(b + 80);
		h->autoclear = load_be64(b + 88);
		h->refcount_order = load_be32(b + 96);
		h->header_length = load_be32(b + 100);
		if (h->header_length < QCOW2_V3_HEADER_MIN)
			return fail(d, -CD_EINVAL, "qcow2 header too short");
	}
	if (h->header_length > d->cluster_size)
		return fail(d, -CD_EINVAL, "qcow2 header exceeds cluster size");
	if (h->backing_offset > d->cluster_size)
		return fail(d, -CD_EINVAL, "Invalid backing file offset");
	d->ext_end = h->backing_offset ? h->backing_offset : d->cluster_size;
	h->compression_type = h->header_length > QCOW2_OFF_COMPRESSION_TYPE
				      ? b[QCOW2_OFF_COMPRESSION_TYPE]
				      : QCOW2_COMPRESSION_ZLIB;
	return 0;
}

static int check_compression(struct dec *d)
{
	const struct qcow2_header *h = d->h;
	bool bit = (h->incompatible & QCOW2_INCOMPAT_COMPRESSION) != 0;
	if (h->compression_type > QCOW2_COMPRESSION_ZSTD)
		return fail(d, -CD_ENOTSUP, "qcow2: unknown compression type: %u",
			    h->compression_type);
	if (h->compression_type == QCOW2_COMPRESSION_ZLIB && bit)
		return fail(d, -CD_EINVAL, "qcow2: Compression type incompatible "
			    "feature bit must not be set");
	if (h->compression_type != QCOW2_COMPRESSION_ZLIB && !bit)
		return fail(d, -CD_EINVAL, "qcow2: Compression type incompatible "
			    "feature bit must be set");
	return 0;
}

/* ---- header extensions -------------------------------------------------------- */

/*
 * Steps to the next extension at *off: 1 with its magic, data offset and
 * length; 0 at the end marker or the end of the area; -errno when one runs
 * past the area (qemu: "Header extension too large").
 */
static int next_ext(struct dec *d, uint64_t *off, uint32_t *magic,
		    uint64_t *data, uint32_t *len)
{
	if (*off >= d->ext_end)
		return 0;
	if (d->ext_end - *off < 8)
		return fail(d, -CD_EINVAL, "Header extension too large");
	*magic = load_be32(d->buf + *off);
	*len = load_be32(d->buf + *off + 4);
	*data = *off + 8;
	if (*len > d->ext_end - *data)
		return fail(d, -CD_EINVAL, "Header extension too large");
	if (*magic == QCOW2_EXT_END)
		return 0;
	*off = *data + (((uint64_t)*len + 7) & ~7ull);
	return 1;
}

static int ext_backing_format(struct dec *d, uint64_t data, uint32_t len)
{
	if (len > QCOW2_MAX_BACKING_FMT)
		return fail(d, -CD_EINVAL, "ERROR: ext_backing_format: len=%u too "
			    "large (>=%u)", len, QCOW2_MAX_BACKING_FMT + 1);
	memcpy(d->h->backing_fmt, d->buf + data, len);
	d->h->backing_fmt[len] = '\0';
	return 0;
}

/* crypt_method is what qemu knows when it reads the extension: nothing yet
 * on the way to naming unsupported features. */
static int ext_crypto(struct dec *d, uint64_t data, uint32_t len, uint32_t crypt_method)
{
	if (crypt_method != QCOW2_CRYPT_LUKS)
		return fail(d, -CD_EINVAL, "CRYPTO header extension only expected "
			    "with LUKS encryption method");
	if (len != QCOW2_CRYPTO_EXT_LEN)
		return fail(d, -CD_EINVAL, "CRYPTO header extension size %u, but "
			    "expected size %u", len, QCOW2_CRYPTO_EXT_LEN);
	uint64_t off = load_be64(d->buf + data);
	if (off % d->cluster_size)
		return fail(d, -CD_EINVAL, "Encryption header offset '%llu' is not "
			    "a multiple of cluster size '%llu'",
			    (unsigned long long)off,
			    (unsigned long long)d->cluster_size);
	/* qemu opens the LUKS header here, which needs the key cordon does
	 * not take: qemu-img's message for a missing one.  qemu-img info
	 * describes the header (cipher, key slots), which cordon does not
	 * decode yet. */
	if (d->describe)
		return fail(d, -CD_ENOTSUP, "cordon cannot describe LUKS encryption "
			    "headers yet");
	return fail(d, -CD_EINVAL, "Parameter 'encrypt.key-secret' is required for cipher");
}

/* qemu's checks of the bitmaps extension at open; the bitmaps themselves
 * do not change what the active layer reads. */
static int ext_bitmaps(struct dec *d, uint64_t data, uint32_t len)
{
	const struct qcow2_header *h = d->h;
	if (len != QCOW2_BITMAPS_EXT_LEN)
		return fail(d, -CD_EINVAL, "bitmaps_ext: Invalid extension length");
	if (!(h->autoclear & QCOW2_AUTOCLEAR_BITMAPS)) {
		d->h->bitmaps_warning = h->version;
		return 0;
	}
	const uint8_t *e = d->buf + data;
	uint32_t nb = load_be32(e);
	uint64_t dir_size = load_be64(e + 8), dir_offset = load_be64(e + 16);
	if (load_be32(e + 4) != 0)
		return fail(d, -CD_EINVAL, "bitmaps_ext: Reserved field is not zero");
	if (nb > QCOW2_MAX_BITMAPS)
		return fail(d, -CD_EINVAL, "bitmaps_ext: Image has %u bitmaps, exceeding "
			    "the QEMU supported maximum of %u", nb, QCOW2_MAX_BITMAPS);
	if (nb == 0)
		return fail(d, -CD_EINVAL, "found bitmaps extension with zero bitmaps");
	d->h->nb_bitmaps = nb;
	d->h->bitmap_dir_size = dir_size;
	d->h->bitmap_dir_offset = dir_offset;
	if (dir_offset % d->cluster_size)
		return fail(d, -CD_EINVAL, "bitmaps_ext: invalid bitmap directory offset");
	if (dir_size > QCOW2_MAX_BITMAP_DIRECTORY)
		return fail(d, -CD_EINVAL, "bitmaps_ext: bitmap directory size (%llu) "
			    "exceeds the maximum supported size (%llu)",
			    (unsigned long long)dir_size,
			    (unsigned long long)QCOW2_MAX_BITMAP_DIRECTORY);
	return 0;
}

/*
 * One pass over the extensions as qemu's qcow2_read_extensions() makes it,
 * stopping at the first error.  qemu makes it twice: first only to find the
 * feature name table for an "Unsupported qcow2 feature(s)" message
 * (features != NULL: the last table met is kept there, errors only end the
 * pass), then for real.
 */
static int read_extensions(struct dec *d, uint32_t crypt_method, uint64_t features[2])
{
	uint64_t off = d->h->header_length, data = 0;
	uint32_t magic = 0, len = 0;
	int ret;
	while ((ret = next_ext(d, &off, &magic, &data, &len)) > 0) {
		if (magic == QCOW2_EXT_BACKING_FORMAT) {
			ret = ext_backing_format(d, data, len);
		} else if (magic == QCOW2_EXT_CRYPTO_HEADER) {
			ret = ext_crypto(d, data, len, crypt_method);
		} else if (magic == QCOW2_EXT_BITMAPS) {
			ret = ext_bitmaps(d, data, len);
		} else if (magic == QCOW2_EXT_FEATURE_TABLE && features) {
			features[0] = data;
			features[1] = len;
		} else if (magic == QCOW2_EXT_DATA_FILE) {
			size_t n = len < QCOW2_MAX_DATA_FILE_NAME ? len
								  : QCOW2_MAX_DATA_FILE_NAME;
			memcpy(d->h->data_file, d->buf + data, n);
			d->h->data_file[n] = '\0';
		}
		if (ret < 0)
			return ret;
	}
	return ret;
}

/*
 * qemu's report_unsupported_feature(): names from the image's feature
 * table, 48-byte entries read until one whose name starts with NUL (the
 * table is zero-padded, so a cut-off last entry counts with its missing
 * bytes as zeros), then the rest of the mask in hexadecimal.  An entry's
 * bit is taken modulo 64, as qemu's 1ULL << bit does on x86-64.
 */
static int unsupported_features(struct dec *d, uint64_t mask)
{
	uint64_t table[2] = { 0, 0 };
	read_extensions(d, QCOW2_CRYPT_NONE, table);
	fail(d, -CD_ENOTSUP, "Unsupported qcow2 feature(s): ");
	bool any = false;
	for (uint64_t e = 0; e < table[1]; e += 48) {
		uint8_t f[48] = { 0 };
		uint64_t n = table[1] - e < 48 ? table[1] - e : 48;
		memcpy(f, d->buf + table[0] + e, (size_t)n);
		if (f[2] == '\0')
			break;
		uint64_t bit = 1ull << (f[1] & 63);
		if (f[0] != 0 || !(mask & bit))
			continue;
		append(d, "%s%.*s", any ? ", " : "", (int)QCOW2_FEATURE_NAME_LEN,
		       (const char *)f + 2);
		mask &= ~bit;
		any = true;
	}
	if (mask)
		append(d, "%sUnknown incompatible feature: %llx", any ? ", " : "",
		       (unsigned long long)mask);
	return -CD_ENOTSUP;
}

/* ---- tables ----------------------------------------------------------------------- */

/* qemu's qcow2_validate_table(). */
static int validate_table(struct dec *d, uint64_t offset, uint64_t entries,
			  uint64_t entry_len, uint64_t max_bytes, const char *name)
{
	if (entries > max_bytes / entry_len)
		return fail(d, -CD_EFBIG, "%s too large", name);
	if ((uint64_t)INT64_MAX - entries * entry_len < offset ||
	    offset % d->cluster_size)
		return fail(d, -CD_EINVAL, "%s offset invalid", name);
	return 0;
}

static int check_tables(struct dec *d)
{
	struct qcow2_header *h = d->h;
	if (d->reftable_clusters == 0)
		return fail(d, -CD_EINVAL, "Image does not contain a reference "
			    "count table");
	int ret = validate_table(d, d->reftable_offset, d->reftable_clusters,
				 d->cluster_size, QCOW2_MAX_REFTABLE_BYTES,
				 "Reference count table");
	if (ret == 0)
		ret = validate_table(d, d->snapshots_offset, d->nb_snapshots, 40,
				     QCOW2_MAX_SNAPSHOT_BYTES, "Snapshot table");
	if (ret == 0)
		ret = validate_table(d, h->l1_table_offset, h->l1_size, 8,
				     QCOW2_MAX_L1_BYTES, "Active L1 table");
	return ret;
}

/* L1 entries the virtual size needs, as qemu's size_to_l1() without its
 * wrap-around for sizes near 2^64. */
static int check_size(struct dec *d)
{
	struct qcow2_header *h = d->h;
	uint32_t entry_bits = h->extended_l2 ? 4 : 3;
	uint32_t shift = h->cluster_bits + (h->cluster_bits - entry_bits);
	/* qemu's size_to_l1() rounds up in 64 bits (near 2^64 it wraps to a
	 * few entries) and refuses only an L1 count past INT_MAX; a size past
	 * INT64_MAX fails once the driver is done (qcow2_open reports it). */
	uint64_t round = (1ull << shift) - 1;
	h->l1_needed = (h->size + round) >> shift; /* unsigned: wraps as qemu's */
	if (h->l1_needed > (uint64_t)INT32_MAX)
		return fail(d, -CD_EFBIG, "Image is too big");
	h->size_wraps = h->size > (uint64_t)INT64_MAX;
	if (h->l1_size < h->l1_needed)
		return fail(d, -CD_EINVAL, "L1 table is too small");
	/* cordon: qemu would read a table past end of file as zeros. */
	if (h->l1_size && h->l1_table_offset + (uint64_t)h->l1_size * 8 > d->file_size)
		return fail(d, -CD_EINVAL, "qcow2: Image is corrupt: L1 table at "
			    "0x%llx (%u entries) extends past end of file",
			    (unsigned long long)h->l1_table_offset, h->l1_size);
	return 0;
}

/* ---- features cordon refuses ------------------------------------------------------- */

static int check_features(struct dec *d)
{
	struct qcow2_header *h = d->h;
	if (h->incompatible & ~QCOW2_INCOMPAT_KNOWN)
		return unsupported_features(d, h->incompatible & ~QCOW2_INCOMPAT_KNOWN);
	/* qemu opens these read-only; cordon will not trust their tables to
	 * read data, only to describe the image. */
	if ((h->incompatible & QCOW2_INCOMPAT_CORRUPT) && !d->describe)
		return fail(d, -CD_EINVAL, "qcow2: Image is corrupt; cordon refuses "
			    "images marked corrupt (repair with 'qemu-img check "
			    "-r all')");
	h->extended_l2 = (h->incompatible & QCOW2_INCOMPAT_EXTL2) != 0;
	if (h->extended_l2 && (d->cluster_size / QCOW2_SUBCLUSTERS) < 512)
		return fail(d, -CD_EINVAL, "Unsupported subcluster size: %llu",
			    (unsigned long long)(d->cluster_size / QCOW2_SUBCLUSTERS));
	if (h->refcount_order > 6)
		return fail(d, -CD_EINVAL, "Reference count entry width too large; "
			    "may not exceed 64 bits");
	return 0;
}

/* qemu's qcow2_update_options(), after the L1 table is read: the method
 * is printed as the signed int qemu's %d makes of it. */
static int check_crypt_method(struct dec *d)
{
	uint32_t m = d->h->crypt_method;
	if (m > QCOW2_CRYPT_LUKS)
		return fail(d, -CD_EINVAL, "Unsupported encryption method %d", (int32_t)m);
	return 0;
}

/* After the extensions, as in qemu: data file, then encryption. */
static int check_data_and_crypto(struct dec *d)
{
	const struct qcow2_header *h = d->h;
	/* CVE-2024-32498: the name would let an image read any host file. */
	if (h->incompatible & QCOW2_INCOMPAT_DATA_FILE)
		return fail(d, -CD_ENOTSUP, "cordon refuses external data files "
			    "(data_file): the image keeps its data in %s%s%s, "
			    "another file it names", h->data_file[0] ? "'" : "",
			    h->data_file[0] ? h->data_file : "a file",
			    h->data_file[0] ? "'" : "");
	/* qemu-img info opens no data file (BDRV_O_NO_IO) and does not ask. */
	if ((h->autoclear & QCOW2_AUTOCLEAR_DATA_FILE_RAW) && !d->describe)
		return fail(d, -CD_EINVAL, "data-file-raw requires a data file");
	/* cordon takes no keys: qemu-img's message for a missing one.  (A
	 * LUKS image with its header extension failed at the extension.)
	 * Described, an AES image needs none: its tables are not encrypted. */
	if (h->crypt_method == QCOW2_CRYPT_AES && !d->describe)
		return fail(d, -CD_EINVAL, "Parameter 'encrypt.key-secret' is "
			    "required for cipher");
	if (h->crypt_method == QCOW2_CRYPT_LUKS)
		return fail(d, -CD_EINVAL, "Missing CRYPTO header for crypt method %u",
			    h->crypt_method);
	return 0;
}

static int check_backing_name(struct dec *d)
{
	struct qcow2_header *h = d->h;
	if (h->backing_offset == 0) {
		h->backing_len = 0;
		return 0;
	}
	uint64_t room = d->cluster_size - h->backing_offset;
	if (h->backing_len > QCOW2_MAX_BACKING_NAME || h->backing_len > room)
		return fail(d, -CD_EINVAL, "Backing file name too long");
	/* qemu reads the stored length and keeps the C string: the name ends
	 * at its first NUL (past end of file the buffer holds zeros, as qemu
	 * reads there).  An empty name is no backing file at all. */
	h->backing_len = (uint32_t)strnlen((const char *)d->buf + h->backing_offset,
					   h->backing_len);
	return 0;
}

int qcow2_header_decode(const uint8_t *buf, size_t len, uint64_t file_size, bool describe,
			struct qcow2_header *h, char *why, size_t why_len)
{
	struct dec d = { .buf = buf, .len = len, .file_size = file_size,
			 .h = h, .describe = describe, .why = why, .why_len = why_len };
	memset(h, 0, sizeof(*h));
	if (why_len)
		why[0] = '\0';
	if (len < sizeof(struct qcow2_header_disk))
		return fail(&d, -CD_EINVAL, "Image is not in qcow2 format");
	int ret = decode_fixed(&d);
	if (ret == 0)
		ret = decode_v3(&d);
	if (ret == 0)
		ret = check_compression(&d);
	if (ret == 0)
		ret = check_features(&d);
	if (ret == 0)
		ret = check_tables(&d);
	if (ret == 0)
		ret = check_size(&d);
	if (ret == 0)
		ret = check_crypt_method(&d);
	if (ret == 0)
		ret = read_extensions(&d, h->crypt_method, NULL);
	if (ret == 0)
		ret = check_data_and_crypto(&d);
	if (ret == 0)
		ret = check_backing_name(&d);
	return ret;
}
