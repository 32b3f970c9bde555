/*
 * cordon dd.  The order of steps and their messages follow qemu-img dd:
 * open the input, check the output format, create the output, warn about a
 * skip past the end, then copy.  Unlike qemu-img, data moves in large
 * extents whatever bs is (copy.c): bs only shapes the window.
 */
#include "dd.h"

#include "copy.h"
#include "dd_window.h"
#include "format.h"
#include "io.h"
#include "overflow.h"

int dd_check(const struct cordon_job *job)
{
	const struct cordon_dd_job *dd = &job->cmd.dd;
	if (dd->in >= job->n_dev || dd->out >= job->n_dev || dd->in == dd->out ||
	    !(job->dev[dd->in].roles & CORDON_DEV_READ))
		return -CD_EINVAL;
	/* An output to create, or standard output (a stream). */
	uint32_t out = job->dev[dd->out].roles & (CORDON_DEV_CREATE | CORDON_DEV_WRITE |
						  CORDON_DEV_STREAM);
	if (out != (CORDON_DEV_CREATE | CORDON_DEV_WRITE) &&
	    out != (CORDON_DEV_STREAM | CORDON_DEV_WRITE))
		return -CD_EINVAL;
	/* Standard input needs a size from the operands (the cli's check). */
	if ((job->dev[dd->in].roles & CORDON_DEV_STREAM) &&
	    !(dd->flags & (DD_HAVE_OSIZE | DD_HAVE_COUNT)))
		return -CD_EINVAL;
	if (dd->bs < 1 || dd->bs > DD_MAX_BS || dd->count > DD_MAX_COUNT ||
	    dd->skip > DD_MAX_COUNT || dd->osize > DD_MAX_COUNT || dd->isize > DD_MAX_COUNT ||
	    (dd->flags & ~DD_FLAGS))
		return -CD_EINVAL;
	return 0;
}

/* qemu-img dd's words for each refusal of -O. */
static int output_refused(struct core_ctx *ctx, enum writer_refusal why, const char *fmt)
{
	if (why == WRITER_UNKNOWN)
		return core_fail(ctx, -CD_EINVAL, "Unknown file format");
	if (why == WRITER_NO_CREATE)
		return core_fail(ctx, -CD_EINVAL, "Format driver '%s' does not support "
				 "image creation", fmt);
	return core_fail(ctx, -CD_ENOTSUP, "cordon cannot write %s images yet", fmt);
}

static int create_output(struct core_ctx *ctx, const struct cordon_job *job,
			 const char *out_name, uint64_t size, struct image_writer *w)
{
	const struct cordon_dd_job *dd = &job->cmd.dd;
	const char *fmt = job->dev[dd->out].fmt;
	bool zeroed = (job->dev[dd->out].roles & CORDON_DEV_ZEROED) != 0;
	bool existing = (dd->flags & DD_SKIP_CREATE) != 0;
	/* cordon dd leaves zero runs out where the format can (docs/dd.md);
	 * into an existing image (-n) they are written. */
	struct writer_opts opts = { .size = size, .zeroed = zeroed, .min_sparse = 512,
				    .open_existing = existing,
				    .now = job->now, .entropy = job->entropy };
	enum writer_refusal why = writer_refusal(fmt);
	if (why != WRITER_OK)
		return output_refused(ctx, why, fmt);
	int ret = writer_open(ctx, fmt, dd->out, &opts, w);
	/* Proxmox's -n opens the target as qemu-img opens an image. */
	if (ret < 0 && (w->fails_at_reopen || existing))
		return core_prefix(ctx, ret, "Could not open '%s': ", out_name);
	if (ret == -CD_ENOSPC && !zeroed)
		core_fail(ctx, ret, "Cannot grow device files");
	else if (ret < 0)
		core_fail(ctx, ret, "Could not create '%s': %s", out_name, cd_strerror(ret));
	if (ret < 0)
		return core_prefix(ctx, ret, "%s: error while creating output image: ",
				   out_name);
	return 0;
}

static int copy_window(struct core_ctx *ctx, const struct cordon_job *job,
		       struct image *in, struct image_writer *out, const struct dd_window *win)
{
	struct copy_opts o = {
		.host_copy = !(job->flags & CORDON_JOB_NO_HOST_COPY),
		.zero_unit = out->zero_unit,
	};
	struct copy_failure failed = { 0 };
	int ret = copy_range(ctx, in, win->start, win->end - win->start, out, 0, &o, &failed);
	if (ret < 0)
		return core_fail(ctx, ret, "error while %s image file: %s",
				 failed.side == COPY_WRITE ? "writing to output"
							   : "reading from input",
				 cd_strerror(ret));
	ret = out->ops->finish(out);
	if (ret < 0)
		return core_fail(ctx, ret, "error while writing to output image file: %s",
				 cd_strerror(ret));
	return 0;
}

