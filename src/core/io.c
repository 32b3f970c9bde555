/* Whole-range device I/O (see io.h). */
#include "io.h"

static int read_loop(struct core_ctx *ctx, uint32_t dev, uint64_t off, uint8_t *buf,
		     uint64_t len, bool zeros_past_end)
{
	const struct hostcalls *hc = ctx->env->hc;
	uint64_t done = 0;
	while (done < len) {
		uint64_t want = len - done < HC_MAX_IO_LEN ? len - done : HC_MAX_IO_LEN;
		int64_t n = hc->read(hc->ctx, dev, off + done, buf + done, want);
		if (n < 0)
			return (int)n;
		if ((uint64_t)n > want)
			return -CD_EIO; /* the host broke its contract */
		if (n == 0) {
			if (!zeros_past_end)
				return -CD_EIO;
			memset(buf + done, 0, len - done);
			return 0;
		}
		done += (uint64_t)n;
	}
	return 0;
}

int io_read(struct core_ctx *ctx, uint32_t dev, uint64_t off, void *buf, uint64_t len)
{
	return read_loop(ctx, dev, off, buf, len, true);
}

int io_read_exact(struct core_ctx *ctx, uint32_t dev, uint64_t off, void *buf,
		  uint64_t len)
{
	return read_loop(ctx, dev, off, buf, len, false);
}

/* One write of buf inside the window, left to the host to finish. */
static int write_behind(struct core_ctx *ctx, uint32_t dev, uint64_t off, const uint8_t *buf,
			uint64_t len)
{
	const struct hostcalls *hc = ctx->env->hc;
	bool earlier = false;
	const uint8_t *before = ctx->behind.buf;
	int64_t n = hc->write_behind(hc->ctx, dev, off, buf, len, &earlier);
	ctx->behind.buf = NULL; /* the one before is done either way */
	if (n < 0) {
		ctx->behind.failed = earlier ? before : NULL;
		return (int)n;
	}
	if ((uint64_t)n != len)
		return -CD_EIO; /* the host broke its contract */
	ctx->behind.buf = buf;
	ctx->behind.len = len;
	return 0;
}

static bool in_window(const struct core_ctx *ctx, const uint8_t *p, uint64_t len)
{
	const struct io_behind *b = &ctx->behind;
	return ctx->env->hc->write_behind && p >= b->lo && p < b->hi &&
	       len <= (uint64_t)(b->hi - p) && len <= HC_MAX_IO_LEN;
}

static int settle(struct core_ctx *ctx)
{
	if (!ctx->behind.buf)
		return 0;
	const struct hostcalls *hc = ctx->env->hc;
	const uint8_t *pending = ctx->behind.buf;
	ctx->behind.buf = NULL;
	int64_t r = hc->settle(hc->ctx);
	if (r < 0) {
		ctx->behind.failed = pending;
		return (int)r;
	}
	return 0;
}

/* A write or copy to other bytes failed while a write behind was still
 * out (the host let it pass): if that one failed too, it came first, and
 * is the failure to tell. */
static int earlier_failure(struct core_ctx *ctx, int err)
{
	int behind = settle(ctx);
	return behind < 0 ? behind : err;
}

void io_behind_open(struct core_ctx *ctx, const void *buf, uint64_t len)
{
	ctx->behind.lo = buf;
	ctx->behind.hi = (const uint8_t *)buf + len;
}

int io_behind_reuse(struct core_ctx *ctx, const void *buf, uint64_t len)
{
	const uint8_t *p = buf, *q = ctx->behind.buf;
	if (q && p < q + ctx->behind.len && q < p + len)
		return settle(ctx);
	return 0;
}

int io_behind_close(struct core_ctx *ctx)
{
	int ret = settle(ctx);
	ctx->behind.lo = ctx->behind.hi = NULL;
	return ret;
}

const void *io_behind_failed(const struct core_ctx *ctx)
{
	return ctx->behind.failed;
}

int io_write(struct core_ctx *ctx, uint32_t dev, uint64_t off, const void *buf,
	     uint64_t len)
{
	const struct hostcalls *hc = ctx->env->hc;
	const uint8_t *p = buf;
	ctx->behind.failed = NULL;
	if (len > 0 && in_window(ctx, p, len))
		return write_behind(ctx, dev, off, p, len);
	while (len > 0) {
		uint64_t chunk = len < HC_MAX_IO_LEN ? len : HC_MAX_IO_LEN;
		int64_t n = hc->write(hc->ctx, dev, off, p, chunk);
		if (n < 0)
			return earlier_failure(ctx, (int)n);
		if (n == 0 || (uint64_t)n > chunk)
			return -CD_EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int io_copy(struct core_ctx *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
	    uint64_t dst_off, uint64_t len, uint32_t flags)
{
	const struct hostcalls *hc = ctx->env->hc;
	while (len > 0) {
		uint64_t chunk = len < HC_MAX_COPY_LEN ? len : HC_MAX_COPY_LEN;
		int64_t n = hc->copy(hc->ctx, src, src_off, dst, dst_off, chunk, flags);
		if (n < 0)
			return earlier_failure(ctx, (int)n);
		if (n == 0 || (uint64_t)n > chunk)
			return -CD_EIO;
		src_off += (uint64_t)n;
		dst_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Most names are short: asked for into this much first. */
#define NAME_GUESS 64u

uint32_t io_dev_type(struct core_ctx *ctx, uint32_t dev)
{
	const struct hostcalls *hc = ctx->env->hc;
	uint32_t type = HC_FILE_NONE;
	if (hc->dev_info(hc->ctx, dev, NULL, 0, &type) < 0)
		return HC_FILE_NONE;
	return type;
}

char *io_dev_name(struct core_ctx *ctx, uint32_t dev)
{
	const struct hostcalls *hc = ctx->env->hc;
	size_t size = NAME_GUESS;
	for (int tries = 0; tries < 2; tries++) {
		char *name = core_alloc(ctx, size, 1);
		if (!name)
			return NULL;
		uint32_t type;
		int64_t n = hc->dev_info(hc->ctx, dev, name, size - 1, &type);
		if (n < 0)
			n = 0;
		if ((uint64_t)n < size) {
			name[n] = '\0';
			return name;
		}
		core_free(ctx, name);
		size = (size_t)(n < HC_MAX_NAME_LEN ? n : HC_MAX_NAME_LEN) + 1;
	}
	return NULL;
}

int io_size_in_sectors(struct core_ctx *ctx, uint32_t dev, uint64_t *size)
{
	const struct hostcalls *hc = ctx->env->hc;
	int64_t n = hc->size(hc->ctx, dev);
	if (n < 0)
		return (int)n;
	*size = ((uint64_t)n + 511) & ~511ull;
	return 0;
}
