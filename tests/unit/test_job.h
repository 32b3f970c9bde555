/* A dd job as the cli would build it, for unit tests of core, over the
 * devices memdevs_init() and one memdevs_add_input() make: the output is
 * device 0, the input device 1. */
#ifndef CORDON_TESTS_TEST_JOB_H
#define CORDON_TESTS_TEST_JOB_H

#include <string.h>

#include "../../src/abi/job.h"

#define TEST_OUT 0u
#define TEST_IN 1u

/* A job of this command over n_dev devices, everything else zero. */
static inline struct cordon_job test_job_base(uint32_t command, uint32_t n_dev)
{
	struct cordon_job job;
	memset(&job, 0, sizeof(job));
	job.magic = CORDON_JOB_MAGIC;
	job.version = CORDON_JOB_VERSION;
	job.command = command;
	job.n_dev = n_dev;
	return job;
}

static inline struct cordon_job test_dd_job(const char *out_fmt, uint64_t bs,
					    int have_count, uint64_t count,
					    int have_skip, uint64_t skip)
{
	struct cordon_job job = test_job_base(CORDON_CMD_DD, 2);
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

/* An info job over device 0 (memdevs_input_first()): fmt "" probes. */
static inline struct cordon_job test_info_job(const char *fmt, uint32_t flags)
{
	struct cordon_job job = test_job_base(CORDON_CMD_INFO, 1);
	job.dev[0].roles = CORDON_DEV_READ;
	strcpy(job.dev[0].fmt, fmt);
	job.cmd.info.flags = flags;
	return job;
}

#endif