/* Standard input has no size: Proxmox takes osize, else count blocks
 * (cordon saturates where Proxmox's product wraps). */
static uint64_t stdin_size(const struct cordon_dd_job *dd)
{
	if (dd->flags & DD_HAVE_OSIZE)
		return dd->osize;
	uint64_t product;
	return MUL_OVERFLOW(dd->count, dd->bs, &product) || product > DD_MAX_COUNT
		       ? DD_MAX_COUNT
		       : product;
}


/* Both ends files: the window's blocks that would fail, then the copy. */
static int copy_files(struct core_ctx *ctx, const struct cordon_job *job, struct image *in,
		      struct image_writer *out, const struct dd_window *w, uint64_t out_cap)
{
	/* With osize or isize a block may reach past the input or the output,
	 * where qemu-img's loop fails (EIO) after the blocks before it: the
	 * run fails before copying, as nothing of a failed run is kept. */
	switch (dd_window_failure(w, job->cmd.dd.bs, in->size, out_cap)) {
	case DD_FAIL_READ:
		return core_fail(ctx, -CD_EIO, "error while reading from input image file: %s",
				 cd_strerror(CD_EIO));
	case DD_FAIL_WRITE:
		return core_fail(ctx, -CD_EIO, "error while writing to output image file: %s",
				 cd_strerror(CD_EIO));
	case DD_FAIL_NONE:
		break;
	}
	return copy_window(ctx, job, in, out, w);
}

int dd_run(struct core_ctx *ctx, const struct cordon_job *job)
{
	const struct cordon_dd_job *dd = &job->cmd.dd;
	bool in_stream = (job->dev[dd->in].roles & CORDON_DEV_STREAM) != 0;
	bool out_stream = (job->dev[dd->out].roles & CORDON_DEV_STREAM) != 0;
	struct dd_params params;
	dd_params_of_job(dd, &params);
	char *in_name = io_dev_name(ctx, dd->in), *out_name = io_dev_name(ctx, dd->out);
	struct image in = { 0 };
	struct image_writer out;
	struct dd_window w;
	int ret = in_name && out_name ? 0 : core_fail(ctx, -CD_ENOMEM, "%s",
						      cd_strerror(CD_ENOMEM));
	if (ret < 0)
		goto out_names;
	if (in_stream) {
		/* Read as raw as it comes; Proxmox ignores -l here. */
		in.size = stdin_size(dd);
	} else {
		ret = image_open(ctx, dd->in, job->dev[dd->in].fmt, in_name, &in);
		if (ret < 0)
			goto out_names;
		/* Proxmox's -l: loaded once the input is open. */
		ret = image_load_snapshot(&in, &job->snapshot);
		if (ret < 0)
			goto out_in;
	}
	ret = dd_window_compute(in.size, &params, &w);
	if (ret < 0) {
		core_fail(ctx, ret, "Failed to get size for '%s'", in_name);
		goto out_in;
	}
	uint64_t out_cap = w.out_size;
	if (!out_stream) {
		/* -n: the target keeps its size, which the copy must fit in
		 * (qemu's BlockBackend length: whole sectors). */
		bool existing = (dd->flags & DD_SKIP_CREATE) != 0;
		ret = create_output(ctx, job, out_name, existing ? w.end - w.start : w.out_size,
				    &out);
		if (ret < 0)
			goto out_in;
		if (existing && (ret = io_size_in_sectors(ctx, dd->out, &out_cap)) < 0) {
			core_fail(ctx, ret, "error while writing to output image file: %s",
				  cd_strerror(ret));
			out.ops->abort(&out);
			goto out_in;
		}
	}
	if (w.skip_past_end)
		core_say(ctx, HC_LEVEL_ERROR, "%s: cannot skip to specified offset", in_name);
	if (in_stream || out_stream)
		ret = dd_stream_copy(ctx, dd, in_stream ? NULL : &in, out_stream ? NULL : &out, &w,
				     out_cap);
	else
		ret = copy_files(ctx, job, &in, &out, &w, out_cap);
	if (ret < 0 && !out_stream)
		out.ops->abort(&out);
out_in:
	if (!in_stream)
		image_close(&in);
out_names:
	core_free(ctx, in_name);
	core_free(ctx, out_name);
	return ret;
}
