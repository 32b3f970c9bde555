/*
 * vpc open + map + read over in-memory devices, then a round trip through
 * cordon's vpc writer.  The input either is the image (first byte odd) or
 * edits one of the templates (vpc_templates.h); the rest names windows.
 * Checked on every run:
 *   - no request the host would refuse, no leak, no sanitizer report;
 *   - a run mapped as zeros reads as zeros, and two reads of one range
 *     agree;
 *   - for disks up to 1 MiB: dd's copy of the disk into a new VHD reads
 *     back identically, and the file stays within the host's cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "vpc_templates.h"

#define ROUND_TRIP_MAX (1u << 20)

static struct vt vts[4];
static struct fuzz_template templates[4];

static void setup(void)
{
	if (templates[0].buf)
		return;
	vt_dynamic(&vts[0], VPC_DYNAMIC, 4096, 16, 0x8089, "qemu");
	vt_dynamic(&vts[1], VPC_DIFFERENCING, 4096, 16, 0x0c06, "win ");
	vt_dynamic(&vts[2], VPC_DYNAMIC, 512, 70, 0x5, "vpc ");
	vt_fixed(&vts[3], 40960);
	for (int i = 0; i < 4; i++)
		templates[i] = (struct fuzz_template){ vts[i].buf, vts[i].len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	size_t len;
	uint8_t *img_bytes = fuzz_image(&p, &n, templates, 4, 4096, &len);

	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_add_named(&m, VT_PARENT_NAME, vts[0].buf, vts[0].len);
	uint32_t dev = memdevs_add_input(&m, img_bytes, len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	if (image_open(&ctx, dev, "vpc", "f.vhd", &img) == 0) {
		fuzz_read_windows(&img, p, n);
		fuzz_round_trip(&m, &ctx, &img, "vpc", ROUND_TRIP_MAX);
		image_close(&img);
	}
	fuzz_check_run(&m, &ctx);
	memdevs_free(&m);
	free(img_bytes);
	return 0;
}
