/*
 * `cordon convert`: qemu-img convert's command line turned into a run plan
 * and the convert part of the job; src/host/run.c does the rest (files,
 * sandbox, commit) and src/core/convert.c the conversion itself, inside the
 * sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../abi/job.h"
#include "../host/output_cap.h"
#include "../host/report.h"
#include "../host/run.h"
#include "cmd.h"
#include "convert_args.h"

void cmd_convert_usage(FILE *f)
{
	fputs("usage: cordon convert [-U] [-C] [-c] [-p] [-q] [-W] [-f fmt] [-t cache]\n"
	      "                      [-T src_cache] [-O output_fmt] [-S sparse_size]\n"
	      "                      [-m num_coroutines] filename [filename2 [...]]\n"
	      "                      output_filename\n"
	      "\n"
	      "Converts the disk images 'filename' (several are concatenated) into a\n"
	      "new image 'output_filename', as qemu-img convert does.  The inputs are\n"
	      "parsed only inside a sandbox.\n"
	      "\n"
	      "  -f fmt               input format (default: probed, per input)\n"
	      "  -O output_fmt        output format (default: raw)\n"
	      "  -S SIZE              zero stretches of at least SIZE bytes are left\n"
	      "                       unallocated (default 4k; 0: fully allocate)\n"
	      "  -t cache             output cache mode: unsafe (default: no flush),\n"
	      "                       writeback, writethrough, directsync, none\n"
	      "  -T src_cache         input cache mode (checked; reads are cached)\n"
	      "  -C                   accepted; zeros are still left out\n"
	      "  -p                   show progress          -q  quiet\n"
	      "  -m N, -W             accepted as qemu-img does; cordon copies in order\n"
	      "Not yet: -c, -o, -B/-F, -n, -l, -r, --salvage, --bitmaps,\n"
	      "--target-is-zero, --image-opts (refused with a message).\n", f);
	common_opts_usage(f);
}

static int check_out_name(const struct convert_args *a)
{
	if (strlen(a->out) < HC_MAX_NAME_LEN)
		return 0;
	report_error("%s: error while converting %s: Could not create '%s': "
		     "File name too long", a->out, a->out_fmt, a->out);
	return -1;
}

static void job_init(const struct convert_args *a, struct cordon_job *job)
{
	memset(job, 0, sizeof(*job));
	job->magic = CORDON_JOB_MAGIC;
	job->version = CORDON_JOB_VERSION;
	job->command = CORDON_CMD_CONVERT;
	const char *host_copy = getenv("CORDON_HOST_COPY");
	if (host_copy && strcmp(host_copy, "0") == 0)
		job->flags |= CORDON_JOB_NO_HOST_COPY;
	struct cordon_convert_job *cv = &job->cmd.convert;
	cv->n_in = a->n_in;
	cv->min_sparse = a->min_sparse;
	/* -C (copy offloading) changes nothing: qemu falls back to reading
	 * and zero detection wherever a driver cannot offload, and cordon
	 * always detects zeros, so its output is never denser. */
	cv->flags = (a->progress ? CONVERT_PROGRESS : 0) | (a->compress ? CONVERT_COMPRESS : 0) |
		    (a->skip_create ? CONVERT_SKIP_CREATE : 0) |
		    (a->target_is_zero ? CONVERT_TARGET_ZERO : 0);
	job->snapshot = *snapshot_opt_chosen(&a->snapshot);
	if (a->out_cache == CACHE_INVALID) {
		cv->flags |= CONVERT_BAD_CACHE;
		snprintf(cv->bad_cache, sizeof(cv->bad_cache), "%s", a->cache);
	}
}

static int convert_plan_and_run(const struct convert_args *a)
{
	struct run_plan plan = { 0 };
	if (common_opts_resolve(&a->common, &plan) < 0 || check_in_fmt(a->in_fmt, a->in[0]) < 0 ||
	    check_out_name(a) < 0)
		return 1;
	if (a->out_cache == CACHE_INVALID && strlen(a->cache) >= CONVERT_CACHE_NAME_MAX) {
		report_error("Invalid cache option: %s", a->cache);
		return 1;
	}
	if (a->n_in >= CORDON_JOB_DEVS_MAX) {
		report_error("at most %u input files", CORDON_JOB_DEVS_MAX - 1);
		return 1;
	}
	struct cordon_job job;
	job_init(a, &job);
	struct run_input in[CORDON_JOB_DEVS_MAX];
	for (uint32_t i = 0; i < a->n_in; i++)
		in[i] = (struct run_input){ .path = a->in[i],
					    .fmt = a->in_fmt ? a->in_fmt : "" };
	const char *out_fmt = a->out_fmt;
	/* The output is as large as the inputs together, which the host does
	 * not know: the format's own bound holds it. */
	struct run_output out = {
		.path = a->out,
		.fmt = strlen(out_fmt) < CORDON_FMT_NAME_MAX ? out_fmt : "",
		.max_virtual = output_virtual_max(out_fmt, UINT64_MAX),
		/* unsafe, qemu-img convert's default, never flushes; every
		 * other mode has the data on disk when qemu-img exits. */
		.no_flush = a->out_cache == CACHE_UNSAFE,
		.existing = a->skip_create,
	};
	plan.inputs = in;
	plan.n_inputs = a->n_in;
	plan.outputs = &out;
	plan.n_outputs = 1;
	/* qemu-img prints the first progress line before it opens anything. */
	plan.progress = a->progress ? stdout : NULL;
	return run_command(&plan, &job);
}

int cmd_convert(int argc, char **argv)
{
	struct convert_args a;
	int status = 1;

	switch (convert_args_parse(argc, argv, &a)) {
	case CONVERT_ARGS_HELP:
		status = 0;
		break;
	case CONVERT_ARGS_ERROR:
		break;
	case CONVERT_ARGS_RUN:
		status = convert_plan_and_run(&a);
		break;
	}
	common_opts_free(&a.common);
	snapshot_opt_free(&a.snapshot);
	return status;
}
