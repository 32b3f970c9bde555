/*
 * qcow2 open + map + read of random windows over in-memory devices.  The
 * input either is the image (first byte odd) or edits one of the templates
 * (fuzz/qcow2_templates.h) byte by byte, then names windows to read.  Any
 * request the host would refuse (memdev violation), any leak of core
 * memory, and any sanitizer report is a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "qcow2_templates.h"

#define CHECK FUZZ_CHECK

static struct qb templates[4];
static uint8_t *backing;
#define BACKING_LEN (20 * 512 + 100)

static void setup(void)
{
	if (backing)
		return;
	tpl_build(&templates[0], 9, 40, 0, false);
	tpl_build(&templates[1], 9, 40, 1, false);
	tpl_build(&templates[2], 14, 6, 0, true);
	tpl_build(&templates[3], 12, 20, 1, false);
	backing = tpl_backing(BACKING_LEN);
}

static uint8_t *make_image(const uint8_t **p, size_t *n, size_t *len)
{
	uint64_t mode = fuzz_take(p, n, 1);
	if (mode & 1) { /* the input is the image */
		*len = *n;
		uint8_t *img = malloc(*n ? *n : 1);
		memcpy(img, *p, *n);
		*p += *n;
		*n = 0;
		return img;
	}
	const struct qb *t = &templates[(mode >> 1) & 3];
	uint8_t *img = malloc(t->len);
	memcpy(img, t->buf, t->len);
	*len = t->len;
	size_t edits = (size_t)fuzz_take(p, n, 1) % 16;
	for (size_t i = 0; i < edits && *n >= 5; i++) {
		uint64_t at = fuzz_take(p, n, 4) % t->len;
		img[at] = (uint8_t)fuzz_take(p, n, 1);
	}
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	size_t len;
	uint8_t *img_bytes = make_image(&p, &n, &len);

	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_add_named(&m, TPL_BACKING_NAME, backing, BACKING_LEN);
	uint32_t dev = memdevs_add_input(&m, img_bytes, len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	if (image_open(&ctx, dev, "", "f.qcow2", &img) == 0) {
		fuzz_read_windows(&img, p, n);
		image_close(&img);
	}
	fuzz_check_run(&m, &ctx);
	memdevs_free(&m);
	free(img_bytes);
	return 0;
}
