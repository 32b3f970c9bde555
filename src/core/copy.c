/* The copy engine (see copy.h). */
#include "copy.h"
#include "io.h"
#include "zero.h"

/* One map step; large so that hostcalls stay rare. */
#define COPY_STEP_MAX (1ull << 30)
/* Bounce buffer for runs that must pass through core: two of them, one
 * being written behind (io.h) while the next piece is read into the other;
 * no larger than the range (small images, small sandboxes). */
#define COPY_BUF_LEN (4u << 20)

struct copy {
	struct core_ctx *ctx;
	struct image *in;
	struct image_writer *out;
	const struct copy_opts *o;
	uint8_t *bufs;      /* n_bufs * buf_len; NULL until a run needs them */
	uint64_t buf_len;   /* COPY_BUF_LEN, or the range in whole pages */
	unsigned n_bufs;    /* 2, or 1 in a sandbox too small for two */
	uint8_t *buf;       /* the one in hand */
	unsigned cur;       /* its index */
	uint64_t buf_at[2]; /* input offset each was last filled from */
	uint64_t at;        /* input offset of the piece in hand */
	struct copy_failure *failed;
};

static int fail(struct copy *c, enum copy_side side, int err)
{
	uint64_t at = c->at;
	/* The write that failed may be an earlier one, written behind from
	 * either buffer: where its bytes came from.  A buffer holds the input
	 * from buf_at on, one to one (a hole's zeros: buf_at itself). */
	const uint8_t *p = side == COPY_WRITE ? io_behind_failed(c->ctx) : NULL;
	if (p && c->bufs && p >= c->bufs && p < c->bufs + c->n_bufs * c->buf_len) {
		uint64_t k = (uint64_t)(p - c->bufs);
		at = c->buf_at[k / c->buf_len] + k % c->buf_len;
	}
	*c->failed = (struct copy_failure){ .side = side, .at = at };
	return err;
}

/* The next bounce buffer into c->buf, once the write behind that reads
 * it is done.  0 or -errno. */
static int take_buffer(struct copy *c)
{
	if (!c->bufs) {
		/* One buffer still copies, each write waiting for the last. */
		c->n_bufs = 2;
		c->bufs = core_alloc(c->ctx, 2 * c->buf_len, 4096);
		if (!c->bufs) {
			c->n_bufs = 1;
			c->bufs = core_alloc(c->ctx, c->buf_len, 4096);
		}
		if (!c->bufs)
			return fail(c, COPY_READ, -CD_ENOMEM);
		io_behind_open(c->ctx, c->bufs, c->n_bufs * c->buf_len);
		c->cur = c->n_bufs - 1;
		c->buf_at[0] = c->buf_at[1] = c->at;
	}
	c->cur = (c->cur + 1) % c->n_bufs;
	c->buf = c->bufs + (uint64_t)c->cur * c->buf_len;
	int ret = io_behind_reuse(c->ctx, c->buf, c->buf_len);
	if (ret < 0)
		return fail(c, COPY_WRITE, ret);
	c->buf_at[c->cur] = c->at;
	return 0;
}

/* The piece of [off, off+left) up to the next multiple of unit. */
static uint64_t piece(uint64_t off, uint64_t left, uint64_t unit)
{
	uint64_t m = unit - off % unit;
	return m < left ? m : left;
}

/* buf holds the output's [off, off+len): written, except that, with zero
 * detection on, stretches of aligned units that are all zeros become
 * zero().  A partial unit can only be at either end of the buffer, where
 * the run beside it is a hole or other data: all zeros and whole sectors,
 * it is left out too, as qemu-img leaves out the zeros that end a request. */
static bool zero_piece(uint64_t off, const uint8_t *p, uint64_t m, uint64_t unit)
{
	return (m == unit || ((off | m) & 511) == 0) && all_zero(p, m);
}

/* Whole zero sectors (on the output's sector grid) at the start, or with
 * from_end at the end, of [off, off+n) of p. */
