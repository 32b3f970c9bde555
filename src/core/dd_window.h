/*
 * qemu-img dd's window: which input bytes are copied, and how large the
 * output is.  A pure function so that unit tests and fuzz_dd_window check
 * exactly what dd runs.
 */
#ifndef CORDON_CORE_DD_WINDOW_H
#define CORDON_CORE_DD_WINDOW_H

#include "rt.h"

struct dd_params {
	uint64_t bs;    /* 1..INT_MAX */
	uint64_t count; /* blocks; only when have_count */
	uint64_t skip;  /* blocks; only when have_skip */
	bool have_count;
	bool have_skip;
};

struct dd_window {
	uint64_t start;      /* first input byte copied */
	uint64_t end;        /* one past the last input byte copied */
	uint64_t out_size;   /* output virtual size: end - start, rounded to 512 */
	bool skip_past_end;  /* qemu's "cannot skip to specified offset" */
};

#define DD_SECTOR 512u
#define DD_MAX_BS 2147483647u /* INT_MAX, as qemu-img */
#define DD_MAX_COUNT 9223372036854775807ull /* INT64_MAX */

/*
 * in_size is the input's virtual size (for raw, the file size rounded up to
 * 512).  Returns 0, or -CD_EINVAL when a parameter is outside what the cli
 * allows, -CD_EFBIG when in_size exceeds INT64_MAX.
 *
 * As qemu-img: count is counted from byte 0, not from skip; a count whose
 * product overflows or exceeds the input is ignored; skip past the end
 * (after count) gives an empty output and a warning, not an error.
 */
int dd_window_compute(uint64_t in_size, const struct dd_params *p,
		      struct dd_window *w);

#endif
