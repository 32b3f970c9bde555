/* cordon info: qemu-img info of one image, or of its whole backing chain. */
#ifndef CORDON_CORE_INFO_H
#define CORDON_CORE_INFO_H

#include "core.h"

/* The info part of a job is what info can run: 0 or -CD_EINVAL. */
int info_check(const struct cordon_job *job);
/* Runs a checked info job: 0, or -errno with the message recorded.  The
 * description goes to the host as result records (result.h). */
int info_run(struct core_ctx *ctx, const struct cordon_job *job);

#endif
