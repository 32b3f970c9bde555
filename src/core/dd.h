/* cordon dd: qemu-img dd's copy of a window of one image into a new one. */
#ifndef CORDON_CORE_DD_H
#define CORDON_CORE_DD_H

#include "core.h"

/* Runs a validated CORDON_CMD_DD job; 0 or -errno with the message recorded. */
int dd_run(struct core_ctx *ctx, const struct cordon_job *job);

#endif
