/* A dd job as the cli would build it, for unit tests of core, over the
 * devices memdevs_init() and one memdevs_add_input() make: the output is
 * device 0, the input device 1. */
#ifndef CORDON_TESTS_TEST_JOB_H
#define CORDON_TESTS_TEST_JOB_H

#include <string.h>

#include "../../src/abi/job.h"

#define TEST_OUT 0u
#define TEST_IN 1u

static inline struct cordon_job test_dd_job(const char *out_fmt, uint64_t bs,
					    int have_count, uint64_t count,
					    int have_skip, uint64_t skip)
{
	struct cordon_job job;
	memset(&job, 0, sizeof(job));
	job.magic = CORDON_JOB_MAGIC;
	job.version = CORDON_JOB_VERSION;
	job.command = CORDON_CMD_DD;
	job.n_dev = 2;
	job.dev[TEST_OUT].roles = CORDON_DEV_CREATE | CORDON_DEV_WRITE | CORDON_DEV_ZEROED;
	strcpy(job.dev[TEST_OUT].fmt, out_fmt);
	job.dev[TEST_IN].roles = CORDON_DEV_READ;
	job.cmd.dd = (struct cordon_dd_job){
		.flags = (have_count ? DD_HAVE_COUNT : 0) | (have_skip ? DD_HAVE_SKIP : 0),
		.in = TEST_IN,
		.out = TEST_OUT,
		.bs = bs,
		.count = count,
		.skip = skip,
	};
	return job;
}

#endif
