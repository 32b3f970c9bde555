/* The copy engine (see copy.h). */
#include "copy.h"
#include "zero.h"

/* One map step; large so that hostcalls stay rare. */
#define COPY_STEP_MAX (1ull << 30)
/* Bounce buffer for runs that must pass through core. */
#define COPY_BUF_LEN (4u << 20)

struct copy {
	struct core_ctx *ctx;
	struct image *in;
	struct image_writer *out;
	const struct copy_opts *o;
	uint8_t *buf;
	enum copy_side *failed;
};

static int fail(struct copy *c, enum copy_side side, int err)
{
	*c->failed = side;
	return err;
}

/* The piece of [off, off+left) up to the next multiple of unit. */
static uint64_t piece(uint64_t off, uint64_t left, uint64_t unit)
{
	uint64_t m = unit - off % unit;
	return m < left ? m : left;
}

/* buf holds the output's [off, off+len): written, except that, with zero
 * detection on, stretches of whole aligned units that are all zeros become
 * zero() (a partial unit at either end always counts as data). */
static int put(struct copy *c, uint64_t off, const uint8_t *buf, uint64_t len)
{
	uint64_t unit = c->o->zero_unit;
	struct image_writer *w = c->out;
	while (len > 0) {
		uint64_t n = len;
		bool zero = false;
		if (unit) {
			uint64_t m = piece(off, len, unit);
			zero = m == unit && all_zero(buf, m);
			for (n = m; n < len; n += m) {
				m = piece(off + n, len - n, unit);
				if ((m == unit && all_zero(buf + n, m)) != zero)
					break;
			}
		}
		int ret = zero ? w->ops->zero(w, off, n) : w->ops->write(w, off, buf, n);
		if (ret < 0)
			return fail(c, COPY_WRITE, ret);
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int through_buffer(struct copy *c, struct image *owner, const struct extent *ext,
			  uint64_t pos, uint64_t out_off, uint64_t len)
{
	if (!c->buf && !(c->buf = core_alloc(c->ctx, COPY_BUF_LEN, 4096)))
		return fail(c, COPY_READ, -CD_ENOMEM);
	struct extent run = *ext;
	while (len > 0) {
		uint64_t chunk = len < COPY_BUF_LEN ? len : COPY_BUF_LEN;
		int ret = image_read_run(owner, &run, pos, c->buf, chunk);
		if (ret < 0)
			return fail(c, COPY_READ, ret);
		if ((ret = put(c, out_off, c->buf, chunk)) < 0)
			return ret;
		pos += chunk;
		out_off += chunk;
		run.dev_off += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * A raw file's data run and the runs after it in the same file (data, or
 * holes, which read as zeros), up to `cap` bytes: n grows over them.  Raw
 * maps the file one to one, so they are one stretch of it.  Two uses:
 * - through the buffer, with zero detection on: they are read with it and
 *   the detection finds the holes again (a file with a byte in every
 *   64 KiB is one read per 4 MiB, not per byte);
 * - host-side, for a writer whose copy() may skip holes: one copy for the
 *   stretch, not one per run.
 */
static uint64_t same_raw_file(struct copy *c, const struct image *owner, uint64_t pos,
			      uint64_t n, uint64_t cap)
{
	if (owner->ops != &format_raw)
		return n;
	while (n < cap) {
		struct extent next;
		struct image *next_owner;
		int64_t m = image_map(c->in, pos + n, cap - n, &next, &next_owner);
		if (m <= 0 || next_owner != owner ||
		    (next.kind != EXT_RAW && next.kind != EXT_ZERO))
			break;
		n += (uint64_t)m;
	}
	return n;
}

/*
 * Runs that continue the EXT_RAW run (dev, dev_off + n) of owner, up to
 * cap bytes: n grows over them.  A sparse format maps one grain or block
 * at a time, and grains it wrote one after another lie one after another:
 * one host-side copy for all of them, not one per grain.
 */
static uint64_t same_stretch(struct copy *c, const struct image *owner,
			     const struct extent *ext, uint64_t pos, uint64_t n, uint64_t cap)
{
	while (n < cap) {
		struct extent next;
		struct image *next_owner;
		int64_t m = image_map(c->in, pos + n, cap - n, &next, &next_owner);
		if (m <= 0 || next_owner != owner || next.kind != EXT_RAW ||
		    next.dev != ext->dev || next.dev_off != ext->dev_off + n)
			break;
		n += (uint64_t)m;
	}
	return n;
}

/*
 * Runs only owner's read() serves (compressed grains and clusters), read
 * one after another into the buffer: one write for a buffer of them, not
 * one per run.  The first run, of n bytes (< COPY_BUF_LEN), is at pos;
 * *done is what was put.
 */
static int gather_other(struct copy *c, struct image *owner, uint64_t pos, uint64_t out_off,
			uint64_t n, uint64_t len, uint64_t *done)
{
	if (!c->buf && !(c->buf = core_alloc(c->ctx, COPY_BUF_LEN, 4096)))
		return fail(c, COPY_READ, -CD_ENOMEM);
	uint64_t cap = len < COPY_BUF_LEN ? len : COPY_BUF_LEN, filled = 0;
	struct extent ext = { .kind = EXT_OTHER };
	while (filled < cap) {
		int ret = owner->ops->read(owner, pos + filled, c->buf + filled, n);
		if (ret < 0)
			return fail(c, COPY_READ, ret);
		filled += n;
		if (filled == cap)
			break;
		struct image *next_owner;
		int64_t m = image_map(c->in, pos + filled, cap - filled, &ext, &next_owner);
		if (m <= 0 || next_owner != owner || ext.kind != EXT_OTHER)
			break;
		n = (uint64_t)m;
	}
	*done = filled;
	return put(c, out_off, c->buf, filled);
}

static int step(struct copy *c, uint64_t pos, uint64_t out_off, uint64_t len,
		uint64_t *done)
{
	struct extent ext;
	struct image *owner;
	int64_t n = image_map(c->in, pos, len, &ext, &owner);
	if (n < 0)
		return fail(c, COPY_READ, (int)n);
	*done = (uint64_t)n;
	struct image_writer *w = c->out;
	int ret;
	if (c->o->base_depth && owner->depth >= c->o->base_depth)
		return 0; /* the output's backing file has it */
	if (ext.kind == EXT_ZERO) {
		ret = w->ops->zero(w, out_off, (uint64_t)n);
	} else if (ext.kind == EXT_RAW && w->ops->copy && c->o->host_copy) {
		if (w->copy_skips_holes)
			*done = same_raw_file(c, owner, pos, (uint64_t)n, len);
		if (*done == (uint64_t)n && owner->ops != &format_raw)
			*done = same_stretch(c, owner, &ext, pos, (uint64_t)n, len);
		ret = w->ops->copy(w, ext.dev, ext.dev_off, out_off, *done,
				   w->copy_skips_holes && owner->ops == &format_raw &&
				   *done > (uint64_t)n);
	} else if (ext.kind == EXT_OTHER && (uint64_t)n < COPY_BUF_LEN) {
		return gather_other(c, owner, pos, out_off, (uint64_t)n, len, done);
	} else {
		uint64_t cap = len < COPY_BUF_LEN ? len : COPY_BUF_LEN;
		if (ext.kind == EXT_RAW && c->o->zero_unit)
			*done = same_raw_file(c, owner, pos, (uint64_t)n, cap);
		if (ext.kind == EXT_RAW && owner->ops != &format_raw)
			*done = same_stretch(c, owner, &ext, pos, (uint64_t)n, cap);
		return through_buffer(c, owner, &ext, pos, out_off, *done);
	}
	return ret < 0 ? fail(c, COPY_WRITE, ret) : 0;
}

int copy_range(struct core_ctx *ctx, struct image *in, uint64_t in_off, uint64_t len,
	       struct image_writer *out, uint64_t out_off, const struct copy_opts *o,
	       enum copy_side *failed)
{
	struct copy c = { .ctx = ctx, .in = in, .out = out, .o = o, .failed = failed };
	uint64_t done = 0;
	int ret = 0;
	while (done < len && ret == 0) {
		uint64_t n = 0, want = len - done;
		ret = step(&c, in_off + done, out_off + done,
			   want < COPY_STEP_MAX ? want : COPY_STEP_MAX, &n);
		done += n;
		if (ret == 0 && o->progress)
			o->progress(o->progress_ctx, done);
	}
	core_free(ctx, c.buf);
	return ret;
}
