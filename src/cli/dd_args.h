/*
 * qemu-img dd's command line: options (getopt_long ":hf:O:l:Un" (upstream's plus
 * Proxmox's -l and -n) plus cordon's
 * shared ones, common_opts.h) and then the dd operands, in qemu-img's order
 * and with its messages.  No files are touched here.
 */
#ifndef CORDON_CLI_DD_ARGS_H
#define CORDON_CLI_DD_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common_opts.h"
#include "snapshot_opt.h"

struct dd_args {
	const char *in;      /* if=, NULL when absent ("" is a name) */
	const char *out;     /* of= */
	const char *in_fmt;  /* -f, NULL = probe */
	const char *out_fmt; /* -O, NULL = raw */
	uint64_t bs;         /* bytes, 1..INT_MAX; 512 unless bs= */
	uint64_t count;      /* blocks, with DD_HAVE_COUNT */
	uint64_t skip;       /* blocks, with DD_HAVE_SKIP */
	uint64_t osize;      /* bytes, with DD_HAVE_OSIZE (Proxmox) */
	uint64_t isize;      /* bytes, with DD_HAVE_ISIZE (Proxmox) */
	uint32_t flags;      /* DD_HAVE_* */
	bool skip_create;    /* -n (Proxmox) */
	struct snapshot_opt snapshot; /* -l (Proxmox) */
	struct common_opts common;
};

enum dd_args_result {
	DD_ARGS_RUN,   /* parsed: go on */
	DD_ARGS_HELP,  /* -h: usage printed, exit 0 */
	DD_ARGS_ERROR, /* message printed, exit 1 */
};

/* argv[0] is "dd".  Permutes argv (GNU getopt). */
enum dd_args_result dd_args_parse(int argc, char **argv, struct dd_args *a);

/* The job an accepted parse becomes, devices aside (cmd_dd.c; the host
 * fills them in): here so that fuzz_dd_operands checks the very job. */
void dd_job_init(const struct dd_args *a, struct cordon_job *job);

#endif
