/*
 * qcow2: open, close and the ops table.  Open reads the first cluster and
 * hands it to the pure decoder (qcow2_header.c), loads and checks the part
 * of the L1 table the virtual disk needs, then asks the host for the
 * backing file the image names.  The writer is qcow2_writer*.c.
 */
#include "qcow2.h"

#include "../overflow.h"
#include "qcow2_writer.h"

int qcow2_corrupt(struct image *img, const char *fmt, ...)
{
	char what[CORE_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return core_fail(img->ctx, -CD_EIO, "qcow2: Image is corrupt: %s", what);
}

/* qemu's qcow2_probe(): the magic, a version it could know, a whole header. */
int qcow2_probe(const uint8_t *head, size_t len, const char *filename)
{
	(void)filename;
	if (len < sizeof(struct qcow2_header_disk) || load_be32(head) != QCOW2_MAGIC)
		return 0;
	return load_be32(head + 4) >= 2 ? 100 : 0;
}

/* Reads up to len bytes at 0 into a zeroed buffer from core_alloc (hostcall
 * buffers must lie in the sandbox heap). */
static int read_head(struct image *img, struct qcow2 *q, size_t len,
		     uint8_t **out)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	uint8_t *buf = core_alloc(img->ctx, len, 64);
	if (!buf)
		return core_fail(img->ctx, -CD_ENOMEM, "Could not read qcow2 header: "
				 "%s", cd_strerror(CD_ENOMEM));
	memset(buf, 0, len);
	uint64_t want = q->file_size < len ? q->file_size : len;
	int64_t n = hc->read(hc->ctx, img->dev, 0, buf, want);
	if (n < 0) {
		core_free(img->ctx, buf);
		return core_fail(img->ctx, (int)n, "Could not read qcow2 header: %s",
				 cd_strerror((int)n));
	}
	*out = buf;
	return 0;
}

/* The first cluster, zero-padded past end of file as qemu reads it. */
static int read_first_cluster(struct image *img, struct qcow2 *q, uint8_t **out,
			      size_t *out_len)
{
	uint8_t *head;
	int ret = read_head(img, q, 512, &head);
	if (ret < 0)
		return ret;
	uint32_t bits = load_be32(head + 20);
	core_free(img->ctx, head);
	*out_len = bits >= QCOW2_MIN_CLUSTER_BITS && bits <= QCOW2_MAX_CLUSTER_BITS
			   ? (size_t)1 << bits : 512;
	return read_head(img, q, *out_len, out);
}

int qcow2_l1_entry_problem(const struct qcow2 *q, uint64_t table, uint64_t i, uint64_t e,
			   char *why, size_t why_len)
{
	uint64_t l2 = e & QCOW2_L1E_OFFSET_MASK;
	unsigned long long at = (unsigned long long)table;
	if (e & QCOW2_L1E_RESERVED_MASK)
		snprintf(why, why_len, "qcow2: Image is corrupt: L1 table at 0x%llx: entry "
			 "%llu has reserved bits set (0x%llx)", at, (unsigned long long)i,
			 (unsigned long long)e);
	else if (l2 & (q->cluster_size - 1))
		snprintf(why, why_len, "qcow2: Image is corrupt: L2 table offset %#llx "
			 "unaligned (L1 index: %#llx)", (unsigned long long)l2,
			 (unsigned long long)i);
	else if (l2 && (l2 >= q->file_size || q->file_size - l2 < q->cluster_size))
		snprintf(why, why_len, "qcow2: Image is corrupt: L1 table at 0x%llx: entry "
			 "%llu points past end of file (L2 table at 0x%llx)", at,
			 (unsigned long long)i, (unsigned long long)l2);
	else
		return 0;
	return -CD_EIO;
}

/* Loads the entries the virtual disk needs (the rest of a larger table
 * holds saved VM state) and checks every L2 table they name, once. */
static int load_l1(struct image *img, struct qcow2 *q)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	uint64_t n = q->h.l1_needed, bytes = n * 8;
	if (n == 0)
		return 0;
	q->l1 = core_alloc(img->ctx, (size_t)bytes, 64);
	if (!q->l1)
		return core_fail(img->ctx, -CD_ENOMEM, "Could not allocate L1 table");
	int64_t got = hc->read(hc->ctx, img->dev, q->h.l1_table_offset, q->l1, bytes);
	if (got < 0)
		return core_fail(img->ctx, (int)got, "Could not read L1 table: %s",
				 cd_strerror((int)got));
	if ((uint64_t)got != bytes) /* checked against the size at open */
		return qcow2_corrupt(img, "L1 table at 0x%llx extends past end of file",
				     (unsigned long long)q->h.l1_table_offset);
	for (uint64_t i = 0; i < n; i++) {
		q->l1[i] = load_be64((const uint8_t *)&q->l1[i]);
		char why[CORE_ERR_MAX];
		int ret = qcow2_l1_entry_problem(q, q->h.l1_table_offset, i, q->l1[i], why,
						 sizeof(why));
		if (ret < 0)
			return core_fail(img->ctx, ret, "%s", why);
	}
	return 0;
}

