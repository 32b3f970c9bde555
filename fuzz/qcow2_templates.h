/*
 * Valid qcow2 images for the fuzz targets, built once in memory: small
 * clusters, every kind of entry (data, compressed with zlib or zstd, zero,
 * unallocated over a backing file), so that mutations start from deep
 * inside the format rather than at the magic.
 */
#ifndef CORDON_FUZZ_QCOW2_TEMPLATES_H
#define CORDON_FUZZ_QCOW2_TEMPLATES_H

#include <zlib.h>
#include <zstd.h>

#include "../tests/unit/qcow2_build.h"

/* The byte at virtual offset v of every template's active layer (where it
 * is not a zero cluster). */
static inline uint8_t tpl_pattern(uint64_t v)
{
	return (uint8_t)((v * 131 + v / 4096) & 0xff);
}

#define TPL_BACKING_NAME "b.raw"

static inline size_t tpl_deflate(const uint8_t *in, size_t len, uint8_t *out,
				 size_t cap)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, 6, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	if (deflate(&s, Z_FINISH) != Z_STREAM_END)
		abort();
	deflateEnd(&s);
	return cap - s.avail_out;
}

/* Kind of virtual cluster c: 0 data, 1 compressed, 2 zero, 3 unallocated. */
static inline int tpl_kind(uint64_t c)
{
	static const int kinds[] = { 0, 1, 2, 3, 0, 1, 3 };
	return kinds[c % 7];
}

/*
 * A template: clusters of 1 << bits bytes, `clusters` of them, compression
 * type ctype, extended L2 entries (all-or-nothing bitmaps) when extl2.
 */
static inline void tpl_build(struct qb *b, uint32_t bits, uint64_t clusters,
			     uint8_t ctype, bool extl2)
{
	uint64_t cs = 1ull << bits;
	uint8_t *data = malloc(cs), *comp = malloc(2 * cs + 64);
	qb_init(b, 3, bits, clusters * cs, extl2);
	b->ctype = ctype;
	b->backing = TPL_BACKING_NAME;
	b->backing_fmt = "raw";
	for (uint64_t c = 0; c < clusters; c++) {
		for (uint64_t i = 0; i < cs; i++)
			data[i] = tpl_pattern(c * cs + i);
		int kind = tpl_kind(c);
		if (kind == 0) {
			qb_data(b, c, data, 0xffffffffull);
		} else if (kind == 1) {
			size_t n = ctype ? ZSTD_compress(comp, 2 * cs + 64, data, cs, 1)
					 : tpl_deflate(data, cs, comp, 2 * cs + 64);
			if (ZSTD_isError(n))
				abort();
			qb_compressed(b, c, comp, n);
		} else if (kind == 2) {
			qb_set(b, c, extl2 ? 0 : 1, extl2 ? 0xffffffffull << 32 : 0);
		}
	}
	qb_finish(b);
	free(data);
	free(comp);
}

/* The backing file: the pattern, shorter than the overlay. */
static inline uint8_t *tpl_backing(uint64_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	for (uint64_t i = 0; i < len; i++)
		p[i] = tpl_pattern(i);
	return p;
}

#endif
