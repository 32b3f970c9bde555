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
	    (p->have_skip && p->skip > DD_MAX_COUNT))
		return -CD_EINVAL;
	if (in_size > DD_MAX_COUNT)
		return -CD_EFBIG;

	/* qemu: count*bs replaces the size only when it fits in int64 and is
	 * smaller. */
	if (p->have_count && !MUL_OVERFLOW(p->count, p->bs, &product) &&
	    product <= DD_MAX_COUNT && product < end)
		end = product;

	w->skip_past_end = false;
	w->start = 0;
	if (p->have_skip) {
		if (MUL_OVERFLOW(p->skip, p->bs, &product) ||
		    product > DD_MAX_COUNT || product > end) {
			w->skip_past_end = true;
			w->start = end;
		} else {
			w->start = product;
		}
	}
	w->end = end;
	/* end - start <= INT64_MAX, so rounding cannot overflow. */
	w->out_size = (end - w->start + DD_SECTOR - 1) & ~(uint64_t)(DD_SECTOR - 1);
	return 0;
}
