/*
 * qemu's CHS rounding of created VHD sizes (chs_rounded_size, vpc_chs.c).
 * Two sizes from the input; for each, the properties qemu's algorithm has:
 *   - 0 gives 0; over 2040 GiB is -EFBIG, and nothing else fails;
 *   - the result is a whole number of sectors, at least the size, and less
 *     than 4080 sectors (one step of 16 heads x 255 sectors) above it;
 *   - the geometry describes the result exactly (C*H*S*512), except where
 *     it saturates at 65535/16/255: there qemu uses the size itself,
 *     rounded up to a sector;
 *   - heads at most 16, sectors per track one of the spec's 17/31/63/255;
 *   - larger sizes never give smaller results.
 * A brute-force run over every sector count up to the saturated geometry
 * (docs/vpc.md) found the same; this keeps it true as the code changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/vpc/vpc.h"
#include "fuzz_input.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_BYTES (VPC_MAX_SECTORS * 512)
#define MAX_STEP (4080ull * 512)

/* Sizes spread over every regime: the top six bits choose a scale (up to
 * 2^43 = 8 TiB), or the whole 64-bit range. */
static uint64_t size_from(uint64_t v)
{
	unsigned shift = (unsigned)(v >> 58);
	if (shift >= 44)
		return v;
	return (v & ((1ull << 58) - 1)) >> (58 - shift);
}

static uint64_t one(uint64_t size, bool force)
{
	uint64_t out = 0;
	struct vpc_chs g;
	int ret = chs_rounded_size(size, force, &out, &g);
	uint64_t rounded = (size + 511) / 512 * 512;
	if (size > MAX_BYTES) {
		CHECK(ret == -CD_EFBIG);
		return UINT64_MAX;
	}
	CHECK(ret == 0);
	CHECK(out % 512 == 0 && out >= rounded && out - rounded < MAX_STEP);
	uint64_t chs = (uint64_t)g.cyls * g.heads * g.secs;
	if (chs == VPC_MAX_GEOMETRY) {
		CHECK(out == rounded);
	} else {
		CHECK(!force);
		CHECK(chs * 512 == out);
		CHECK(out > 0 || (g.cyls == 0 && g.heads == 0 && g.secs == 0));
		CHECK(g.heads <= 16 && (g.secs == 17 || g.secs == 31 || g.secs == 63 ||
					g.secs == 255 || out == 0));
	}
	if (size == 0)
		CHECK(out == 0);
	if (force)
		CHECK(out == rounded);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	uint64_t a = size_from(fuzz_take(&p, &n, 8)), b = size_from(fuzz_take(&p, &n, 8));
	bool force = n > 0 && (*p & 1);
	if (a > b) {
		uint64_t t = a;
		a = b;
		b = t;
	}
	uint64_t ra = one(a, force), rb = one(b, force);
	CHECK(ra <= rb); /* UINT64_MAX stands for -EFBIG */
	return 0;
}
