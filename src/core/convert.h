/* cordon convert: qemu-img convert of one or more images, concatenated,
 * into a new one. */
#ifndef CORDON_CORE_CONVERT_H
#define CORDON_CORE_CONVERT_H

#include "core.h"

/* The largest -S qemu-img takes: MAX_BUF_SECTORS sectors. */
#define CONVERT_MAX_SPARSE (32768ull * 512)

/* The convert part of a job is what convert can run: 0 or -CD_EINVAL. */
int convert_check(const struct cordon_job *job);
/* Runs a checked convert job: 0, or -errno with the message recorded. */
int convert_run(struct core_ctx *ctx, const struct cordon_job *job);

#endif
