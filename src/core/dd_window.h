/*
 * qemu-img dd's window: which input bytes are copied, and how large the
 * output is.  A pure function so that unit tests and fuzz_dd_window check
 * exactly what dd runs.
 */
#ifndef CORDON_CORE_DD_WINDOW_H
#define CORDON_CORE_DD_WINDOW_H

#include "rt.h"

#include "../abi/job.h"

struct dd_params {
	uint64_t bs;    /* 1..INT_MAX */
	uint64_t count; /* blocks; only when have_count */
	uint64_t skip;  /* blocks; only when have_skip */
	uint64_t osize; /* bytes (Proxmox's osize=); only when have_osize */
	uint64_t isize; /* bytes (Proxmox's isize=); only when have_isize */
	bool have_count;
	bool have_skip;
	bool have_osize;
	bool have_isize;
};

struct dd_window {
	uint64_t start;      /* first input byte copied */
	uint64_t end;        /* one past the last input byte copied */
	uint64_t out_size;   /* output virtual size: end - start, rounded to 512;
			      * osize rounded to 512 when given */
	bool skip_past_end;  /* qemu's "cannot skip to specified offset" */
};

enum dd_failure {
	DD_FAIL_NONE,
	DD_FAIL_READ,  /* a block reaches past the input's end: EIO */
	DD_FAIL_WRITE, /* a block reaches past the output's end: EIO */
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
 *
 * As Proxmox's qemu-img dd: osize replaces the size (count is then
 * ignored) and is the output's size whatever skip is; isize (when not 0)
 * is where reading stops, whatever the size.  Either may then reach past
 * the input or the output: dd_window_failure() says which fails first.
 */
int dd_window_compute(uint64_t in_size, const struct dd_params *p,
		      struct dd_window *w);

/* The job's operands as dd_params. */
void dd_params_of_job(const struct cordon_dd_job *dd, struct dd_params *p);

/* What qemu-img's block loop meets first copying w in blocks of bs from an
 * input of in_size bytes into an output that holds out_cap bytes: each
 * block is read, then written, so the block that first reaches past either
 * end fails, reading first. */
enum dd_failure dd_window_failure(const struct dd_window *w, uint64_t bs, uint64_t in_size,
				  uint64_t out_cap);

#endif
