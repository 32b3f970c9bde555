/* cordon dd: qemu-img dd's copy of a window of one image into a new one. */
#ifndef CORDON_CORE_DD_H
#define CORDON_CORE_DD_H

#include "core.h"

/* The dd part of a job is what dd can run: 0 or -CD_EINVAL. */
int dd_check(const struct cordon_job *job);
/* Runs a checked dd job: exit status 0, or -errno with the message recorded. */
int dd_run(struct core_ctx *ctx, const struct cordon_job *job);

struct cordon_dd_job;
struct dd_window;
struct image;
struct image_writer;
/* dd_stream.c: the window w copied block by block, in order, when the
 * input (in NULL: standard input, device dd->in) or the output (out NULL:
 * standard output, device dd->out) is a stream; an image output holds
 * out_cap bytes.  0, or -errno with the message recorded; out is finished,
 * not aborted. */
int dd_stream_copy(struct core_ctx *ctx, const struct cordon_dd_job *dd, struct image *in,
		   struct image_writer *out, const struct dd_window *w, uint64_t out_cap);

#endif
