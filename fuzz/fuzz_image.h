/*
 * What the image-format targets share: an image from the input (the input
 * itself, or a template edited, truncated or grown), and reads of windows
 * of the opened image with the checks that hold for every format.
 */
#ifndef CORDON_FUZZ_FUZZ_IMAGE_H
#define CORDON_FUZZ_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/copy.h"
#include "../src/core/format.h"
#include "../src/host/output_cap.h"
#include "../tests/unit/memdev.h"
#include "fuzz_input.h"

#define FUZZ_CHECK(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_WINDOW_MAX (1u << 17)

struct fuzz_template {
	const uint8_t *buf;
	size_t len;
};

/*
 * First byte odd: the rest of the input is the image.  Even: template
 * (byte >> 1) % n, cut short or grown (bits 3-4), then up to 23 byte edits,
 * half of them within the first `meta` bytes (where the structures are).
 * From malloc; its length in *len.
 */
static inline uint8_t *fuzz_image(const uint8_t **p, size_t *n, const struct fuzz_template *t,
				  size_t nt, size_t meta, size_t *len)
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
	const struct fuzz_template *tp = &t[(mode >> 1) % nt];
	size_t cut = (mode >> 3) & 3;
	*len = cut == 1 ? tp->len - (size_t)fuzz_take(p, n, 3) % tp->len
	     : cut == 2 ? tp->len + (size_t)fuzz_take(p, n, 2) : tp->len;
	uint8_t *img = calloc(1, *len ? *len : 1);
	memcpy(img, tp->buf, *len < tp->len ? *len : tp->len);
	size_t edits = (size_t)fuzz_take(p, n, 1) % 24;
	for (size_t i = 0; i < edits && *n >= 4 && *len > 0; i++) {
		uint64_t where = fuzz_take(p, n, 3);
		size_t span = (where & 1) && meta < *len ? meta : *len;
		img[(where >> 1) % span] = (uint8_t)fuzz_take(p, n, 1);
	}
	return img;
}

static inline bool fuzz_all_zero(const uint8_t *b, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* Up to 8 windows named by the input: a mapped run is never longer than
 * asked nor a backing run (image_map resolves those); a run mapped as
 * zeros reads as zeros; two reads of one range agree. */
static inline void fuzz_read_windows(struct image *img, const uint8_t *p, size_t n)
{
	uint8_t *a = core_alloc(img->ctx, FUZZ_WINDOW_MAX, 64);
	uint8_t *b = core_alloc(img->ctx, FUZZ_WINDOW_MAX, 64);
	FUZZ_CHECK(a && b);
	for (int w = 0; w < 8 && n >= 6 && img->size > 0; w++) {
		uint64_t off = fuzz_take(&p, &n, 4) % img->size;
		uint64_t len = fuzz_take(&p, &n, 2) % FUZZ_WINDOW_MAX + 1;
		if (len > img->size - off)
			len = img->size - off;
		struct extent ext;
		struct image *owner;
		int64_t r = image_map(img, off, len, &ext, &owner);
		FUZZ_CHECK(r < 0 || (r > 0 && (uint64_t)r <= len));
		FUZZ_CHECK(r < 0 || ext.kind != EXT_BACKING);
		if (r > 0 && ext.kind == EXT_ZERO && image_read(img, off, a, (uint64_t)r) == 0)
			FUZZ_CHECK(fuzz_all_zero(a, (uint64_t)r));
		if (image_read(img, off, a, len) == 0 && image_read(img, off, b, len) == 0)
			FUZZ_CHECK(memcmp(a, b, len) == 0);
	}
	core_free(img->ctx, a);
	core_free(img->ctx, b);
}

/* For disks of 1 to max bytes: dd's path from in into a new image of fmt
 * on m's device 0, read back through cordon's reader as fmt: the same
 * disk, zeros past in's end (formats round sizes up), and the file within
 * the host's cap. */
static inline void fuzz_round_trip(struct memdevs *m, struct core_ctx *ctx, struct image *in,
				   const char *fmt, uint64_t max)
{
	if (in->size == 0 || in->size > max)
		return;
	struct image_writer w;
	struct writer_opts o = { .size = in->size, .zeroed = true, .min_sparse = 512 };
	if (writer_open(ctx, fmt, 0, &o, &w) != 0)
		return;
	struct copy_opts co = { .host_copy = true, .zero_unit = w.zero_unit };
	struct copy_failure side;
	if (copy_range(ctx, in, 0, in->size, &w, 0, &co, &side) != 0) {
		w.ops->abort(&w);
		return;
	}
	FUZZ_CHECK(w.ops->finish(&w) == 0);
	FUZZ_CHECK(m->dev[0].size <= output_cap(fmt, w.size));
	uint32_t dev = memdevs_add_input(m, m->dev[0].data, m->dev[0].size);
	struct image out;
	FUZZ_CHECK(image_open(ctx, dev, fmt, "out.img", &out) == 0);
	FUZZ_CHECK(out.size >= in->size);
	uint8_t *a = core_alloc(ctx, FUZZ_WINDOW_MAX, 64), *b = core_alloc(ctx, FUZZ_WINDOW_MAX, 64);
	FUZZ_CHECK(a && b);
	for (uint64_t off = 0; off < out.size; off += FUZZ_WINDOW_MAX) {
		uint64_t len = out.size - off < FUZZ_WINDOW_MAX ? out.size - off : FUZZ_WINDOW_MAX;
		FUZZ_CHECK(image_read(&out, off, b, len) == 0);
		if (off >= in->size) {
			FUZZ_CHECK(fuzz_all_zero(b, len));
			continue;
		}
		uint64_t part = in->size - off < len ? in->size - off : len;
		FUZZ_CHECK(image_read(in, off, a, part) == 0);
		FUZZ_CHECK(memcmp(a, b, part) == 0 && fuzz_all_zero(b + part, len - part));
	}
	core_free(ctx, a);
	core_free(ctx, b);
	image_close(&out);
}

/* After a run: nothing the host would refuse was asked, all core memory was
 * given back, the recorded message is bounded. */
static inline void fuzz_check_run(const struct memdevs *m, const struct core_ctx *ctx)
{
	FUZZ_CHECK(m->violations == 0);
	FUZZ_CHECK(m->mem_used == 0);
	FUZZ_CHECK(strnlen(ctx->err, sizeof(ctx->err)) < sizeof(ctx->err));
}

#endif
