/*
 * cordon convert.  The order of steps and their messages follow qemu-img
 * convert (qemu-img.c, img_convert and convert_do_copy): open every input,
 * check the output format, create the output with the inputs' total size,
 * then copy the inputs one after another, leaving out zeros where -S allows.
 * Data moves through the copy engine (copy.c) as dd's does.
 */
#include "convert.h"

#include "copy.h"
#include "format.h"
#include "io.h"

#define SECTOR 512u
#define TOTAL_MAX 9223372036854775807ull /* qemu's int64_t total_sectors */
/* qemu-img convert's request size for data (IO_BUF_SIZE): progress is
 * reported at this step, as qemu reports it. */
#define CONVERT_CHUNK (2u << 20)
/* Files a progress count looks into at once (an image and its extents). */
#define CONVERT_VIEWS 8

int convert_check(const struct cordon_job *job)
{
	const struct cordon_convert_job *cv = &job->cmd.convert;
	if (cv->n_in < 1 || cv->n_in >= job->n_dev || (cv->flags & ~CONVERT_FLAGS) ||
	    strnlen(cv->bad_cache, sizeof(cv->bad_cache)) == sizeof(cv->bad_cache))
		return -CD_EINVAL;
	for (uint32_t i = 0; i < cv->n_in; i++)
		if (!(job->dev[i].roles & CORDON_DEV_READ))
			return -CD_EINVAL;
	if ((job->dev[cv->n_in].roles & (CORDON_DEV_CREATE | CORDON_DEV_WRITE)) !=
	    (CORDON_DEV_CREATE | CORDON_DEV_WRITE))
		return -CD_EINVAL;
	if (cv->min_sparse % SECTOR || cv->min_sparse > CONVERT_MAX_SPARSE)
		return -CD_EINVAL;
	return 0;
}

struct convert {
	struct core_ctx *ctx;
	const struct cordon_job *job;
	uint32_t n_in, out_dev;
	struct image *in;       /* n_in images; in[i].ops NULL until opened */
	uint64_t *in_size;      /* each input's size in whole sectors, as qemu's
				 * blk_nb_sectors() gives it */
	uint64_t total;         /* their sum: the output's virtual size */
	char *out_name;
	struct image_writer out;
	/* -p: what qemu counts (allocated_sectors and allocated_done). */
	bool progress;
	uint64_t alloc_total;
	uint64_t counted;       /* reported so far */
	uint32_t cur_in;        /* the input being copied */
	uint64_t cursor;        /* how far into it progress has been reported */
	/* The files data runs lie in, opened as raw, so that their holes count
	 * as qemu's block status counts them (see walk_requests). */
	struct image views[CONVERT_VIEWS];
	uint32_t n_views;
};

static uint64_t round_up_sector(uint64_t n)
{
	return n % SECTOR ? n + (SECTOR - n % SECTOR) : n;
}

