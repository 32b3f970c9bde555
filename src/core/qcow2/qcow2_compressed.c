/*
 * Compressed clusters.  The L2 entry holds the data's byte offset and its
 * length in 512-byte sectors (qemu's csize_shift/csize_mask layout), so the
 * length is at most two clusters by construction.  The last sector may run
 * past end of file (qemu writes only the bytes it has); as in qemu those
 * bytes read as zeros.  The last decompressed cluster is kept, because dd
 * with a small bs reads one cluster in many pieces.
 */
#include "qcow2.h"

static int buffers(struct image *img, struct qcow2 *q)
{
	if (!q->cbuf)
		q->cbuf = core_alloc(img->ctx, (size_t)(2 * q->cluster_size), 64);
	if (!q->dbuf)
		q->dbuf = core_alloc(img->ctx, (size_t)q->cluster_size, 64);
	return q->cbuf && q->dbuf ? 0 : -CD_ENOMEM;
}

static int read_compressed_bytes(struct image *img, uint64_t off, uint64_t len)
{
	struct qcow2 *q = img->priv;
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t n = hc->read(hc->ctx, img->dev, off, q->cbuf, len);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n < len)
		memset(q->cbuf + n, 0, (size_t)(len - (uint64_t)n));
	return 0;
}

/* Decompresses the cluster an L2 entry describes into q->dbuf. */
static int decompress(struct image *img, uint64_t entry)
{
	struct qcow2 *q = img->priv;
	uint64_t coff = entry & q->coffset_mask;
	uint64_t sectors = ((entry >> q->csize_shift) & q->csize_mask) + 1;
	uint64_t clen = sectors * 512 - (coff & 511);
	if (coff >= q->file_size)
		return qcow2_corrupt(img, "compressed cluster at 0x%llx lies past "
				     "end of file", (unsigned long long)coff);
	int ret = buffers(img, q);
	if (ret == 0)
		ret = read_compressed_bytes(img, coff, clen);
	if (ret < 0)
		return ret;
	q->dbuf_entry = 0;
	if (q->h.compression_type == QCOW2_COMPRESSION_ZSTD)
		ret = cd_zstd_decompress(img->ctx, &q->zstd, q->cbuf, (size_t)clen,
					 q->dbuf, (size_t)q->cluster_size);
	else
		ret = cd_inflate_raw(img->ctx, q->cbuf, (size_t)clen, q->dbuf,
				     (size_t)q->cluster_size);
	if (ret == 0)
		q->dbuf_entry = entry;
	/* Undecodable data is an I/O error with no message, as in qemu. */
	return ret;
}

int qcow2_read_compressed(struct image *img, uint64_t off, void *buf,
			  uint64_t len)
{
	struct qcow2 *q = img->priv;
	uint8_t *p = buf;
	while (len > 0) {
		struct qcow2_run run;
		int ret = qcow2_lookup(img, off, &run);
		if (ret < 0)
			return ret;
		if (run.kind != QCOW2_COMPRESSED)
			return -CD_EIO; /* read() serves only what map() called OTHER */
		if (q->dbuf_entry != run.entry) {
			ret = decompress(img, run.entry);
			if (ret < 0)
				return ret;
		}
		uint64_t n = run.len < len ? run.len : len;
		memcpy(p, q->dbuf + (off & (q->cluster_size - 1)), (size_t)n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}
