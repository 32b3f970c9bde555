/* A dd job as the cli would build it, for unit tests of core. */
#ifndef CORDON_TESTS_TEST_JOB_H
#define CORDON_TESTS_TEST_JOB_H

#include <string.h>

#include "../../src/abi/job.h"

static inline struct cordon_job test_dd_job(const char *out_fmt, uint64_t bs,
					    int have_count, uint64_t count,
					    int have_skip, uint64_t skip)
{
	struct cordon_job job;
	memset(&job, 0, sizeof(job));
	job.magic = CORDON_JOB_MAGIC;
	job.version = CORDON_JOB_VERSION;
	job.command = CORDON_CMD_DD;
	job.bs = bs;
	job.count = count;
	job.skip = skip;
	job.dd_flags = (have_count ? DD_HAVE_COUNT : 0) | (have_skip ? DD_HAVE_SKIP : 0);
	job.out_zeroed = 1;
	strcpy(job.out_fmt, out_fmt);
	strcpy(job.in_name, "in.raw");
	strcpy(job.out_name, strcmp(out_fmt, "raw") == 0 ? "out.raw" : "out.qcow2");
	return job;
}

#endif
