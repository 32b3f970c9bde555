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
	uint64_t step_max;    /* the most one step (and progress report) covers;
			       * 0: the engine's own, 1 GiB */
	/* Called as the range progresses, with bytes done so far. */
	void (*progress)(void *ctx, uint64_t done);
	void *progress_ctx;
};

enum copy_side {
	COPY_MAP = 1,   /* the input could not say what a run is */
	COPY_READ = 2,  /* the input failed reading a run */
	COPY_WRITE = 3, /* the writer failed */
};

struct copy_failure {
	enum copy_side side;
	uint64_t at;    /* the input offset of the run (or its 4 MiB piece)
			 * being mapped, read or written */
};

/* Copies [in_off, in_off+len) of `in` to [out_off, ...) of `out`.  0, or
 * -errno with *failed saying which side, where. */
int copy_range(struct core_ctx *ctx, struct image *in, uint64_t in_off, uint64_t len,
	       struct image_writer *out, uint64_t out_off, const struct copy_opts *o,
	       struct copy_failure *failed);

#endif
