/*
 * -l (convert, and dd as Proxmox's qemu-img has it): which internal
 * snapshot to read, parsed as qemu-img parses it (snapshot_opt.c).
 */
#ifndef CORDON_CLI_SNAPSHOT_OPT_H
#define CORDON_CLI_SNAPSHOT_OPT_H

#include "../abi/job.h"

struct snapshot_opt {
	struct cordon_job_snapshot opts; /* the last "snapshot.*" -l */
	struct cordon_job_snapshot bare; /* the last other -l */
	char *ids_used;                  /* QemuOpts ids of every -l so far */
};

/* One -l value.  0, or -1 with qemu's messages printed (the run fails
 * with status 1). */
int snapshot_opt_parse(const char *arg, struct snapshot_opt *s);
/* What the run loads: the options when any were given, else the bare
 * value (flags 0: none). */
const struct cordon_job_snapshot *snapshot_opt_chosen(const struct snapshot_opt *s);
void snapshot_opt_free(struct snapshot_opt *s);

#endif
