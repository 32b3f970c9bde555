/* cordon dd: qemu-img dd's copy of a window of one image into a new one. */
#ifndef CORDON_CORE_DD_H
#define CORDON_CORE_DD_H

#include "core.h"

/* The dd part of a job is what dd can run: 0 or -CD_EINVAL. */
int dd_check(const struct cordon_job *job);
/* Runs a checked dd job: exit status 0, or -errno with the message recorded. */
int dd_run(struct core_ctx *ctx, const struct cordon_job *job);

#endif
