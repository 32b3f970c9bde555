/*
 * `cordon info`: qemu-img info's command line turned into a run plan and
 * the info part of the job; src/core/info.c describes the image inside the
 * sandbox and sends the description as result records, which are printed
 * here -- as JSON or as qemu-img's human text -- only when the whole run
 * succeeded (qemu-img collects the chain before it prints anything).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../abi/job.h"
#include "../host/render_info.h"
#include "../host/render_json.h"
#include "../host/report.h"
#include "../host/result_store.h"
#include "../host/run.h"
#include "cmd.h"
#include "info_args.h"

void cmd_info_usage(FILE *f)
{
	fputs("usage: cordon info [-f fmt] [--output=human|json] [--backing-chain] [-U]\n"
	      "                   filename\n"
	      "\n"
	      "Describes the disk image 'filename' as qemu-img info does: format,\n"
	      "sizes, backing file, snapshots and format-specific information.  The\n"
	      "image is parsed only inside a sandbox.\n"
	      "\n"
	      "  -f fmt               image format (default: probed)\n"
	      "  --output=FMT         human (default) or json\n"
	      "  --backing-chain      describe every image of the backing chain\n"
	      "Not yet: --object, --image-opts (refused with a message).\n", f);
	common_opts_usage(f);
}

static int info_plan_and_run(const struct info_args *a)
{
	struct run_plan plan = { 0 };
	if (common_opts_resolve(&a->common, &plan) < 0 || check_in_fmt(a->fmt, a->file) < 0)
		return 1;
	struct cordon_job job;
	memset(&job, 0, sizeof(job));
	job.magic = CORDON_JOB_MAGIC;
	job.version = CORDON_JOB_VERSION;
	job.command = CORDON_CMD_INFO;
	job.cmd.info.flags = a->backing_chain ? INFO_BACKING_CHAIN : 0;
	struct run_input in = { .path = a->file, .fmt = a->fmt ? a->fmt : "" };
	struct result_store results;
	result_store_init(&results);
	plan.inputs = &in;
	plan.n_inputs = 1;
	plan.results = &results;
	/* Snapshot dates are local time: the zone is read now, before the
	 * host is confined (no file can be opened after). */
	tzset();
	int status = run_command(&plan, &job);
	if (status == 0 && !result_store_complete(&results)) {
		report_error("the sandbox sent an incomplete description");
		status = 1;
	}
	if (status == 0) {
		if (a->json)
			render_json(stdout, &results);
		else
			render_info_human(stdout, &results);
		if (fflush(stdout) != 0) {
			report_error("Could not write the description: %s", strerror(errno));
			status = 1;
		}
	}
	result_store_free(&results);
	return status;
}

int cmd_info(int argc, char **argv)
{
	struct info_args a;
	int status = 1;

	switch (info_args_parse(argc, argv, &a)) {
	case INFO_ARGS_HELP:
		status = 0;
		break;
	case INFO_ARGS_ERROR:
		break;
	case INFO_ARGS_RUN:
		status = info_plan_and_run(&a);
		break;
	}
	common_opts_free(&a.common);
	return status;
}
