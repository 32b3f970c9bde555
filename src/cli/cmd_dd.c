/*
 * `cordon dd`: qemu-img dd's command line turned into a run plan and the
 * dd part of the job; src/host/run.c does the rest (files, sandbox,
 * commit).  Everything that reads image bytes happens in the sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../abi/job.h"
#include "../core/dd_window.h"
#include "../host/output_cap.h"
#include "../host/report.h"
#include "../host/run.h"
#include "cmd.h"
#include "dd_args.h"
#include "snapshot_opt.h"

void cmd_dd_usage(FILE *f)
{
	fputs("usage: cordon dd [-U] [-f fmt] [-O output_fmt] [-n] [-l snapshot_param]\n"
	      "                 [bs=block_size] [count=blocks] [skip=blocks]\n"
	      "                 [osize=output_size] [isize=input_size] if=input of=output\n"
	      "\n"
	      "Copies the virtual disk of 'input' (from block 'skip', at most\n"
	      "'count' blocks of 'bs' bytes) into a new 'output' image, as\n"
	      "qemu-img dd does.  The input is parsed only inside a sandbox.\n"
	      "\n"
	      "  -f fmt               input format (default: probed)\n"
	      "  -O output_fmt        output format (default: raw)\n"
	      "  bs=SIZE              block size, 1 to 2147483647 (default 512)\n"
	      "  count=N              copy at most N blocks\n"
	      "  skip=N               skip N blocks of the input\n"
	      "  -n                   write into 'output', which exists (raw)\n"
	      "  -l snapshot_param    read this internal snapshot (snapshot.id=ID,\n"
	      "                       snapshot.name=NAME, or an id or name)\n"
	      "  osize=SIZE           the output's size (count is then ignored)\n"
	      "  isize=SIZE           stop reading the input at SIZE bytes\n"
	      "Sizes and counts take k, M, G, T, P or E suffixes.\n", f);
	common_opts_usage(f);
}

/*
 * A name no path can be: the output's "File name too long" at once, in the
 * words qemu-img uses when it cannot create it (qemu-img says so only after
 * it has checked the input's format and -O: documented).  A long input name
 * fails its own open() in qemu-img's words.
 */
static int check_out_name(const struct dd_args *a)
{
	if (strlen(a->out) < HC_MAX_NAME_LEN)
		return 0;
	report_error("%s: error while creating output image: Could not create '%s': "
		     "File name too long", a->out, a->out);
	return -1;
}

/* The largest output the operands allow, whatever the input: count
 * bounds the window, skip shortens it.  The host holds the sandbox to it. */
static uint64_t window_bound(const struct cordon_dd_job *dd)
{
	struct dd_params p;
	dd_params_of_job(dd, &p);
	struct dd_window w;
	return dd_window_compute(DD_MAX_COUNT, &p, &w) == 0 ? w.out_size : 0;
}

/* Device 0 is if=, device 1 is of=. */
void dd_job_init(const struct dd_args *a, struct cordon_job *job)
{
	memset(job, 0, sizeof(*job));
	job->magic = CORDON_JOB_MAGIC;
	job->version = CORDON_JOB_VERSION;
	job->command = CORDON_CMD_DD;
	const char *host_copy = getenv("CORDON_HOST_COPY");
	if (host_copy && strcmp(host_copy, "0") == 0)
		job->flags |= CORDON_JOB_NO_HOST_COPY;
	job->cmd.dd = (struct cordon_dd_job){
		.flags = a->flags | (a->skip_create ? DD_SKIP_CREATE : 0), .in = 0, .out = 1,
		.bs = a->bs, .count = a->count, .skip = a->skip,
		.osize = a->osize, .isize = a->isize,
	};
	job->snapshot = *snapshot_opt_chosen(&a->snapshot);
}

/* Proxmox: without if= standard input is read, as raw, and without of=
 * standard output written, as raw.  Where Proxmox refuses the format
 * (-f not raw, -O not raw) upstream's words win: they refuse the same
 * command line, both ways, and upstream's names what is missing. */
static int check_streams(const struct dd_args *a)
{
	bool in_raw = a->in_fmt && strcmp(a->in_fmt, "raw") == 0;
	bool out_raw = !a->out_fmt || strcmp(a->out_fmt, "raw") == 0;
	if ((!a->in && !in_raw) || (!a->out && !out_raw)) {
		report_error("Must specify both input and output files");
		return -1;
	}
	if (!a->in && !(a->flags & (DD_HAVE_OSIZE | DD_HAVE_COUNT))) {
		report_error("Output size must be known when reading from stdin");
		return -1;
	}
	return 0;
}

static int dd_plan_and_run(const struct dd_args *a)
{
	if (check_streams(a) < 0)
		return 1;

	struct run_plan plan = { 0 };
	if (common_opts_resolve(&a->common, &plan) < 0 ||
	    (a->in && check_in_fmt(a->in_fmt, a->in) < 0) || (a->out && check_out_name(a) < 0))
		return 1;
	struct cordon_job job;
	dd_job_init(a, &job);
	/* -O is checked by core after the input is open (qemu-img's order). */
	struct run_input in = { .path = a->in, .fmt = a->in_fmt ? a->in_fmt : "" };
	/* A name too long for the job is no format name qemu knows either:
	 * sent as "", which core reports as qemu-img does. */
	const char *out_fmt = a->out_fmt ? a->out_fmt : "raw";
	struct run_output out = {
		.path = a->out,
		.fmt = strlen(out_fmt) < CORDON_FMT_NAME_MAX ? out_fmt : "",
		.max_virtual = output_virtual_max(out_fmt, window_bound(&job.cmd.dd)),
		.existing = a->skip_create,
	};
	plan.inputs = &in;
	plan.n_inputs = 1;
	plan.outputs = &out;
	plan.n_outputs = 1;
	return run_command(&plan, &job);
}

int cmd_dd(int argc, char **argv)
{
	struct dd_args a;
	int status = 1;

	switch (dd_args_parse(argc, argv, &a)) {
	case DD_ARGS_HELP:
		status = 0;
		break;
	case DD_ARGS_ERROR:
		break;
	case DD_ARGS_RUN:
		status = dd_plan_and_run(&a);
		break;
	}
	common_opts_free(&a.common);
	snapshot_opt_free(&a.snapshot);
	return status;
}
