/*
 * image_read over windows of a raw device and of valid qcow2 images whose
 * every byte is known (fuzz/qcow2_templates.h: data, compressed, zero and
 * unallocated-over-a-shorter-backing clusters): the bytes read must be the
 * pattern, zeros where the image says zeros, and the buffer past the
 * disk's capacity must be left untouched (zero).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_input.h"
#include "qcow2_templates.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define RAW_LEN (300000u + 77u) /* not a multiple of 512: a zero tail */
#define BACKING_LEN (30u * 4096u + 1234u)

static struct qb tpl[3];
static uint32_t tpl_bits[3] = { 12, 9, 14 };
static uint8_t *raw, *backing;

static void setup(void)
{
	if (raw)
		return;
	tpl_build(&tpl[0], 12, 64, 0, false);
	tpl_build(&tpl[1], 9, 300, 1, false);
	tpl_build(&tpl[2], 14, 12, 0, true);
	raw = tpl_backing(RAW_LEN);
	backing = tpl_backing(BACKING_LEN);
}

/* What byte v of template t must read as. */
static uint8_t expect_qcow2(int t, uint64_t v)
{
	int kind = tpl_kind(v >> tpl_bits[t]);
	if (kind == 2 || (kind == 3 && v >= BACKING_LEN))
		return 0;
	return tpl_pattern(v);
}

#define WINDOW_MAX (1u << 14)

/* Reads [off, off+len) clipped to the capacity; checks every byte.  The
 * buffer comes from core_alloc, as dd's does: hostcalls see only that. */
static void check_window(struct image *img, int t, uint64_t off, uint64_t len)
{
	uint8_t *buf = core_alloc(img->ctx, WINDOW_MAX, 64);
	CHECK(buf != NULL && len <= WINDOW_MAX);
	memset(buf, 0, len);
	uint64_t n = off < img->size ? img->size - off : 0;
	if (n > len)
		n = len;
	if (n)
		CHECK(image_read(img, off, buf, n) == 0);
	for (uint64_t i = 0; i < len; i++) {
		uint64_t v = off + i;
		uint8_t want = 0;
		if (i < n)
			want = t < 0 ? (v < RAW_LEN ? tpl_pattern(v) : 0) : expect_qcow2(t, v);
		CHECK(buf[i] == want);
	}
	core_free(img->ctx, buf);
}

static void open_and_check(struct memdevs *m, uint32_t dev, int t,
			   const uint8_t *p, size_t n)
{
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m->env);
	struct image img;
	CHECK(image_open(&ctx, dev, "", "in", &img) == 0);
	CHECK(img.ops == (t < 0 ? &format_raw : &format_qcow2));
	for (int w = 0; w < 4 && n >= 5; w++) {
		uint64_t off = fuzz_take(&p, &n, 3) % (img.size + 4096);
		uint64_t len = fuzz_take(&p, &n, 2) % WINDOW_MAX + 1;
		check_window(&img, t, off, len);
	}
	image_close(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	int which = (int)(fuzz_take(&p, &n, 1) % 4) - 1; /* -1: raw */
	struct memdevs m;
	memdevs_init(&m);
	uint32_t dev;
	if (which < 0) {
		dev = memdevs_add_input(&m, raw, RAW_LEN);
	} else {
		memdevs_add_named(&m, TPL_BACKING_NAME, backing, BACKING_LEN);
		dev = memdevs_add_input(&m, tpl[which].buf, tpl[which].len);
	}
	open_and_check(&m, dev, which, p, n);
	CHECK(m.violations == 0);
	CHECK(m.mem_used == 0);
	memdevs_free(&m);
	return 0;
}
