/*
 * raw: the virtual disk is the file itself.  As in qemu, the virtual size is
 * the file size rounded up to 512 bytes and the tail past end of file reads
 * as zeros.  Holes (SEEK_HOLE, served by the host's extent call) read as
 * zeros without being read.
 */
#include "format.h"

#include "overflow.h"

struct raw_priv {
	uint64_t file_size; /* bytes actually in the file */
};

static int raw_open(struct image *img)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t size = hc->size(hc->ctx, img->dev);
	if (size < 0)
		return (int)size;
	struct raw_priv *priv = core_alloc(img->ctx, sizeof(*priv), 8);
	if (!priv)
		return -CD_ENOMEM;
	priv->file_size = (uint64_t)size;
	if (!round_up_u64(priv->file_size, 512, &img->size)) {
		core_free(img->ctx, priv);
		return -CD_EFBIG;
	}
	img->priv = priv;
	return 0;
}

static void raw_close(struct image *img)
{
	core_free(img->ctx, img->priv);
	img->priv = NULL;
}

static int64_t raw_map(struct image *img, uint64_t off, uint64_t len,
		       struct extent *ext)
{
	const struct raw_priv *priv = img->priv;
	const struct hostcalls *hc = img->ctx->env->hc;

	ext->dev = img->dev;
	ext->dev_off = off;
	if (off >= priv->file_size) {
		ext->kind = EXT_ZERO;
		return (int64_t)len;
	}
	if (len > priv->file_size - off)
		len = priv->file_size - off;
	int is_data = 1;
	int64_t n = hc->extent(hc->ctx, img->dev, off, len, &is_data);
	if (n < 0)
		return n;
	if (n == 0 || (uint64_t)n > len)
		return -CD_EIO; /* the host broke its contract */
	ext->kind = is_data ? EXT_RAW : EXT_ZERO;
	return n;
}

/* ---- writing -------------------------------------------------------------- */

static int raw_create(struct image_writer *w)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	int ret = writer_create_output(w);
	if (ret < 0)
		return ret;
	int64_t r = hc->truncate(hc->ctx, w->dev, w->size);
	return r < 0 ? (int)r : 0;
}

static int raw_write(struct image_writer *w, uint64_t off, const void *buf,
		     uint64_t len)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	const uint8_t *p = buf;
	while (len > 0) {
		uint64_t chunk = len < HC_MAX_IO_LEN ? len : HC_MAX_IO_LEN;
		int64_t n = hc->write(hc->ctx, w->dev, off, p, chunk);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -CD_EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int raw_copy(struct image_writer *w, uint32_t src_dev, uint64_t src_off,
		    uint64_t off, uint64_t len)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	while (len > 0) {
		uint64_t chunk = len < HC_MAX_COPY_LEN ? len : HC_MAX_COPY_LEN;
		int64_t n = hc->copy(hc->ctx, src_dev, src_off, w->dev, off, chunk);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -CD_EIO; /* extents never run past end of file */
		src_off += (uint64_t)n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

#define RAW_ZERO_BUF (1u << 20)

static int raw_zero(struct image_writer *w, uint64_t off, uint64_t len)
{
	/* A fresh file is already zero: leave a hole. */
	if (w->zeroed)
		return 0;
	uint64_t bufsz = len < RAW_ZERO_BUF ? len : RAW_ZERO_BUF;
	uint8_t *zeros = core_alloc(w->ctx, (size_t)bufsz, 16);
	if (!zeros)
		return -CD_ENOMEM;
	memset(zeros, 0, (size_t)bufsz);
	int ret = 0;
	while (len > 0 && ret == 0) {
		uint64_t chunk = len < bufsz ? len : bufsz;
		ret = raw_write(w, off, zeros, chunk);
		off += chunk;
		len -= chunk;
	}
	core_free(w->ctx, zeros);
	return ret;
}

static int raw_finish(struct image_writer *w)
{
	(void)w;
	return 0;
}

static const struct writer_ops raw_writer = {
	.create = raw_create,
	.write = raw_write,
	.copy = raw_copy,
	.zero = raw_zero,
	.finish = raw_finish,
};

const struct format_ops format_raw = {
	.name = "raw",
	.probe = NULL,
	.open = raw_open,
	.close = raw_close,
	.map = raw_map,
	.read = NULL, /* raw has no EXT_OTHER runs */
	.writer = &raw_writer,
};
