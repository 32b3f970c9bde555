/*
 * dd through a pipe: standard input read, or standard output written, in
 * order (Proxmox VE's qemu-img dd, docs/dd.md).  Proxmox's loop goes block
 * by block over the window: it reads a block (from standard input as it
 * comes: skip only moves where the loop starts, no input is passed over),
 * then writes what it read.  At end of input before the window's end it
 * fails with "Input ended unexpectedly", unless isize=0 said that the
 * input may end early.  Blocks are gathered in one buffer here, so a small
 * bs does not make a hostcall per block; a block that would fail (past
 * the input's end or the output's) fails before anything of it is
 * written, as qemu's block I/O fails it whole.
 */
#include "dd.h"

#include "dd_window.h"
#include "format.h"
#include "io.h"

#define STREAM_BUF (1u << 20)
_Static_assert(STREAM_BUF <= HC_MAX_IO_LEN, "a piece of the buffer is one read");

struct stream {
	struct core_ctx *ctx;
	struct image *in;         /* NULL: standard input */
	uint32_t in_dev;
	uint64_t in_pos;          /* standard input: bytes read so far */
	struct image_writer *out; /* NULL: standard output */
	uint32_t out_dev;
	uint64_t out_cap;         /* an image's size: no byte at or past it */
	uint64_t out_pos;         /* where buf goes in the output */
	uint8_t *buf;
	uint64_t fill;
};

static int write_failed(struct stream *s, int err)
{
	return core_fail(s->ctx, err, "error while writing to output image file: %s",
			 cd_strerror(err));
}

static int read_failed(struct stream *s, int err)
{
	return core_fail(s->ctx, err, "error while reading from input image file: %s",
			 cd_strerror(err));
}

static int flush(struct stream *s)
{
	if (s->fill == 0)
		return 0;
	int ret = s->out ? s->out->ops->write(s->out, s->out_pos, s->buf, s->fill)
			 : io_write(s->ctx, s->out_dev, s->out_pos, s->buf, s->fill);
	if (ret < 0)
		return write_failed(s, ret);
	s->out_pos += s->fill;
	s->fill = 0;
	return 0;
}

/* Room for n more bytes of the block being read: 0, or -errno recorded.
 * An image output's end is checked first, as the block is written whole. */
static int make_room(struct stream *s, uint64_t n)
{
	if (s->out && s->out_pos + s->fill + n > s->out_cap)
		return write_failed(s, -CD_EIO);
	return s->fill + n > STREAM_BUF ? flush(s) : 0;
}

/* Up to want (<= STREAM_BUF) bytes of standard input into buf: *got,
 * fewer only at its end. */
static int read_stdin(struct stream *s, uint64_t want, uint64_t *got)
{
	const struct hostcalls *hc = s->ctx->env->hc;
	int64_t r = hc->read(hc->ctx, s->in_dev, s->in_pos, s->buf + s->fill, want);
	if (r < 0) {
		/* What was read before is written, as Proxmox writes each
		 * block before it reads the next. */
		int ret = flush(s);
		return ret < 0 ? ret : read_failed(s, (int)r);
	}
	if ((uint64_t)r > want)
		return read_failed(s, -CD_EIO);
	s->in_pos += (uint64_t)r;
	s->fill += (uint64_t)r;
	*got = (uint64_t)r;
	return 0;
}

/* One block of `bytes` at pos: *read_bytes is what the block held (fewer
 * than bytes only where standard input ended). */
static int one_block(struct stream *s, uint64_t pos, uint64_t bytes, uint64_t *read_bytes)
{
	uint64_t done = 0;
	if (s->in && (pos > s->in->size || bytes > s->in->size - pos)) {
		int ret = flush(s); /* the blocks before it are written */
		return ret < 0 ? ret : read_failed(s, -CD_EIO);
	}
	while (done < bytes) {
		uint64_t piece = bytes - done < STREAM_BUF ? bytes - done : STREAM_BUF;
		int ret = make_room(s, piece);
		if (ret < 0)
			return ret;
		if (s->in) {
			ret = image_read(s->in, pos + done, s->buf + s->fill, piece);
			if (ret < 0)
				return read_failed(s, ret);
			s->fill += piece;
			done += piece;
			continue;
		}
		uint64_t got = 0;
		ret = read_stdin(s, piece, &got);
		if (ret < 0)
			return ret;
		done += got;
		if (got < piece)
			break; /* the input ended */
	}
	*read_bytes = done;
	return 0;
}

int dd_stream_copy(struct core_ctx *ctx, const struct cordon_dd_job *dd, struct image *in,
		   struct image_writer *out, const struct dd_window *w, uint64_t out_cap)
{
	struct stream s = {
		.ctx = ctx, .in = in, .in_dev = dd->in, .out = out, .out_dev = dd->out,
		.out_cap = out ? out_cap : UINT64_MAX,
		.buf = core_alloc(ctx, STREAM_BUF, 64),
	};
	if (!s.buf)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	bool may_end = (dd->flags & DD_HAVE_ISIZE) && dd->isize == 0;
	int ret = 0;
	for (uint64_t pos = w->start; pos < w->end && ret == 0;) {
		uint64_t bytes = w->end - pos < dd->bs ? w->end - pos : dd->bs;
		uint64_t got = 0;
		ret = one_block(&s, pos, bytes, &got);
		if (ret == 0 && got == 0 && !in) {
			if (may_end)
				break;
			ret = flush(&s);
			if (ret == 0)
				ret = core_fail(ctx, -CD_EIO, "Input ended unexpectedly");
		}
		pos += bytes;
	}
	if (ret == 0)
		ret = flush(&s);
	if (ret == 0 && out && (ret = out->ops->finish(out)) < 0)
		write_failed(&s, ret);
	core_free(ctx, s.buf);
	return ret;
}
