/*
 * The job: what the host asks the sandbox to do, written by the host into the
 * shared region at HC_REGION_JOB_OFF before the sandbox starts.  The host
 * fills it from the command line alone; it never contains image bytes, nor
 * any path: devices are named by index, and a device's display name is asked
 * for with HC_OP_DEV_INFO when a message needs it.  Core validates the job
 * again (core_run.c): terminators, device numbers, roles, ranges.
 *
 * Devices 0..n_dev-1 are the ones the command line names, in the order the
 * command defines (dd: if=, then of=); files an image names (backing files,
 * extents) get the numbers after them, as the host attaches them.
 */
#ifndef CORDON_ABI_JOB_H
#define CORDON_ABI_JOB_H

#include <stdint.h>

#include "hostcall_abi.h"

#define CORDON_JOB_MAGIC 0x626f6a6e64726f63ull /* "cordnjob" */
#define CORDON_JOB_VERSION 4u

#define CORDON_FMT_NAME_MAX 24u /* the longest name qemu knows is 17 */
/* Devices a command line may name: convert's inputs and its output. */
#define CORDON_JOB_DEVS_MAX 64u

enum cordon_command {
	CORDON_CMD_DD = 1,
	CORDON_CMD_CONVERT = 2,
	CORDON_CMD_INFO = 3,
};

/* What a job's device is for (bits of cordon_job_dev.roles). */
#define CORDON_DEV_READ (1u << 0)   /* an image to open and read */
#define CORDON_DEV_WRITE (1u << 1)  /* may be written */
#define CORDON_DEV_CREATE (1u << 2) /* made by this run (HC_OP_CREATE) */
#define CORDON_DEV_ZEROED (1u << 3) /* reads as zeros until written */
#define CORDON_DEV_STREAM (1u << 4) /* standard input or output: read or
				     * written in order, no size, nothing else */
#define CORDON_DEV_ROLES (CORDON_DEV_READ | CORDON_DEV_WRITE | CORDON_DEV_CREATE | \
			  CORDON_DEV_ZEROED | CORDON_DEV_STREAM)

struct cordon_job_dev {
	uint32_t roles;
	uint32_t reserved;
	char fmt[CORDON_FMT_NAME_MAX]; /* inputs: "" = probe; outputs: to write */
};
_Static_assert(sizeof(struct cordon_job_dev) == 32, "part of the ABI");

/* Flags for any command (cordon_job.flags). */
/* Move every byte through the sandbox instead of host-side copies
 * (CORDON_HOST_COPY=0): for benchmarks and for checking the slow path. */
#define CORDON_JOB_NO_HOST_COPY (1u << 0)

/* dd flags: which operands were given (qemu distinguishes absent from 0). */
#define DD_HAVE_COUNT (1u << 0)
#define DD_HAVE_SKIP (1u << 1)
#define DD_HAVE_OSIZE (1u << 2)  /* Proxmox's osize= */
#define DD_HAVE_ISIZE (1u << 3)  /* Proxmox's isize= */
#define DD_SKIP_CREATE (1u << 4) /* Proxmox's -n: of= exists, written in place */
#define DD_FLAGS (DD_HAVE_COUNT | DD_HAVE_SKIP | DD_HAVE_OSIZE | DD_HAVE_ISIZE | \
		  DD_SKIP_CREATE)

struct cordon_dd_job {
	uint32_t flags;  /* DD_* */
	uint32_t in;     /* the input's device */
	uint32_t out;    /* the output's device */
	uint32_t reserved;
	uint64_t bs;     /* 1..INT_MAX, checked by the cli */
	uint64_t count;  /* 0..INT64_MAX */
	uint64_t skip;   /* 0..INT64_MAX */
	uint64_t osize;  /* 0..INT64_MAX */
	uint64_t isize;  /* 0..INT64_MAX */
};

/* convert flags. */
#define CONVERT_PROGRESS (1u << 0)     /* -p: report progress */
#define CONVERT_COMPRESS (1u << 1)     /* -c */
#define CONVERT_BAD_CACHE (1u << 2)    /* -t is no cache mode: qemu says so
					* once the output is created */
#define CONVERT_SKIP_CREATE (1u << 3)  /* -n: the output exists, written in place */
#define CONVERT_TARGET_ZERO (1u << 4)  /* --target-is-zero: it reads as zeros */
#define CONVERT_FLAGS (CONVERT_PROGRESS | CONVERT_COMPRESS | CONVERT_BAD_CACHE | \
		       CONVERT_SKIP_CREATE | CONVERT_TARGET_ZERO)
#define CONVERT_CACHE_NAME_MAX 256u

/* Devices 0..n_in-1 are the inputs, concatenated in that order; the output
 * is device n_in. */
struct cordon_convert_job {
	uint32_t flags;       /* CONVERT_* */
	uint32_t n_in;        /* 1..CORDON_JOB_DEVS_MAX-1 */
	uint64_t min_sparse;  /* -S in bytes: a multiple of 512 up to 16 MiB;
			       * 0: the output fully allocated */
	char bad_cache[CONVERT_CACHE_NAME_MAX]; /* with CONVERT_BAD_CACHE: -t */
};

#define INFO_BACKING_CHAIN (1u << 0) /* --backing-chain */
#define INFO_FLAGS INFO_BACKING_CHAIN

/* Device 0 is the image; results: its ImageInfo object, or with
 * --backing-chain an array of them, top first. */
struct cordon_info_job {
	uint32_t flags;       /* INFO_* */
	uint32_t reserved;
};

/* An internal snapshot to read instead of the active layer (-l), as qemu's
 * bdrv_snapshot_load_tmp() takes it: by id, by name, by both, or (a bare
 * -l value) by id and then by name.  Of the job's first input. */
#define SNAPSHOT_BY_ID (1u << 0)
#define SNAPSHOT_BY_NAME (1u << 1)
#define SNAPSHOT_BY_ID_OR_NAME (1u << 2) /* the text is in id */
#define SNAPSHOT_FLAGS (SNAPSHOT_BY_ID | SNAPSHOT_BY_NAME | SNAPSHOT_BY_ID_OR_NAME)
#define SNAPSHOT_TEXT_MAX 1024u /* with the NUL */
struct cordon_job_snapshot {
	uint32_t flags; /* 0: the active layer */
	uint32_t reserved;
	char id[SNAPSHOT_TEXT_MAX];
	char name[SNAPSHOT_TEXT_MAX];
};

struct cordon_job {
	uint64_t magic;
	uint32_t version;
	uint32_t command;   /* enum cordon_command */
	uint32_t flags;     /* CORDON_JOB_* */
	uint32_t n_dev;
	/* What images record about their making and core cannot know itself:
	 * the time (seconds since the Unix epoch; VHD timestamps) and random
	 * bytes (VHD unique ids).  Never image bytes. */
	uint64_t now;
	uint8_t entropy[64];
	struct cordon_job_dev dev[CORDON_JOB_DEVS_MAX];
	struct cordon_job_snapshot snapshot;
	union {
		struct cordon_dd_job dd;
		struct cordon_convert_job convert;
		struct cordon_info_job info;
		uint8_t reserved[1024];
	} cmd;
};
_Static_assert(sizeof(struct cordon_job) <= HC_REGION_JOB_MAX,
	       "the job must fit its pages in the shared region");

#endif
