/*
 * dd window invariants over arbitrary sizes and operands: no overflow,
 * end <= input size, output size == (end - start) rounded to 512, start ==
 * skip*bs whenever that product is inside the window, count*bs honoured
 * whenever it fits and is smaller than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/dd_window.h"

static uint64_t take(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;
	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	uint64_t in_size = take(&p, &n) >> (take(&p, &n) & 63);
	struct dd_params prm = {
		.bs = take(&p, &n) % (DD_MAX_BS + 2ull), /* 0 and INT_MAX+1 too */
		.count = take(&p, &n) >> 1,
		.skip = take(&p, &n) >> (take(&p, &n) & 63),
	};
	uint64_t flags = take(&p, &n);
	prm.have_count = flags & 1;
	prm.have_skip = flags & 2;
	if (flags & 4)
		prm.count |= 1ull << 63; /* out of range */

	struct dd_window w;
	int ret = dd_window_compute(in_size, &prm, &w);
	int valid = prm.bs >= 1 && prm.bs <= DD_MAX_BS &&
		    !(prm.have_count && prm.count > DD_MAX_COUNT) &&
		    !(prm.have_skip && prm.skip > DD_MAX_COUNT) && in_size <= DD_MAX_COUNT;
	CHECK((ret == 0) == valid);
	if (ret != 0)
		return 0;

	CHECK(w.start <= w.end && w.end <= in_size);
	uint64_t len = w.end - w.start;
	CHECK(w.out_size % 512 == 0 && w.out_size >= len && w.out_size - len < 512);

	unsigned __int128 cb = (unsigned __int128)prm.count * prm.bs;
	uint64_t want_end = in_size;
	if (prm.have_count && cb <= DD_MAX_COUNT && cb < in_size)
		want_end = (uint64_t)cb;
	CHECK(w.end == want_end);

	unsigned __int128 sb = (unsigned __int128)prm.skip * prm.bs;
	if (!prm.have_skip)
		CHECK(w.start == 0 && !w.skip_past_end);
	else if (sb <= w.end)
		CHECK(w.start == (uint64_t)sb && !w.skip_past_end);
	else
		CHECK(w.skip_past_end && w.start == w.end && w.out_size == 0);
	return 0;
}