static uint64_t zero_sectors(uint64_t off, const uint8_t *p, uint64_t n, bool from_end)
{
	uint64_t z = 0;
	if (((from_end ? off + n : off) & 511) != 0)
		return 0;
	while (z + 512 <= n && all_zero(from_end ? p + n - z - 512 : p + z, 512))
		z += 512;
	return z;
}

/* A stretch of data units: written without the zero sectors that start or
 * end it (a unit straddling the end of a data run and a hole is mostly
 * hole), as qemu-img writes a request only up to its data. */
static int put_data(struct copy *c, uint64_t off, const uint8_t *buf, uint64_t n)
{
	struct image_writer *w = c->out;
	uint64_t lead = 0, tail = 0;
	if (c->o->zero_unit) {
		lead = zero_sectors(off, buf, n, false);
		tail = lead < n ? zero_sectors(off + lead, buf + lead, n - lead, true) : 0;
	}
	int ret = lead ? w->ops->zero(w, off, lead) : 0;
	if (ret == 0 && n > lead + tail)
		ret = w->ops->write(w, off + lead, buf + lead, n - lead - tail);
	if (ret == 0 && tail)
		ret = w->ops->zero(w, off + n - tail, tail);
	return ret < 0 ? fail(c, COPY_WRITE, ret) : 0;
}

