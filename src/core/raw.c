/*
 * raw: the virtual disk is the file itself.  As in qemu, the virtual size is
 * the file size rounded up to 512 bytes and the tail past end of file reads
 * as zeros.  Holes (SEEK_HOLE, served by the host's extent call) read as
 * zeros without being read.
 */
#include "format.h"

#include "io.h"
#include "overflow.h"

/* Data/hole runs asked of the host at once: a scattered file costs one
 * hostcall per RAW_RUNS runs, not one per run. */
#define RAW_RUNS 256u
/* How far ahead one EXTENTS call looks. */
#define RAW_LOOKAHEAD (1ull << 30)

struct raw_priv {
	uint64_t file_size;      /* bytes actually in the file */
	struct hc_extent *runs;  /* from core_alloc: the host writes them */
	uint32_t n_runs;
	uint64_t runs_off;       /* where runs[0] starts */
};

static int raw_open(struct image *img)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t size = hc->size(hc->ctx, img->dev);
	if (size < 0)
		return (int)size;
	struct raw_priv *priv = core_alloc(img->ctx, sizeof(*priv), 8);
	struct hc_extent *runs = core_alloc(img->ctx, RAW_RUNS * sizeof(*runs), 16);
	if (!priv || !runs) {
		core_free(img->ctx, priv);
		core_free(img->ctx, runs);
		return -CD_ENOMEM;
	}
	*priv = (struct raw_priv){ .file_size = (uint64_t)size, .runs = runs };
	if (!round_up_u64(priv->file_size, 512, &img->size)) {
		core_free(img->ctx, runs);
		core_free(img->ctx, priv);
		return -CD_EFBIG;
	}
	img->priv = priv;
	return 0;
}

static void raw_close(struct image *img)
{
	struct raw_priv *priv = img->priv;
	if (priv)
		core_free(img->ctx, priv->runs);
	core_free(img->ctx, priv);
	img->priv = NULL;
}

/* The cached run holding off: its kind and how much of it is left from off;
 * 0 when off is not cached. */
static uint64_t cached(const struct raw_priv *p, uint64_t off, bool *is_data)
{
	uint64_t start = p->runs_off;
	for (uint32_t i = 0; i < p->n_runs; i++) {
		uint64_t end = start + p->runs[i].len;
		if (off >= start && off < end) {
			*is_data = p->runs[i].is_data != 0;
			return end - off;
		}
		start = end;
	}
	return 0;
}

/* Asks the host for the runs from off on (up to RAW_LOOKAHEAD bytes). */
static int refill(struct image *img, struct raw_priv *p, uint64_t off)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	uint64_t span = p->file_size - off < RAW_LOOKAHEAD ? p->file_size - off : RAW_LOOKAHEAD;
	int64_t n = hc->extents(hc->ctx, img->dev, off, span, p->runs, RAW_RUNS);
	p->n_runs = 0;
	if (n < 0)
		return (int)n;
	if (n == 0 || (uint64_t)n > RAW_RUNS)
		return -CD_EIO; /* the host broke its contract */
	uint64_t total = 0;
	for (int64_t i = 0; i < n; i++) {
		if (p->runs[i].len == 0 || p->runs[i].len > span - total)
			return -CD_EIO;
		total += p->runs[i].len;
	}
	p->n_runs = (uint32_t)n;
	p->runs_off = off;
	return 0;
}

static int64_t raw_map(struct image *img, uint64_t off, uint64_t len,
		       struct extent *ext)
{
	struct raw_priv *priv = img->priv;
	ext->dev = img->dev;
	ext->dev_off = off;
	if (off >= priv->file_size) {
		ext->kind = EXT_ZERO;
		return (int64_t)len;
	}
	if (len > priv->file_size - off)
		len = priv->file_size - off;
	bool is_data = true;
	uint64_t run = cached(priv, off, &is_data);
	if (run == 0) {
		int ret = refill(img, priv, off);
		if (ret < 0)
			return ret;
		run = cached(priv, off, &is_data);
	}
	ext->kind = is_data ? EXT_RAW : EXT_ZERO;
	return (int64_t)(run < len ? run : len);
}

int raw_open_file(const struct image *img, struct image *file)
{
	*file = (struct image){ .ops = &format_raw, .ctx = img->ctx, .dev = img->dev,
				.depth = img->depth, .name = img->name };
	int ret = raw_open(file);
	if (ret < 0)
		file->ops = NULL;
	return ret;
}

void raw_close_file(struct image *file)
{
	if (file->ops)
		raw_close(file);
	file->ops = NULL;
}

/* ---- writing -------------------------------------------------------------- */

static int raw_create(struct image_writer *w, const struct writer_opts *o)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	int ret = writer_check_opts(w, "raw", o, WRITER_OPT_EXISTING);
	if (ret == 0)
		ret = writer_create_output(w);
	if (ret < 0 || o->open_existing) /* an existing image keeps its size */
		return ret;
	int64_t r = hc->truncate(hc->ctx, w->dev, w->size);
	/* A fresh file reads zeros: the source's holes need no writing --
	 * unless every byte is to be allocated (convert -S 0). */
	w->copy_skips_holes = w->zeroed && w->sparse;
	/* A device that cannot grow is dd's to word ("Cannot grow device
	 * files"); a file's ftruncate() failure is qemu's raw create's. */
	if (r < 0 && (w->zeroed || r != -CD_ENOSPC))
		return core_fail(w->ctx, (int)r, "Could not resize file: %s", cd_strerror((int)r));
	return r < 0 ? (int)r : 0;
}

static int raw_write(struct image_writer *w, uint64_t off, const void *buf,
		     uint64_t len)
{
	return io_write(w->ctx, w->dev, off, buf, len);
}

static int raw_copy(struct image_writer *w, uint32_t src_dev, uint64_t src_off,
		    uint64_t off, uint64_t len, bool skip_holes)
{
	return io_copy(w->ctx, src_dev, src_off, w->dev, off, len,
		       skip_holes ? HC_COPY_SKIP_HOLES : 0);
}

#define RAW_ZERO_BUF (1u << 20)

static int raw_zero(struct image_writer *w, uint64_t off, uint64_t len)
{
	/* A fresh file is already zero: leave a hole, unless the output is
	 * to be fully allocated. */
	if (w->zeroed && w->sparse)
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

/* Nothing is held between calls. */
static int raw_finish(struct image_writer *w)
{
	(void)w;
	return 0;
}

static void raw_abort(struct image_writer *w)
{
	(void)w;
}

static const struct writer_ops raw_writer = {
	.create = raw_create,
	.write = raw_write,
	.copy = raw_copy,
	.zero = raw_zero,
	.finish = raw_finish,
	.abort = raw_abort,
};

const struct format_ops format_raw = {
	.name = "raw",
	.open = raw_open,
	.close = raw_close,
	.map = raw_map,
	.read = NULL, /* raw has no EXT_OTHER runs */
	.writer = &raw_writer,
};
