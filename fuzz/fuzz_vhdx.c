/*
 * vhdx open + log replay + map + read over in-memory devices.  The input
 * either is the image (first byte odd) or edits one of the templates
 * (vhdx_templates.h: clean, with an active log, several block patterns, a
 * differencing image whose parent, the first template, is always there),
 * possibly truncated or grown; the rest names windows.  Checked on every
 * run: no request the host would refuse, no leak, no sanitizer report; a
 * run mapped as zeros reads as zeros; two reads of one range agree; the
 * input device is never written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "vhdx_templates.h"

#define CHECK FUZZ_CHECK

static struct fuzz_template templates[5];

static void setup(void)
{
	static struct xt t[5];
	if (templates[0].buf)
		return;
	xt_build(&t[0], 3 * XT_MiB + 4096, 0x5, false);
	xt_build(&t[1], 3 * XT_MiB + 4096, 0x5, true);
	xt_build(&t[2], 1 * XT_MiB, 0x1, false);
	xt_build(&t[3], 40 * XT_MiB, 0x80000003u, true);
	xt_build_differencing(&t[4], 3 * XT_MiB + 4096);
	for (int i = 0; i < 5; i++)
		templates[i] = (struct fuzz_template){ t[i].buf, t[i].len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	size_t len;
	uint8_t *img_bytes = fuzz_image(&p, &n, templates, 5, XT_DATA, &len);

	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_add_named(&m, "./" XT_PARENT_NAME, templates[0].buf, templates[0].len);
	uint32_t dev = memdevs_add_input(&m, img_bytes, len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	if (image_open(&ctx, dev, "vhdx", "f.vhdx", &img) == 0) {
		fuzz_read_windows(&img, p, n);
		image_close(&img);
	}
	fuzz_check_run(&m, &ctx);
	CHECK(m.written == 0); /* the log is replayed in memory only */
	CHECK(memcmp(m.dev[dev].data, img_bytes, len) == 0);
	memdevs_free(&m);
	free(img_bytes);
	return 0;
}
