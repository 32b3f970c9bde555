/*
 * The copy engine: a range of an input image into a range of a writer, the
 * loop every command that moves data shares (dd now; convert next).  Runs are
 * taken from image_map() through the backing chain and each goes the
 * cheapest way: a hole becomes the writer's zero(), a raw run a host-side
 * copy (when the writer has one and the options allow it), anything else
 * passes through a bounce buffer -- where zero detection, if asked for,
 * turns all-zero stretches into zero() too.  The engine words no message:
 * it says which side failed and the caller says it in its command's words.
 */
#ifndef CORDON_CORE_COPY_H
#define CORDON_CORE_COPY_H

#include "format.h"

struct copy_opts {
	bool host_copy;       /* raw runs by the copy hostcall, where the writer can */
	uint64_t zero_unit;   /* find zero runs of this many bytes, aligned in the
			       * output, in data passing through; 0: none */
	uint32_t base_depth;  /* runs served from this backing depth or deeper
			       * are left out (convert -B); 0: none */
	/* Called as the range progresses, with bytes done so far. */
	void (*progress)(void *ctx, uint64_t done);
	void *progress_ctx;
};

enum copy_side {
	COPY_READ = 1,  /* the input failed (mapping or reading) */
	COPY_WRITE = 2, /* the writer failed */
};

/* Copies [in_off, in_off+len) of `in` to [out_off, ...) of `out`.  0, or
 * -errno with *failed saying which side. */
int copy_range(struct core_ctx *ctx, struct image *in, uint64_t in_off, uint64_t len,
	       struct image_writer *out, uint64_t out_off, const struct copy_opts *o,
	       enum copy_side *failed);

#endif
