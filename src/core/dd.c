/*
 * cordon dd.  The order of steps and their messages follow qemu-img dd:
 * open the input, check the output format, create the output, warn about a
 * skip past the end, then copy.  Unlike qemu-img, data moves in large
 * extents whatever bs is: bs only shapes the window.
 */
#include "dd.h"

#include "dd_window.h"
#include "format.h"

/* One map/copy step; large so that hostcalls stay rare. */
#define DD_STEP_MAX (1ull << 30)
/* Bounce buffer for runs that must pass through core. */
#define DD_BUF_LEN (4u << 20)

struct dd_state {
	struct core_ctx *ctx;
	const struct cordon_job *job;
	struct image in;
	struct image_writer out;
	uint8_t *buf;
};

static int dd_through_buffer(struct dd_state *st, uint64_t pos, uint64_t out_off,
			     uint64_t len)
{
	if (!st->buf) {
		st->buf = core_alloc(st->ctx, DD_BUF_LEN, 4096);
		if (!st->buf)
			return core_fail(st->ctx, -CD_ENOMEM,
					 "error while reading from input image file: %s",
					 cd_strerror(CD_ENOMEM));
	}
	while (len > 0) {
		uint64_t chunk = len < DD_BUF_LEN ? len : DD_BUF_LEN;
		int ret = image_read(&st->in, pos, st->buf, chunk);
		if (ret < 0)
			return core_fail(st->ctx, ret,
					 "error while reading from input image file: %s",
					 cd_strerror(ret));
		ret = st->out.ops->write(&st->out, out_off, st->buf, chunk);
		if (ret < 0)
			return core_fail(st->ctx, ret,
					 "error while writing to output image file: %s",
					 cd_strerror(ret));
		pos += chunk;
		out_off += chunk;
		len -= chunk;
	}
	return 0;
}

static int dd_step(struct dd_state *st, uint64_t pos, uint64_t out_off,
		   uint64_t len, uint64_t *done)
{
	struct extent ext;
	struct image *owner;
	int64_t n = image_map(&st->in, pos, len, &ext, &owner);
	if (n < 0)
		return core_fail(st->ctx, (int)n,
				 "error while reading from input image file: %s",
				 cd_strerror((int)n));
	*done = (uint64_t)n;

	int ret;
	if (ext.kind == EXT_ZERO)
		ret = st->out.ops->zero(&st->out, out_off, (uint64_t)n);
	else if (ext.kind == EXT_RAW && st->out.ops->copy &&
		 !(st->job->dd_flags & DD_NO_HOST_COPY))
		ret = st->out.ops->copy(&st->out, ext.dev, ext.dev_off, out_off,
					(uint64_t)n);
	else
		return dd_through_buffer(st, pos, out_off, (uint64_t)n);
	if (ret < 0)
		return core_fail(st->ctx, ret,
				 "error while writing to output image file: %s",
				 cd_strerror(ret));
	return 0;
}

static int dd_create_output(struct dd_state *st, uint64_t size)
{
	const struct cordon_job *job = st->job;
	const struct format_ops *fmt = format_by_name(job->out_fmt);
	if (!fmt)
		return core_fail(st->ctx, -CD_EINVAL, "Unknown file format");

	st->out = (struct image_writer){
		.ops = fmt->writer,
		.ctx = st->ctx,
		.dev = CORDON_DEV_OUTPUT,
		.size = size,
		.zeroed = job->out_zeroed != 0,
	};
	int ret = st->out.ops->create(&st->out);
	if (ret == -CD_ENOSPC && !job->out_zeroed)
		core_fail(st->ctx, ret, "Cannot grow device files");
	else if (ret < 0)
		core_fail(st->ctx, ret, "Could not create '%s': %s", job->out_name,
			  cd_strerror(ret));
	if (ret < 0)
		return core_prefix(st->ctx, ret, "%s: error while creating output image: ",
				   job->out_name);
	return 0;
}

static int dd_copy(struct dd_state *st, const struct dd_window *w)
{
	uint64_t pos = w->start, out_off = 0;
	while (pos < w->end) {
		uint64_t len = w->end - pos, done = 0;
		if (len > DD_STEP_MAX)
			len = DD_STEP_MAX;
		int ret = dd_step(st, pos, out_off, len, &done);
		if (ret < 0)
			return ret;
		pos += done;
		out_off += done;
	}
	return 0;
}

int dd_run(struct core_ctx *ctx, const struct cordon_job *job)
{
	struct dd_state st = { .ctx = ctx, .job = job };
	struct dd_params params = {
		.bs = job->bs,
		.count = job->count,
		.skip = job->skip,
		.have_count = (job->dd_flags & DD_HAVE_COUNT) != 0,
		.have_skip = (job->dd_flags & DD_HAVE_SKIP) != 0,
	};
	struct dd_window w;

	int ret = image_open(ctx, CORDON_DEV_INPUT, job->in_fmt, job->in_name,
			     &st.in);
	if (ret < 0)
		return ret;
	ret = dd_window_compute(st.in.size, &params, &w);
	if (ret < 0) {
		core_fail(ctx, ret, "Failed to get size for '%s'", job->in_name);
		goto out_in;
	}
	ret = dd_create_output(&st, w.out_size);
	if (ret < 0)
		goto out_in;
	if (w.skip_past_end)
		core_say(ctx, HC_LEVEL_ERROR, "%s: cannot skip to specified offset",
			 job->in_name);
	ret = dd_copy(&st, &w);
	if (ret == 0) {
		ret = st.out.ops->finish(&st.out);
		if (ret < 0)
			core_fail(ctx, ret, "error while writing to output image file: %s",
				  cd_strerror(ret));
	}
	core_free(ctx, st.buf);
out_in:
	image_close(&st.in);
	return ret;
}