static int put(struct copy *c, uint64_t off, const uint8_t *buf, uint64_t len)
{
	uint64_t unit = c->o->zero_unit;
	struct image_writer *w = c->out;
	while (len > 0) {
		uint64_t n = len;
		bool zero = false;
		if (unit) {
			uint64_t m = piece(off, len, unit);
			zero = zero_piece(off, buf, m, unit);
			for (n = m; n < len; n += m) {
				m = piece(off + n, len - n, unit);
				if (zero_piece(off + n, buf + n, m, unit) != zero)
					break;
			}
		}
		int ret = zero ? w->ops->zero(w, off, n) : put_data(c, off, buf, n);
		if (ret < 0)
			return zero ? fail(c, COPY_WRITE, ret) : ret;
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* A hole, for a writer that must allocate every byte (convert -S 0):
 * written as zeros, as qemu writes them. */
static int write_zeros(struct copy *c, uint64_t out_off, uint64_t len)
{
	int ret = take_buffer(c);
	if (ret < 0)
		return ret;
	memset(c->buf, 0, len < c->buf_len ? len : c->buf_len);
	while (len > 0) {
		uint64_t chunk = len < c->buf_len ? len : c->buf_len;
		ret = c->out->ops->write(c->out, out_off, c->buf, chunk);
		if (ret < 0)
			return fail(c, COPY_WRITE, ret);
		out_off += chunk;
		len -= chunk;
	}
	return 0;
}

static int through_buffer(struct copy *c, struct image *owner, const struct extent *ext,
			  uint64_t pos, uint64_t out_off, uint64_t len)
{
	struct extent run = *ext;
	while (len > 0) {
		uint64_t chunk = len < c->buf_len ? len : c->buf_len;
		c->at = pos;
		int ret = take_buffer(c);
		if (ret < 0)
			return ret;
		ret = image_read_run(owner, &run, pos, c->buf, chunk);
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
 * A hole shorter than min_hole ends the stretch: the detection, at units,
 * would not find it whole, and a hole of the source stays a hole.
 */
static uint64_t same_raw_file(struct copy *c, const struct image *owner, uint64_t pos,
			      uint64_t n, uint64_t cap, uint64_t min_hole)
{
	if (owner->ops != &format_raw)
		return n;
	while (n < cap) {
		struct extent next;
		struct image *next_owner;
		int64_t m = image_map(c->in, pos + n, cap - n, &next, &next_owner);
		if (m <= 0 || next_owner != owner ||
		    (next.kind != EXT_RAW && next.kind != EXT_ZERO) ||
		    (next.kind == EXT_ZERO && (uint64_t)m < min_hole && n + (uint64_t)m < cap))
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
 * one per run.  The first run, of n bytes (< buf_len), is at pos;
 * *done is what was put.
 */
static int gather_other(struct copy *c, struct image *owner, uint64_t pos, uint64_t out_off,
			uint64_t n, uint64_t len, uint64_t *done)
{
	c->at = pos;
	int ret = take_buffer(c);
	if (ret < 0)
		return ret;
	uint64_t cap = len < c->buf_len ? len : c->buf_len, filled = 0;
	struct extent ext = { .kind = EXT_OTHER };
	while (filled < cap) {
		c->at = pos + filled;
		ret = owner->ops->read(owner, pos + filled, c->buf + filled, n);
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
	c->at = pos;
	return put(c, out_off, c->buf, filled);
}

static int step(struct copy *c, uint64_t pos, uint64_t out_off, uint64_t len,
		uint64_t *done)
{
	struct extent ext;
	struct image *owner;
	c->at = pos;
	int64_t n = image_map(c->in, pos, len, &ext, &owner);
	if (n < 0)
		return fail(c, COPY_MAP, (int)n);
	*done = (uint64_t)n;
	struct image_writer *w = c->out;
	int ret;
	if (c->o->base_depth && owner->depth >= c->o->base_depth)
		return 0; /* the output's backing file has it */
	if (ext.kind == EXT_ZERO && !w->sparse) {
		return write_zeros(c, out_off, (uint64_t)n);
	} else if (ext.kind == EXT_ZERO) {
		ret = w->ops->zero(w, out_off, (uint64_t)n);
	} else if (ext.kind == EXT_RAW && w->ops->copy && c->o->host_copy) {
		if (w->copy_skips_holes)
			*done = same_raw_file(c, owner, pos, (uint64_t)n, len, 0);
		if (*done == (uint64_t)n && owner->ops != &format_raw)
			*done = same_stretch(c, owner, &ext, pos, (uint64_t)n, len);
		ret = w->ops->copy(w, ext.dev, ext.dev_off, out_off, *done,
				   w->copy_skips_holes && owner->ops == &format_raw &&
				   *done > (uint64_t)n);
	} else if (ext.kind == EXT_OTHER && (uint64_t)n < c->buf_len) {
		return gather_other(c, owner, pos, out_off, (uint64_t)n, len, done);
	} else {
		uint64_t cap = len < c->buf_len ? len : c->buf_len;
		if (ext.kind == EXT_RAW && c->o->zero_unit)
			*done = same_raw_file(c, owner, pos, (uint64_t)n, cap,
					      2 * c->o->zero_unit);
		if (ext.kind == EXT_RAW && owner->ops != &format_raw)
			*done = same_stretch(c, owner, &ext, pos, (uint64_t)n, cap);
		return through_buffer(c, owner, &ext, pos, out_off, *done);
	}
	return ret < 0 ? fail(c, COPY_WRITE, ret) : 0;
}

int copy_range(struct core_ctx *ctx, struct image *in, uint64_t in_off, uint64_t len,
	       struct image_writer *out, uint64_t out_off, const struct copy_opts *o,
	       struct copy_failure *failed)
{
	struct copy c = { .ctx = ctx, .in = in, .out = out, .o = o, .failed = failed,
			  .buf_len = len < COPY_BUF_LEN ? (len + 4095) & ~(uint64_t)4095
							: COPY_BUF_LEN };
	uint64_t done = 0, step_max = o->step_max ? o->step_max : COPY_STEP_MAX;
	int ret = 0;
	while (done < len && ret == 0) {
		uint64_t n = 0, want = len - done;
		ret = step(&c, in_off + done, out_off + done,
			   want < step_max ? want : step_max, &n);
		done += n;
		if (ret == 0 && o->progress)
			o->progress(o->progress_ctx, done);
	}
	/* Nothing is left behind: the caller's next step may be the output's
	 * metadata, or the end of the run. */
	int settled = io_behind_close(ctx);
	if (ret == 0 && settled < 0)
		ret = fail(&c, COPY_WRITE, settled);
	core_free(ctx, c.bufs);
	return ret;
}
