/*
 * One run of any command, host side: the files opened in qemu-img's order
 * (each input with its lock, then the outputs prepared as temporary files),
 * the policy for child files, the sandbox started and served, the results
 * rendered, the outputs committed -- or everything created removed.  Each
 * command's cli only turns argv into a run_plan and the command's part of
 * the job (src/cli/cmd_<name>.c); the device part is filled here.
 */
#ifndef CORDON_HOST_RUN_H
#define CORDON_HOST_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../abi/job.h"
#include "result_store.h"
#include "sandbox.h"

struct run_input {
	const char *path;    /* as typed: messages show it; NULL: standard input */
	const char *fmt;     /* "" = probe */
};

struct run_output {
	const char *path;     /* NULL: standard output */
	const char *fmt;     /* the format to write */
	uint64_t max_virtual; /* the largest virtual size the job can make */
	bool no_flush;        /* cache mode unsafe: not flushed before commit */
	bool existing;        /* dd -n: the file exists and is written in place */
};

/* What child files images may name, and the locks (common_opts.c). */
struct run_policy {
	const char *const *allow_dirs; /* --backing-allow */
	unsigned n_allow;
	bool backing_none;   /* --backing-allow=none */
	bool force_share;    /* -U */
};

struct run_plan {
	enum sandbox_kind sandbox;
	struct sandbox_limits limits;
	struct run_policy policy;
	const struct run_input *inputs;   /* devices 0.. of the job */
	uint32_t n_inputs;
	const struct run_output *outputs; /* devices after the inputs */
	uint32_t n_outputs;
	struct result_store *results;     /* where results go; NULL: none */
	FILE *progress;                   /* -p: progress lines here; NULL: none */
};

/* Fills job->dev and runs it.  Returns the exit status; every failure's
 * message has been printed.  The results are in plan->results. */
int run_command(const struct run_plan *plan, struct cordon_job *job);

#endif