/* Every input, in order, as qemu-img opens them before anything else. */
static int open_inputs(struct convert *c)
{
	for (uint32_t i = 0; i < c->n_in; i++) {
		char *name = io_dev_name(c->ctx, i);
		if (!name)
			return core_fail(c->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
		int ret = image_open(c->ctx, i, c->job->dev[i].fmt, name, &c->in[i]);
		core_free(c->ctx, name);
		if (ret < 0) {
			c->in[i].ops = NULL;
			return ret;
		}
		uint64_t size = round_up_sector(c->in[i].size);
		if (size < c->in[i].size || size > TOTAL_MAX - c->total)
			return core_fail(c->ctx, -CD_EFBIG, "Could not get size of %s: %s",
					 c->in[i].name, cd_strerror(CD_EFBIG));
		c->in_size[i] = size;
		c->total += size;
	}
	return 0;
}

/* qemu-img convert's words for each refusal of -O. */
static int output_refused(struct core_ctx *ctx, enum writer_refusal why, const char *fmt)
{
	if (why == WRITER_UNKNOWN)
		return core_fail(ctx, -CD_EINVAL, "Unknown file format '%s'", fmt);
	if (why == WRITER_NO_CREATE)
		return core_fail(ctx, -CD_EINVAL, "Format driver '%s' does not support "
				 "image creation", fmt);
	return core_fail(ctx, -CD_ENOTSUP, "cordon cannot write %s images yet", fmt);
}

/* The formats qemu can write compressed data to (block_driver_can_compress). */
static bool qemu_compresses(const char *fmt)
{
	return strcmp(fmt, "qcow2") == 0 || strcmp(fmt, "vmdk") == 0 ||
	       strcmp(fmt, "qcow") == 0;
}

/* -n: the target, whose length qemu sees in whole sectors, must hold the
 * inputs. */
static int check_target_size(struct convert *c)
{
	uint64_t size = 0;
	int ret = io_size_in_sectors(c->ctx, c->out_dev, &size);
	if (ret < 0)
		ret = core_fail(c->ctx, ret, "Could not get size of %s: %s", c->out_name,
				cd_strerror(ret));
	else if (size < c->total)
		ret = core_fail(c->ctx, -CD_EINVAL, "output file is smaller than input file");
	if (ret < 0)
		c->out.ops->abort(&c->out);
	return ret;
}

static int create_output(struct convert *c)
{
	const struct cordon_convert_job *cv = &c->job->cmd.convert;
	const char *fmt = c->job->dev[c->out_dev].fmt;
	bool existing = (cv->flags & CONVERT_SKIP_CREATE) != 0;
	/* --target-is-zero: the user vouches for the zeros of an existing
	 * target, as the host does for a fresh file. */
	bool zeroed = (c->job->dev[c->out_dev].roles & CORDON_DEV_ZEROED) ||
		      (cv->flags & CONVERT_TARGET_ZERO);
	enum writer_refusal why = writer_refusal(fmt);
	if (why == WRITER_UNKNOWN || why == WRITER_NO_CREATE)
		return output_refused(c->ctx, why, fmt);
	if ((cv->flags & CONVERT_COMPRESS) && !qemu_compresses(fmt))
		return core_fail(c->ctx, -CD_ENOTSUP, "Compression not supported for this "
				 "file format");
	if (cv->flags & CONVERT_COMPRESS)
		return core_fail(c->ctx, -CD_ENOTSUP, "cordon cannot write compressed %s "
				 "images yet", fmt);
	if (why != WRITER_OK)
		return output_refused(c->ctx, why, fmt);
	if (!(c->out_name = io_dev_name(c->ctx, c->out_dev)))
		return core_fail(c->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	/* -S 0 asks for every byte written: a writer that is not sparse
	 * allocates zeros too (qemu writes them as data). */
	struct writer_opts opts = { .size = c->total, .zeroed = zeroed,
				    .open_existing = existing, .min_sparse = cv->min_sparse,
				    .now = c->job->now, .entropy = c->job->entropy };
	int ret = writer_open(c->ctx, fmt, c->out_dev, &opts, &c->out);
	/* -n opens the target as qemu-img opens an image. */
	if (ret < 0 && (c->out.fails_at_reopen || existing))
		return core_prefix(c->ctx, ret, "Could not open '%s': ", c->out_name);
	if (ret == 0 && existing && (ret = check_target_size(c)) < 0)
		return ret;
	if (ret < 0)
		return core_prefix(c->ctx, ret, "%s: error while converting %s: ",
				   c->out_name, fmt);
	/* qemu parses -t only when it opens the image it has created. */
	if (cv->flags & CONVERT_BAD_CACHE) {
		c->out.ops->abort(&c->out);
		return core_fail(c->ctx, -CD_EINVAL, "Invalid cache option: %s", cv->bad_cache);
	}
	return 0;
}

/*
 * -p, as qemu-img counts: before copying, the sectors it will write (data,
 * and zeros too with -S 0); while copying, each request as it begins.  Its
 * requests are the runs of the input's map, each ending on a whole sector
 * (the next starts there), taken CONVERT_CHUNK bytes at a time from the
 * run's start.  One walk does both: with report, each request is added to
 * counted and reported; without, to alloc_total.  The copy engine says how
 * far it has come and the walk maps those runs again (cheap: the tables
 * are cached).  -errno when a run cannot be mapped.
 */
/* dev opened as raw (its holes, by the host's extent runs), or NULL. */
static struct image *file_view(struct convert *c, uint32_t dev)
{
	for (uint32_t v = 0; v < c->n_views; v++)
		if (c->views[v].dev == dev)
			return &c->views[v];
	if (c->n_views == CONVERT_VIEWS)
		return NULL;
	struct image at = { .ctx = c->ctx, .dev = dev, .name = "" };
	struct image *view = &c->views[c->n_views];
	if (raw_open_file(&at, view) < 0)
		return NULL;
	c->n_views++;
	return view;
}

/*
 * What qemu's block status says of a run the format stores as it is (its
 * "offset valid" runs): the protocol below is asked too, and a hole in the
 * file makes the start of the run zeros, the run ending where the file's
 * hole or data does.
 */
static int64_t refine_by_file(struct convert *c, const struct image *owner,
			      struct extent *ext, int64_t got)
{
	if (ext->kind != EXT_RAW || owner->ops == &format_raw)
		return got;
	struct image *view = file_view(c, ext->dev);
	struct extent fext;
	int64_t n = view ? view->ops->map(view, ext->dev_off, (uint64_t)got, &fext) : 0;
	if (n <= 0)
		return got; /* qemu ignores the protocol's errors here too */
	if (fext.kind == EXT_ZERO)
		ext->kind = EXT_ZERO;
	return n;
}

/*
 * qemu's vhdx driver has no block status: the generic layer calls all of
 * the disk from the offset asked for data, one run.  Runs of a VHDX image
 * are taken together so.
 */
static int64_t vhdx_as_qemu_sees_it(struct convert *c, uint32_t i, const struct image *owner,
				    struct extent *ext, uint64_t pos, int64_t got)
{
	if (owner->ops != &format_vhdx)
		return got;
	ext->kind = EXT_RAW;
	uint64_t size = c->in[i].size;
	while (pos + (uint64_t)got < size) {
		struct extent next;
		struct image *next_owner;
		int64_t m = image_map(&c->in[i], pos + (uint64_t)got, size - pos - (uint64_t)got,
				      &next, &next_owner);
		if (m <= 0 || next_owner != owner)
			break;
		got += m;
	}
	return got;
}

static int walk_requests(struct convert *c, uint32_t i, uint64_t *pos, uint64_t upto,
			 bool report)
{
	const struct hostcalls *hc = c->ctx->env->hc;
	bool dense = c->job->cmd.convert.min_sparse == 0;
	uint64_t size = c->in[i].size;
	while (*pos < upto && *pos < size) {
		struct extent ext;
		struct image *owner;
		int64_t got = image_map(&c->in[i], *pos, size - *pos, &ext, &owner);
		if (got <= 0)
			return got < 0 ? (int)got : -CD_EIO;
		got = refine_by_file(c, owner, &ext, got);
		got = vhdx_as_qemu_sees_it(c, i, owner, &ext, *pos, got);
		uint64_t n = round_up_sector(*pos + (uint64_t)got) - *pos;
		if (n > c->in_size[i] - *pos)
			n = c->in_size[i] - *pos;
		for (uint64_t done = 0; (dense || ext.kind != EXT_ZERO) && done < n;
		     done += CONVERT_CHUNK) {
			uint64_t req = n - done < CONVERT_CHUNK ? n - done : CONVERT_CHUNK;
			if (!report) {
				c->alloc_total += req;
				continue;
			}
			c->counted += req;
			/* Never past the total, whatever a format does. */
			uint64_t now = c->counted < c->alloc_total ? c->counted : c->alloc_total;
			hc->progress(hc->ctx, now, c->alloc_total);
		}
		*pos += n;
	}
	return 0;
}

/* A run that cannot be mapped fails here, before any data moves, in qemu's
 * words (its counting pass). */
static int count_allocated(struct convert *c)
{
	for (uint32_t i = 0; i < c->n_in; i++) {
		uint64_t pos = 0;
		int ret = walk_requests(c, i, &pos, UINT64_MAX, false);
		if (ret < 0)
			return core_fail(c->ctx, ret, "error while reading block status at "
					 "offset %llu: %s", (unsigned long long)pos,
					 cd_strerror(ret));
	}
	return 0;
}

static void report_progress(void *opaque, uint64_t done)
{
	struct convert *c = opaque;
	/* A map failure here is the copy's to report, on its next step. */
	(void)walk_requests(c, c->cur_in, &c->cursor, done, true);
}

/* The largest power of two not above n (n > 0): qemu-img's alignment for
 * zero detection (pow2floor(min_sparse)). */
static uint64_t pow2floor(uint64_t n)
{
	uint64_t p = 1;
	while (p <= n / 2)
		p *= 2;
	return p;
}

static int copy_inputs(struct convert *c)
{
	const struct cordon_convert_job *cv = &c->job->cmd.convert;
	/* With -S, data is looked at for zeros (qemu reads every data run and
	 * leaves zero stretches out), so it passes through the sandbox; with
	 * -S 0 every byte is written, by host-side copies where they can. */
	bool as_is = cv->min_sparse == 0;
	struct copy_opts o = {
		.host_copy = as_is && !(c->job->flags & CORDON_JOB_NO_HOST_COPY),
		.zero_unit = as_is ? 0 : pow2floor(cv->min_sparse),
		.step_max = c->progress ? CONVERT_CHUNK : 0,
		.progress = c->progress ? report_progress : NULL,
		.progress_ctx = c,
	};
	if (o.zero_unit && o.zero_unit < c->out.zero_unit)
		o.zero_unit = c->out.zero_unit;
	uint64_t out_off = 0;
	for (uint32_t i = 0; i < c->n_in; i++) {
		struct copy_failure failed = { 0 };
		c->cur_in = i;
		c->cursor = 0;
		int ret = copy_range(c->ctx, &c->in[i], 0, c->in[i].size, &c->out, out_off,
				     &o, &failed);
		if (ret < 0 && failed.side == COPY_MAP)
			return core_fail(c->ctx, ret, "error while reading block status at "
					 "offset %llu: %s", (unsigned long long)failed.at,
					 cd_strerror(ret));
		if (ret < 0)
			return core_fail(c->ctx, ret, "error while %s at byte %llu: %s",
					 failed.side == COPY_WRITE ? "writing" : "reading",
					 (unsigned long long)(out_off + failed.at),
					 cd_strerror(ret));
		uint64_t tail = c->in_size[i] - c->in[i].size;
		if (tail && (ret = c->out.ops->zero(&c->out, out_off + c->in[i].size, tail)) < 0)
			return core_fail(c->ctx, ret, "error while writing at byte %llu: %s",
					 (unsigned long long)(out_off + c->in[i].size),
					 cd_strerror(ret));
		out_off += c->in_size[i];
	}
	return 0;
}

/* -l, once every input is open, as qemu-img loads it: into the first. */
static int load_snapshot(struct convert *c)
{
	const struct cordon_job_snapshot *sn = &c->job->snapshot;
	if ((sn->flags & SNAPSHOT_BY_ID_OR_NAME) && c->n_in > 1)
		return core_fail(c->ctx, -CD_EINVAL, "No support for concatenating multiple "
				 "snapshot");
	return image_load_snapshot(&c->in[0], sn);
}

int convert_run(struct core_ctx *ctx, const struct cordon_job *job)
{
	const struct cordon_convert_job *cv = &job->cmd.convert;
	struct convert c = {
		.ctx = ctx, .job = job, .n_in = cv->n_in, .out_dev = cv->n_in,
		.progress = (cv->flags & CONVERT_PROGRESS) != 0,
	};
	c.in = core_alloc(ctx, sizeof(*c.in) * c.n_in, 8);
	c.in_size = core_alloc(ctx, sizeof(*c.in_size) * c.n_in, 8);
	int ret = c.in && c.in_size ? 0 : core_fail(ctx, -CD_ENOMEM, "%s",
						    cd_strerror(CD_ENOMEM));
	for (uint32_t i = 0; c.in && i < c.n_in; i++)
		c.in[i].ops = NULL;
	if (ret == 0)
		ret = open_inputs(&c);
	if (ret == 0)
		ret = load_snapshot(&c);
	if (ret == 0)
		ret = create_output(&c);
	if (ret < 0)
		goto out;
	if (c.progress)
		ret = count_allocated(&c);
	if (ret == 0)
		ret = copy_inputs(&c);
	if (ret == 0 && (ret = c.out.ops->finish(&c.out)) < 0)
		core_fail(ctx, ret, "error while writing to output image file: %s",
			  cd_strerror(ret));
	else if (ret < 0)
		c.out.ops->abort(&c.out);
	if (ret == 0 && c.progress) {
		const struct hostcalls *hc = ctx->env->hc;
		hc->progress(hc->ctx, c.alloc_total, c.alloc_total);
	}
out:
	for (uint32_t i = 0; c.in && i < c.n_in; i++)
		if (c.in[i].ops)
			image_close(&c.in[i]);
	for (uint32_t v = 0; v < c.n_views; v++)
		raw_close_file(&c.views[v]);
	core_free(ctx, c.in);
	core_free(ctx, c.in_size);
	core_free(ctx, c.out_name);
	return ret;
}
