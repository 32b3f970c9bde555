/*
 * `cordon dd`: qemu-img dd's command line turned into a job, the files
 * opened by the host, the job run in a sandbox, the output committed only
 * on success.  Everything that reads image bytes happens in the sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../abi/job.h"
#include "../core/dd_window.h"
#include "../core/format.h"
#include "../host/backing_policy.h"
#include "../host/devices.h"
#include "../host/host_signals.h"
#include "../host/image_lock.h"
#include "../host/sandbox.h"
#include "cmd.h"
#include "dd_args.h"
#include "../host/report.h"
#include "sandbox_opts.h"

void cmd_dd_usage(FILE *f)
{
	fputs("usage: cordon dd [-U] [-f fmt] [-O output_fmt] [bs=block_size]\n"
	      "                 [count=blocks] [skip=blocks] if=input of=output\n"
	      "\n"
	      "Copies the virtual disk of 'input' (from block 'skip', at most\n"
	      "'count' blocks of 'bs' bytes) into a new 'output' image, as\n"
	      "qemu-img dd does.  The input is parsed only inside a sandbox.\n"
	      "\n"
	      "  -f fmt               input format (default: probed)\n"
	      "  -O output_fmt        output format (default: raw)\n"
	      "  -U, --force-share    open the input in shared mode (QEMU's locks)\n"
	      "  bs=SIZE              block size, 1 to 2147483647 (default 512)\n"
	      "  count=N              copy at most N blocks\n"
	      "  skip=N               skip N blocks of the input\n"
	      "Sizes and counts take k, M, G, T, P or E suffixes.\n"
	      "\n"
	      "Sandbox (defaults from CORDON_SANDBOX, CORDON_SANDBOX_MEMORY and\n"
	      "CORDON_SANDBOX_TIMEOUT):\n"
	      "  --sandbox=auto|kvm|process  auto: KVM when usable, else process\n"
	      "  --sandbox-memory=SIZE       sandbox memory, 4M to 4G (default 64M)\n"
	      "  --sandbox-timeout=SECONDS   wall-clock limit (default 3600)\n"
	      "\n"
	      "Backing files named inside images are opened only from the image's\n"
	      "own directory (not below it, no hidden files) unless allowed here\n"
	      "(default from CORDON_BACKING_ALLOW: none, or DIR:DIR...):\n"
	      "  --backing-allow=DIR         also allow files under DIR (repeatable)\n"
	      "  --backing-allow=none        refuse every backing file\n", f);
}

/* Fixed-size copy for the job; false when it does not fit. */
static bool copy_name(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/*
 * qemu-img looks the -f driver up before it opens the file, so "Unknown
 * driver" comes before "No such file".  That order is kept by checking the
 * name here, before the host opens anything; core checks it again.  A name
 * too long for the job is no known format either, and the message shows
 * it in full.
 */
static int check_in_fmt(const struct dd_args *a, struct cordon_job *job)
{
	if (!a->in_fmt)
		return 0;
	if (!copy_name(job->in_fmt, sizeof(job->in_fmt), a->in_fmt) ||
	    !format_by_name(a->in_fmt)) {
		report_error("Could not open '%s': Unknown driver '%s'", a->in,
			     a->in_fmt);
		return -1;
	}
	return 0;
}

/*
 * -O is checked by core after the input is open (qemu-img's order) and
 * qemu-img's message, "Unknown file format", does not name it.  An
 * over-long name is cut to fit: no format name is that long, so the cut
 * name is still unknown and core reports it the same way.
 */
static void set_out_fmt(const struct dd_args *a, struct cordon_job *job)
{
	const char *fmt = a->out_fmt ? a->out_fmt : "raw";

	snprintf(job->out_fmt, sizeof(job->out_fmt), "%s", fmt);
}

static void job_init(const struct dd_args *a, struct cordon_job *job)
{
	memset(job, 0, sizeof(*job));
	job->magic = CORDON_JOB_MAGIC;
	job->version = CORDON_JOB_VERSION;
	job->command = CORDON_CMD_DD;
	job->dd_flags = a->flags;
	const char *host_copy = getenv("CORDON_HOST_COPY");
	if (host_copy && strcmp(host_copy, "0") == 0)
		job->dd_flags |= DD_NO_HOST_COPY;
	job->bs = a->bs;
	job->count = a->count;
	job->skip = a->skip;
	set_out_fmt(a, job);
}

/*
 * Names longer than the job holds are also longer than PATH_MAX, so the
 * host's open() of the input has already failed with qemu-img's message;
 * the output's is given here, in the words qemu-img uses when it cannot
 * create it.  (qemu-img says so only after it has checked the input's
 * format and -O: with those also wrong, the order differs; documented.)
 */
static int set_names(const struct dd_args *a, struct cordon_job *job)
{
	if (!copy_name(job->in_name, sizeof(job->in_name), a->in)) {
		report_error("Could not open '%s': File name too long", a->in);
		return -1;
	}
	if (!copy_name(job->out_name, sizeof(job->out_name), a->out)) {
		report_error("%s: error while creating output image: Could not "
			     "create '%s': File name too long", a->out, a->out);
		return -1;
	}
	return 0;
}

/* The largest output the operands allow, whatever the input: count
 * bounds the window, skip shortens it.  The host holds the sandbox to it. */
static uint64_t window_bound(const struct cordon_job *job)
{
	struct dd_params p = {
		.bs = job->bs, .count = job->count, .skip = job->skip,
		.have_count = (job->dd_flags & DD_HAVE_COUNT) != 0,
		.have_skip = (job->dd_flags & DD_HAVE_SKIP) != 0,
	};
	struct dd_window w;
	return dd_window_compute(DD_MAX_COUNT, &p, &w) == 0 ? w.out_size : 0;
}

/* Host side of the run: open, sandbox, commit or roll back. */
static int dd_execute(const struct dd_args *a, const struct sandbox_config *cfg,
		      struct cordon_job *job)
{
	struct host_devices devs;
	int status = 1;

	host_signals_install();
	sandbox_prewarm(cfg->kind); /* the VM is made while the files are opened */
	devices_init(&devs);
	if (devices_open_input(&devs, a->in) < 0)
		goto out;
	/* QEMU's image locks (image_lock.h): refused here, before anything
	 * else, when a running QEMU does not share reading the input. */
	char why[IMAGE_LOCK_WHY_MAX];
	if (image_lock_input(devs.dev[CORDON_DEV_INPUT].fd, a->in, why,
			     sizeof(why)) < 0) {
		report_error("Could not open '%s': %s", a->in, why);
		goto out;
	}
	devs.force_share = a->force_share;
	devs.backing_none = a->backing_none;
	for (unsigned i = 0; i < a->n_backing_allow; i++)
		if (backing_allow_dir(&devs, a->backing_allow[i]) < 0)
			goto out;
	if (set_names(a, job) < 0 ||
	    output_prepare(&devs, a->out, job->out_fmt, window_bound(job)) < 0)
		goto out;
	job->out_zeroed = devs.out.kind == OUTPUT_REPLACE;
	status = sandbox_run(cfg->kind, &cfg->limits, job, &devs);
	if (status == 0 && output_commit(&devs.out) < 0)
		status = 1;
out:
	devices_close(&devs); /* removes the temporary output if still there */
	return status;
}

/* Everything after parsing; the status. */
static int dd_run_args(const struct dd_args *a)
{
	struct sandbox_config cfg;
	struct cordon_job job;

	if (!a->in || !a->out) {
		report_error("Must specify both input and output files");
		return 1;
	}
	if (sandbox_config_resolve(a->sandbox, a->sandbox_memory,
				   a->sandbox_timeout, &cfg) < 0)
		return 1;
	job_init(a, &job);
	if (check_in_fmt(a, &job) < 0)
		return 1;
	return dd_execute(a, &cfg, &job);
}

int cmd_dd(int argc, char **argv)
{
	struct dd_args a;
	int status;

	switch (dd_args_parse(argc, argv, &a)) {
	case DD_ARGS_HELP:
		status = 0;
		break;
	case DD_ARGS_ERROR:
		status = 1;
		break;
	default:
		status = dd_run_args(&a);
		break;
	}
	free(a.backing_env);
	return status;
}
