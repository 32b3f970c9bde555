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

#include "../src/core/copy.h"
#include "../src/core/format.h"
#include "../src/host/output_cap.h"
#include "../tests/unit/memdev.h"
#include "fuzz_input.h"
#include "vpc_templates.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define WINDOW_MAX (1u << 17)
#define ROUND_TRIP_MAX (1u << 20)

static struct vt templates[4];
static bool ready;

static void setup(void)
{
	if (ready)
		return;
	vt_dynamic(&templates[0], VPC_DYNAMIC, 4096, 16, 0x8089, "qemu");
	vt_dynamic(&templates[1], VPC_DIFFERENCING, 4096, 16, 0x0c06, "win ");
	vt_dynamic(&templates[2], VPC_DYNAMIC, 512, 70, 0x5, "vpc ");
	vt_fixed(&templates[3], 40960);
	ready = true;
}

static uint8_t *make_image(const uint8_t **p, size_t *n, size_t *len)
{
	uint64_t mode = fuzz_take(p, n, 1);
	if (mode & 1) {
		*len = *n;
		uint8_t *img = malloc(*n ? *n : 1);
		memcpy(img, *p, *n);
		*p += *n;
		*n = 0;
		return img;
	}
	const struct vt *t = &templates[(mode >> 1) & 3];
	/* the length may change too: truncated or grown images */
	size_t cut = (mode >> 3) & 3;
	*len = cut == 1 ? t->len - (size_t)fuzz_take(p, n, 2) % t->len
	     : cut == 2 ? t->len + (size_t)fuzz_take(p, n, 1) : t->len;
	uint8_t *img = calloc(1, *len ? *len : 1);
	memcpy(img, t->buf, *len < t->len ? *len : t->len);
	size_t edits = (size_t)fuzz_take(p, n, 1) % 16;
	for (size_t i = 0; i < edits && *n >= 4 && *len > 0; i++) {
		uint64_t at = fuzz_take(p, n, 3) % *len;
		img[at] = (uint8_t)fuzz_take(p, n, 1);
	}
	return img;
}

static bool all_zero(const uint8_t *b, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void read_windows(struct image *img, const uint8_t *p, size_t n)
{
	uint8_t *a = core_alloc(img->ctx, WINDOW_MAX, 64);
	uint8_t *b = core_alloc(img->ctx, WINDOW_MAX, 64);
	CHECK(a && b);
	for (int w = 0; w < 8 && n >= 5 && img->size > 0; w++) {
		uint64_t off = fuzz_take(&p, &n, 3) % img->size;
		uint64_t len = fuzz_take(&p, &n, 2) % WINDOW_MAX + 1;
		if (len > img->size - off)
			len = img->size - off;
		struct extent ext;
		struct image *owner;
		int64_t r = image_map(img, off, len, &ext, &owner);
		CHECK(r < 0 || (r > 0 && (uint64_t)r <= len));
		CHECK(r < 0 || ext.kind != EXT_BACKING);
		if (r > 0 && ext.kind == EXT_ZERO && image_read(img, off, a, (uint64_t)r) == 0)
			CHECK(all_zero(a, (uint64_t)r));
		if (image_read(img, off, a, len) == 0 && image_read(img, off, b, len) == 0)
			CHECK(memcmp(a, b, len) == 0);
	}
	core_free(img->ctx, a);
	core_free(img->ctx, b);
}

/* dd's path into a new VHD, and the result read back. */
static void round_trip(struct memdevs *m, struct core_ctx *ctx, struct image *in)
{
	if (in->size > ROUND_TRIP_MAX)
		return;
	struct image_writer w;
	struct writer_opts o = { .size = in->size, .zeroed = true, .min_sparse = 512 };
	if (writer_open(ctx, "vpc", 0, &o, &w) != 0)
		return;
	struct copy_opts co = { .host_copy = true, .zero_unit = w.zero_unit };
	enum copy_side side;
	if (copy_range(ctx, in, 0, in->size, &w, 0, &co, &side) != 0) {
		w.ops->abort(&w);
		return;
	}
	CHECK(w.ops->finish(&w) == 0);
	CHECK(m->dev[0].size <= output_cap("vpc", w.size));
	uint32_t dev = memdevs_add_input(m, m->dev[0].data, m->dev[0].size);
	struct image out;
	CHECK(image_open(ctx, dev, "vpc", "out.vhd", &out) == 0);
	CHECK(out.size >= in->size);
	uint8_t *a = core_alloc(ctx, WINDOW_MAX, 64), *b = core_alloc(ctx, WINDOW_MAX, 64);
	CHECK(a && b);
	for (uint64_t off = 0; off < out.size; off += WINDOW_MAX) {
		uint64_t len = out.size - off < WINDOW_MAX ? out.size - off : WINDOW_MAX;
		CHECK(image_read(&out, off, b, len) == 0);
		if (off >= in->size) {
			CHECK(all_zero(b, len));
			continue;
		}
		uint64_t part = in->size - off < len ? in->size - off : len;
		CHECK(image_read(in, off, a, part) == 0);
		CHECK(memcmp(a, b, part) == 0 && all_zero(b + part, len - part));
	}
	core_free(ctx, a);
	core_free(ctx, b);
	image_close(&out);
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
	memdevs_add_named(&m, VT_PARENT_NAME, templates[0].buf, templates[0].len);
	uint32_t dev = memdevs_add_input(&m, img_bytes, len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	if (image_open(&ctx, dev, "vpc", "f.vhd", &img) == 0) {
		read_windows(&img, p, n);
		round_trip(&m, &ctx, &img);
		image_close(&img);
	}
	CHECK(m.violations == 0);
	CHECK(m.mem_used == 0);
	CHECK(strnlen(ctx.err, sizeof(ctx.err)) < sizeof(ctx.err));
	memdevs_free(&m);
	free(img_bytes);
	return 0;
}
