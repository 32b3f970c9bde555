/*
 * vmdk open (descriptor parsing, extents, parent) + map + read over
 * in-memory devices, then a round trip through cordon's vmdk writer.  The
 * input either is the image (first byte odd) or edits one of the templates
 * (vmdk_templates.h: sparse, stream-optimized, a descriptor with flat,
 * sparse and COWD extents, a child); the files they name are always there.
 * The rest names windows.  Checked on every run:
 *   - no request the host would refuse, no leak, no sanitizer report;
 *   - a run mapped as zeros reads as zeros, and two reads of one range
 *     agree;
 *   - for disks up to 1 MiB: dd's copy of the disk into a new VMDK reads
 *     back identically, and the file stays within the host's cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "vmdk_templates.h"

#define ROUND_TRIP_MAX (1u << 20)

static struct vmt vmts[8];
static struct fuzz_template templates[4];

static void setup(void)
{
	if (templates[0].buf)
		return;
	vmt_all(vmts);
	for (int i = 0; i < 4; i++)
		templates[i] = (struct fuzz_template){ vmts[i].buf, vmts[i].len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	size_t len;
	uint8_t *img_bytes = fuzz_image(&p, &n, templates, 4, 2048, &len);

	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_add_named(&m, VMT_FLAT, vmts[4].buf, vmts[4].len);
	memdevs_add_named(&m, VMT_SPARSE, vmts[5].buf, vmts[5].len);
	memdevs_add_named(&m, VMT_COWD, vmts[6].buf, vmts[6].len);
	memdevs_add_named(&m, VMT_PARENT, vmts[7].buf, vmts[7].len);
	uint32_t dev = memdevs_add_input(&m, img_bytes, len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	if (image_open(&ctx, dev, "vmdk", "in.vmdk", &img) == 0) {
		fuzz_read_windows(&img, p, n);
		fuzz_round_trip(&m, &ctx, &img, "vmdk", ROUND_TRIP_MAX);
		image_close(&img);
	}
	fuzz_check_run(&m, &ctx);
	memdevs_free(&m);
	free(img_bytes);
	return 0;
}
