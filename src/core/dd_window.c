/* qemu-img dd's window arithmetic, overflow-checked. */
#include "dd_window.h"

#include "errno_codes.h"
#include "overflow.h"

int dd_window_compute(uint64_t in_size, const struct dd_params *p,
		      struct dd_window *w)
{
	uint64_t end = in_size;
	uint64_t product;

	if (p->bs < 1 || p->bs > DD_MAX_BS)
		return -CD_EINVAL;
	if ((p->have_count && p->count > DD_MAX_COUNT) ||
	    (p->have_skip && p->skip > DD_MAX_COUNT) ||
	    (p->have_osize && p->osize > DD_MAX_COUNT) ||
	    (p->have_isize && p->isize > DD_MAX_COUNT))
		return -CD_EINVAL;
	if (in_size > DD_MAX_COUNT)
		return -CD_EFBIG;

	/* qemu: count*bs replaces the size only when it fits in int64 and is
	 * smaller; Proxmox: osize replaces it, and count is ignored. */
	if (p->have_osize)
		end = p->osize;
	else if (p->have_count && !MUL_OVERFLOW(p->count, p->bs, &product) &&
		 product <= DD_MAX_COUNT && product < end)
		end = product;

	uint64_t size = end;
	w->skip_past_end = false;
	w->start = 0;
	if (p->have_skip) {
		/* qemu-img then reads from the size on (which isize may
		 * still put reading past). */
		w->skip_past_end = MUL_OVERFLOW(p->skip, p->bs, &product) ||
				   product > DD_MAX_COUNT || product > size;
		w->start = w->skip_past_end ? size : product;
	}
	/* Proxmox: reading stops at isize (0: at the size). */
	if (p->have_isize && p->isize > 0)
		end = p->isize;
	if (w->start > end)
		end = w->start; /* nothing is read */
	w->end = end;
	/* Sizes are at most INT64_MAX, so rounding cannot overflow. */
	uint64_t out = p->have_osize ? p->osize : w->skip_past_end ? 0 : size - w->start;
	w->out_size = (out + DD_SECTOR - 1) & ~(uint64_t)(DD_SECTOR - 1);
	return 0;
}

void dd_params_of_job(const struct cordon_dd_job *dd, struct dd_params *p)
{
	*p = (struct dd_params){
		.bs = dd->bs, .count = dd->count, .skip = dd->skip,
		.osize = dd->osize, .isize = dd->isize,
		.have_count = (dd->flags & DD_HAVE_COUNT) != 0,
		.have_skip = (dd->flags & DD_HAVE_SKIP) != 0,
		.have_osize = (dd->flags & DD_HAVE_OSIZE) != 0,
		.have_isize = (dd->flags & DD_HAVE_ISIZE) != 0,
	};
}

/* The index of the first block whose end reaches past limit, or UINT64_MAX. */
static uint64_t first_block_past(const struct dd_window *w, uint64_t bs, uint64_t limit)
{
	if (w->end <= limit)
		return UINT64_MAX;
	return limit < w->start ? 0 : (limit - w->start) / bs;
}

enum dd_failure dd_window_failure(const struct dd_window *w, uint64_t bs, uint64_t in_size,
				  uint64_t out_cap)
{
	if (w->end <= w->start)
		return DD_FAIL_NONE;
	uint64_t read = first_block_past(w, bs, in_size);
	/* Block k is written at k * bs: it reaches past out_cap when its
	 * input end passes start + out_cap. */
	uint64_t write = out_cap > DD_MAX_COUNT - w->start
				 ? UINT64_MAX
				 : first_block_past(w, bs, w->start + out_cap);
	if (read == UINT64_MAX && write == UINT64_MAX)
		return DD_FAIL_NONE;
	return read <= write ? DD_FAIL_READ : DD_FAIL_WRITE;
}
