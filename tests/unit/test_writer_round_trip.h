/*
 * What the writer tests of each format share (test_vpc.c, test_vhdx.c,
 * test_vmdk.c): a patterned input with zeroed ranges, a dd job into a
 * memdev output (fresh, or full of old bytes), and the output read back
 * through cordon's own reader.  The format's own checks of the file come
 * between dd_into() and read_back().
 */
#ifndef CORDON_TESTS_TEST_WRITER_ROUND_TRIP_H
#define CORDON_TESTS_TEST_WRITER_ROUND_TRIP_H

#include <stdlib.h>
#include <string.h>

#include "../../src/core/format.h"
#include "memdev.h"
#include "test_job.h"

static inline uint8_t pattern_byte(uint64_t i)
{
	return (uint8_t)(i * 37 + i / 4096 + 1);
}

/* `len` bytes of pattern with the [z0, z1) ranges zeroed; from malloc. */
static inline uint8_t *pattern_input(uint64_t len, const uint64_t (*zeros)[2], size_t nz)
{
	uint8_t *p = malloc(len ? len : 1);
	for (uint64_t i = 0; i < len; i++)
		p[i] = pattern_byte(i);
	for (size_t k = 0; k < nz; k++)
		memset(p + zeros[k][0], 0, zeros[k][1] - zeros[k][0]);
	return p;
}

/* dd -O fmt over in into m's output (old_bytes > 0: a device holding that
 * many bytes of 0xa5, not known to read as zeros); asserts success, no
 * violation and no leak.  The job's clock and entropy are fixed. */
static inline void dd_into(struct memdevs *m, const char *fmt, const uint8_t *in,
			   uint64_t len, uint64_t old_bytes)
{
	memdevs_init(m);
	memdevs_add_input(m, in, len);
	struct cordon_job job = test_dd_job(fmt, 512, 0, 0, 0, 0);
	if (old_bytes) {
		m->dev[TEST_OUT].data = malloc(old_bytes);
		memset(m->dev[TEST_OUT].data, 0xa5, old_bytes);
		m->dev[TEST_OUT].size = old_bytes;
		job.dev[TEST_OUT].roles &= ~CORDON_DEV_ZEROED;
	}
	job.now = 1700000000;
	memset(job.entropy, 0x5a, sizeof(job.entropy));
	assert_int_equal(core_run(&m->env, &job), 0);
	assert_int_equal(m->violations, 0);
	assert_int_equal(m->mem_used, 0);
}

/* Opens img (size bytes) as fmt and reads it all: in, then zeros, vsize
 * bytes in all; nothing leaked. */
static inline void read_back(const uint8_t *img, uint64_t size, const char *fmt,
			     const uint8_t *in, uint64_t len, uint64_t vsize)
{
	struct memdevs r;
	memdevs_init(&r);
	uint32_t dev = memdevs_add_input(&r, img, size);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &r.env);
	struct image im;
	if (image_open(&ctx, dev, fmt, "out.img", &im) != 0)
		fail_msg("%s", ctx.err);
	assert_int_equal(im.size, vsize);
	const uint64_t chunk = 1u << 20;
	uint8_t *buf = core_alloc(&ctx, chunk, 16);
	for (uint64_t off = 0; off < vsize; off += chunk) {
		uint64_t n = vsize - off < chunk ? vsize - off : chunk;
		assert_int_equal(image_read(&im, off, buf, n), 0);
		for (uint64_t k = 0; k < n; k++)
			if (buf[k] != (off + k < len ? in[off + k] : 0))
				fail_msg("byte %llu differs", (unsigned long long)(off + k));
	}
	core_free(&ctx, buf);
	image_close(&im);
	assert_int_equal(r.mem_used, 0);
	memdevs_free(&r);
}

#endif
