/* Compressed qcow2 clusters (zlib raw deflate and zstd) and the decoders
 * behind src/core/compress.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "../../src/core/compress.h"
#include "../../src/core/qcow2/qcow2.h"
#include "memdev.h"
#include "qcow2_build.h"

#define CS 65536u

static size_t deflate_raw(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY), Z_OK);
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	size_t n = cap - s.avail_out;
	deflateEnd(&s);
	return n;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + i / 4096 + seed) & 0xff);
}

static void image_with(uint8_t ctype, struct qb *b, uint8_t *expect)
{
	static uint8_t data[CS], comp[2 * CS];
	qb_init(b, 3, 16, 4 * CS, false);
	b->ctype = ctype;
	for (unsigned c = 0; c < 3; c++) {
		pattern(data, CS, c);
		memcpy(expect + c * CS, data, CS);
		size_t n = ctype ? ZSTD_compress(comp, sizeof(comp), data, CS, 3)
				 : deflate_raw(data, CS, comp, sizeof(comp));
		assert_false(ctype && ZSTD_isError(n));
		qb_compressed(b, c, comp, n);
	}
	memset(expect + 3 * CS, 0, CS);
	qb_finish(b);
}

static void reads_both_types(void **state)
{
	(void)state;
	static uint8_t expect[4 * CS], out[4 * CS];
	for (uint8_t ctype = 0; ctype <= 1; ctype++) {
		struct qb b;
		image_with(ctype, &b, expect);
		struct memdevs m;
		memdevs_init(&m);
		/* Cut the file: the last compressed sector runs past its end. */
		uint32_t dev = memdevs_add_input(&m, b.buf, b.len);
		struct core_ctx ctx;
		core_ctx_init(&ctx, &m.env);
		struct image img;
		assert_int_equal(image_open(&ctx, dev, "", "c", &img), 0);
		struct extent ext;
		struct image *owner;
		assert_int_equal(image_map(&img, 10, 4 * CS, &ext, &owner), 3 * CS - 10);
		assert_int_equal(ext.kind, EXT_OTHER);
		assert_int_equal(image_read(&img, 0, out, sizeof(out)), 0);
		assert_memory_equal(out, expect, sizeof(out));
		/* Small pieces, out of order. */
		for (uint64_t off = 3 * CS - 777; off > 7777; off -= 7777) {
			assert_int_equal(image_read(&img, off, out, 777), 0);
			assert_memory_equal(out, expect + off, 777);
		}
		image_close(&img);
		assert_int_equal(m.mem_used, 0);
		assert_int_equal(m.violations, 0);
		memdevs_free(&m);
		free(b.buf);
	}
}

static void garbage_is_an_io_error(void **state)
{
	(void)state;
	struct qb b;
	static uint8_t expect[4 * CS], out[CS];
	image_with(0, &b, expect);
	/* Overwrite the first compressed stream. */
	uint64_t e = qb_get64(qb_slot(&b, 0));
	memset(b.buf + (e & ((1ull << 54) - 1)), 0xff, 64);
	struct memdevs m;
	memdevs_init(&m);
	uint32_t dev = memdevs_add_input(&m, b.buf, b.len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	assert_int_equal(image_open(&ctx, dev, "", "c", &img), 0);
	assert_int_equal(image_read(&img, 0, out, CS), -CD_EIO);
	assert_string_equal(ctx.err, ""); /* no message, as qemu */
	image_close(&img);
	memdevs_free(&m);
	free(b.buf);
}

static void offset_past_eof_is_corrupt(void **state)
{
	(void)state;
	struct qb b;
	static uint8_t expect[4 * CS], out[CS];
	image_with(1, &b, expect);
	qb_set(&b, 1, (1ull << 62) | 0x40000000ull, 0);
	struct memdevs m;
	memdevs_init(&m);
	uint32_t dev = memdevs_add_input(&m, b.buf, b.len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	assert_int_equal(image_open(&ctx, dev, "", "c", &img), 0);
	assert_int_equal(image_read(&img, CS, out, CS), -CD_EIO);
	assert_string_equal(ctx.err, "qcow2: Image is corrupt: compressed cluster at "
			    "0x40000000 lies past end of file");
	image_close(&img);
	memdevs_free(&m);
	free(b.buf);
}

static void decoders_follow_qemu(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	static uint8_t data[4096], comp[8192], out[4096];
	pattern(data, sizeof(data), 9);
	size_t n = deflate_raw(data, sizeof(data), comp, sizeof(comp));
	/* Trailing bytes after the stream are accepted. */
	assert_int_equal(cd_inflate_raw(&ctx, comp, n + 300, out, sizeof(out)), 0);
	assert_memory_equal(out, data, sizeof(data));
	/* Too little output is an error. */
	assert_int_equal(cd_inflate_raw(&ctx, comp, n / 2, out, sizeof(out)), -CD_EIO);
	/* zstd: two frames fill one buffer; a legacy magic is refused. */
	struct cd_zstd *z = NULL;
	size_t a = ZSTD_compress(comp, sizeof(comp), data, 1000, 1);
	size_t b2 = ZSTD_compress(comp + a, sizeof(comp) - a, data + 1000, 3096, 1);
	assert_int_equal(cd_zstd_decompress(&ctx, &z, comp, a + b2 + 100, out,
					    sizeof(out)), 0);
	assert_memory_equal(out, data, sizeof(data));
	comp[0] = 0x27; /* 0xFD2FB527: a v0.7 frame */
	assert_int_equal(cd_zstd_decompress(&ctx, &z, comp, a + b2, out, sizeof(out)),
			 -CD_EIO);
	assert_int_equal(cd_zstd_decompress(&ctx, &z, comp, 2, out, sizeof(out)), -CD_EIO);
	cd_zstd_free(&ctx, z);
	/* Out of memory is reported as such. */
	m.mem_cap = 64;
	assert_int_equal(cd_inflate_raw(&ctx, comp, n, out, sizeof(out)), -CD_ENOMEM);
	z = NULL;
	assert_int_equal(cd_zstd_decompress(&ctx, &z, comp, a, out, 1000), -CD_ENOMEM);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_both_types),
		cmocka_unit_test(garbage_is_an_io_error),
		cmocka_unit_test(offset_past_eof_is_corrupt),
		cmocka_unit_test(decoders_follow_qemu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