static void set_geometry(struct qcow2 *q)
{
	q->cluster_bits = q->h.cluster_bits;
	q->cluster_size = 1ull << q->cluster_bits;
	q->entry_bytes = q->h.extended_l2 ? 16 : 8;
	q->l2_bits = q->cluster_bits - (q->h.extended_l2 ? 4 : 3);
	q->csize_shift = 62 - (q->cluster_bits - 8);
	q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
	q->coffset_mask = (1ull << q->csize_shift) - 1;
}

static int decode_header(struct image *img, struct qcow2 *q, char *backing)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = read_first_cluster(img, q, &buf, &len);
	if (ret < 0)
		return ret;
	char why[QCOW2_WHY_LEN];
	ret = qcow2_header_decode(buf, len, q->file_size, img->ctx->open_no_io, &q->h, why,
				  sizeof(why));
	/* qemu warns as it meets the extension, before any error after it. */
	if (q->h.bitmaps_warning == 2)
		core_say(img->ctx, HC_LEVEL_WARNING, "This qcow2 v2 image contains bitmaps, "
			 "but they may have been modified by a program without persistent "
			 "bitmap support; so now they must all be considered inconsistent");
	else if (q->h.bitmaps_warning)
		core_say(img->ctx, HC_LEVEL_WARNING, "a program lacking bitmap support "
			 "modified this file, so all bitmaps are now considered inconsistent");
	if (q->h.bitmaps_warning)
		core_say(img->ctx, HC_LEVEL_TEXT, "Some clusters may be leaked, run "
			 "'qemu-img check -r' on the image file to fix.");
	if (ret < 0)
		core_fail(img->ctx, ret, "%s", why);
	else if (q->h.backing_len)
		memcpy(backing, buf + q->h.backing_offset, q->h.backing_len);
	core_free(img->ctx, buf);
	return ret;
}

static void qcow2_close(struct image *img)
{
	struct qcow2 *q = img->priv;
	if (!q)
		return;
	qcow2_cache_free(img->ctx, q);
	cd_zstd_free(img->ctx, q->zstd);
	core_free(img->ctx, q->cbuf);
	core_free(img->ctx, q->dbuf);
	core_free(img->ctx, q->l1);
	core_free(img->ctx, q);
	img->priv = NULL;
}

static int qcow2_open(struct image *img)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t size = hc->size(hc->ctx, img->dev);
	if (size < 0)
		return (int)size;
	struct qcow2 *q = core_alloc(img->ctx, sizeof(*q), 64);
	if (!q)
		return -CD_ENOMEM;
	memset(q, 0, sizeof(*q));
	q->file_size = (uint64_t)size;
	img->priv = q;
	char backing[QCOW2_MAX_BACKING_NAME + 1];
	int ret = decode_header(img, q, backing);
	if (ret == 0) {
		set_geometry(q);
		ret = load_l1(img, q);
	}
	if (ret == 0)
		ret = qcow2_cache_init(img->ctx, q);
	/* qemu reads the snapshot table last, before the backing file. */
	if (ret == 0)
		ret = qcow2_check_snapshots(img, &q->h);
	/* ... then loads the persistent bitmaps. */
	if (ret == 0)
		ret = qcow2_check_bitmaps(img);
	/* qemu's block layer then finds the size past INT64_MAX. */
	if (ret == 0 && q->h.size_wraps)
		ret = core_fail(img->ctx, -CD_EFBIG, "Could not refresh total sector count: %s",
				cd_strerror(CD_EFBIG));
	/* qemu's virtual size is whole sectors: total_sectors = size / 512. */
	img->size = q->h.size & ~511ull;
	if (ret == 0 && q->h.backing_len)
		ret = image_open_backing(img, backing, q->h.backing_len,
					 q->h.backing_fmt);
	if (ret < 0)
		qcow2_close(img);
	return ret;
}

static int qcow2_read(struct image *img, uint64_t off, void *buf, uint64_t len)
{
	return qcow2_read_compressed(img, off, buf, len);
}

const struct format_ops format_qcow2 = {
	.name = "qcow2",
	.flags = FORMAT_HAS_METADATA,
	.open = qcow2_open,
	.close = qcow2_close,
	.map = qcow2_map,
	.read = qcow2_read,
	.writer = &qcow2_writer_ops,
	.about = qcow2_about,
	.about_specific = qcow2_about_specific,
	.about_snapshots = qcow2_list_snapshots,
	.load_snapshot = qcow2_load_snapshot,
};
