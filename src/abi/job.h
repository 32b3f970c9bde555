/*
 * The job: what the host asks the sandbox to do, written by the host into the
 * shared region at HC_REGION_JOB_OFF before the sandbox starts.  The host
 * fills it from the command line alone; it never contains image bytes.
 * Core validates it again (core_run.c): terminators, device numbers, ranges.
 */
#ifndef CORDON_ABI_JOB_H
#define CORDON_ABI_JOB_H

#include <stdint.h>

#include "hostcall_abi.h"

#define CORDON_JOB_MAGIC 0x626f6a6e64726f63ull /* "cordnjob" */
#define CORDON_JOB_VERSION 1u

#define CORDON_FMT_NAME_MAX 16u
#define CORDON_PATH_MAX 4096u

enum cordon_command {
	CORDON_CMD_DD = 1,
};

/* dd flags: which operands were given (qemu distinguishes absent from 0). */
#define DD_HAVE_COUNT (1u << 0)
#define DD_HAVE_SKIP (1u << 1)
/* Move every byte through the sandbox instead of host-side copies
 * (CORDON_HOST_COPY=0): for benchmarks and for checking the slow path. */
#define DD_NO_HOST_COPY (1u << 2)

/* Device numbers the host assigns. */
#define CORDON_DEV_OUTPUT 0u
#define CORDON_DEV_INPUT 1u

struct cordon_job {
	uint64_t magic;
	uint32_t version;
	uint32_t command;
	uint32_t dd_flags;
	uint32_t out_zeroed; /* 1: the output starts empty (fresh regular file) */
	uint64_t bs;         /* 1..INT_MAX, checked by the cli */
	uint64_t count;      /* 0..INT64_MAX */
	uint64_t skip;       /* 0..INT64_MAX */
	char in_fmt[CORDON_FMT_NAME_MAX];  /* "" = probe */
	char out_fmt[CORDON_FMT_NAME_MAX]; /* "raw" unless -O */
	/* Names as the user typed them, for messages only. */
	char in_name[CORDON_PATH_MAX];
	char out_name[CORDON_PATH_MAX];
};
_Static_assert(sizeof(struct cordon_job) <= HC_REGION_JOB_MAX,
	       "the job must fit its pages in the shared region");

#endif
