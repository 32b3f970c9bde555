/* qcow2 mapping: runs, merging, zero/unallocated/backing, subclusters, the
 * L2 cache, and dd through core against in-memory images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/core/qcow2/qcow2.h"
#include "memdev.h"
#include "qcow2_build.h"
#include "test_job.h"

#define CS 4096u

static void fill(uint8_t *p, uint64_t n, uint8_t v)
{
	memset(p, v, n);
}

struct fixture {
	struct memdevs m;
	struct core_ctx ctx;
	struct image img;
	uint32_t dev;
};

static void open_image(struct fixture *f, struct qb *b)
{
	memdevs_init(&f->m);
	f->dev = memdevs_add_input(&f->m, b->buf, b->len);
	core_ctx_init(&f->ctx, &f->m.env);
	int ret = image_open(&f->ctx, f->dev, "", "t.qcow2", &f->img);
	if (ret < 0)
		fail_msg("open: %s", f->ctx.err);
	assert_ptr_equal(f->img.ops, &format_qcow2);
}

static void close_image(struct fixture *f)
{
	image_close(&f->img);
	assert_int_equal(f->m.violations, 0);
	assert_int_equal(f->m.mem_used, 0);
	memdevs_free(&f->m);
}

static void contiguous_data_is_one_run(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[CS];
	qb_init(&b, 3, 12, 64 * CS, false);
	qb_slot(&b, 0);
	for (int i = 0; i < 8; i++) {
		fill(data, CS, (uint8_t)i);
		qb_data(&b, (uint64_t)i, data, 0);
	}
	qb_set(&b, 8, 1, 0);           /* zero cluster */
	qb_set(&b, 9, 1, 0);
	qb_finish(&b);
	struct fixture f;
	open_image(&f, &b);
	struct extent ext;
	struct image *owner;
	int64_t n = image_map(&f.img, 100, 64 * CS - 100, &ext, &owner);
	assert_int_equal(n, 8 * CS - 100);
	assert_int_equal(ext.kind, EXT_RAW);
	assert_int_equal(ext.dev, f.dev);
	n = image_map(&f.img, 8 * CS, 56 * CS, &ext, &owner);
	assert_int_equal(n, 56 * CS); /* zero clusters and unallocated merge */
	assert_int_equal(ext.kind, EXT_ZERO);
	uint8_t *out = core_alloc(&f.ctx, 3 * CS, 64); /* as dd's buffer */
	assert_int_equal(image_read(&f.img, 6 * CS, out, 3 * CS), 0);
	assert_int_equal(out[0], 6);
	assert_int_equal(out[CS], 7);
	assert_int_equal(out[2 * CS], 0);
	core_free(&f.ctx, out);
	close_image(&f);
	free(b.buf);
}

static void unallocated_reads_backing(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[CS];
	qb_init(&b, 3, 12, 8 * CS, false);
	fill(data, CS, 0xaa);
	qb_data(&b, 1, data, 0);
	qb_set(&b, 2, 1, 0); /* zero: hides the backing file */
	b.backing = "base.raw";
	b.backing_fmt = "raw";
	qb_finish(&b);
	uint8_t base[5 * CS + 100]; /* shorter than the overlay */
	fill(base, sizeof(base), 0xbb);
	struct fixture f;
	memdevs_init(&f.m);
	memdevs_add_named(&f.m, "base.raw", base, sizeof(base));
	f.dev = memdevs_add_input(&f.m, b.buf, b.len);
	core_ctx_init(&f.ctx, &f.m.env);
	assert_int_equal(image_open(&f.ctx, f.dev, "", "t", &f.img), 0);
	assert_non_null(f.img.backing);
	uint8_t *out = core_alloc(&f.ctx, 8 * CS, 64);
	assert_int_equal(image_read(&f.img, 0, out, 8 * CS), 0);
	assert_int_equal(out[0], 0xbb);
	assert_int_equal(out[CS], 0xaa);
	assert_int_equal(out[2 * CS], 0);
	assert_int_equal(out[3 * CS], 0xbb);
	assert_int_equal(out[5 * CS + 99], 0xbb);
	assert_int_equal(out[5 * CS + 100], 0); /* past the backing file: zeros */
	assert_int_equal(out[8 * CS - 1], 0);
	core_free(&f.ctx, out);
	close_image(&f);
	free(b.buf);
}

static void missing_backing_is_qemu_error(void **state)
{
	(void)state;
	struct qb b;
	qb_init(&b, 3, 12, 8 * CS, false);
	b.backing = "gone.raw";
	qb_finish(&b);
	struct memdevs m;
	memdevs_init(&m);
	uint32_t dev = memdevs_add_input(&m, b.buf, b.len);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image img;
	/* The host's refusal: its reason is a note that completes the message. */
	assert_int_equal(image_open(&ctx, dev, "", "ov.qcow2", &img), -CD_EACCES);
	assert_string_equal(ctx.err, "Could not open 'ov.qcow2': Could not open backing "
			    "file: ");
	assert_int_equal(ctx.err_note, 1);
	assert_string_equal(m.notes[0], "no such file in memdev");
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
	free(b.buf);
}

static void subclusters(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[16384];
	qb_init(&b, 3, 14, 4 * 16384, true); /* 512-byte subclusters */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i / 512 + 1);
	/* sc 0-1 allocated, 2 zero, 3.. unallocated, 31 allocated */
	qb_data(&b, 0, data, 0x3ull | (0x4ull << 32) | (1ull << 31));
	qb_set(&b, 1, 0, 0xffffffffull << 32); /* all zero, no cluster */
	qb_finish(&b);
	struct fixture f;
	open_image(&f, &b);
	struct extent ext;
	struct image *owner;
	assert_int_equal(image_map(&f.img, 0, 16384, &ext, &owner), 1024);
	assert_int_equal(ext.kind, EXT_RAW);
	assert_int_equal(image_map(&f.img, 1024, 16384, &ext, &owner), 512 + 28 * 512);
	assert_int_equal(ext.kind, EXT_ZERO);
	assert_int_equal(image_map(&f.img, 31 * 512, 512, &ext, &owner), 512);
	assert_int_equal(ext.kind, EXT_RAW);
	uint8_t *out = core_alloc(&f.ctx, 16384, 64);
	assert_int_equal(image_read(&f.img, 0, out, 16384), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[600], 2);
	assert_int_equal(out[1100], 0);
	assert_int_equal(out[31 * 512], 32);
	core_free(&f.ctx, out);
	close_image(&f);
	free(b.buf);
}

static void invalid_subcluster_bitmap_is_corrupt(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[16384] = { 0 };
	qb_init(&b, 3, 14, 16384, true);
	qb_data(&b, 0, data, 1ull | (1ull << 32)); /* allocated and zero */
	qb_finish(&b);
	struct fixture f;
	open_image(&f, &b);
	struct extent ext;
	struct image *owner;
	assert_int_equal(image_map(&f.img, 0, 512, &ext, &owner), -CD_EIO);
	assert_non_null(strstr(f.ctx.err, "qcow2: Image is corrupt: Invalid cluster entry "
				"found (L2 offset: 0x"));
	close_image(&f);
	free(b.buf);
}

static void each_l2_table_is_read_once(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[512];
	/* 512-byte clusters: an L2 table covers 32 KiB; 40 tables. */
	qb_init(&b, 3, 9, 40 * 64 * 512, false);
	for (uint64_t c = 0; c < 40 * 64; c += 3) {
		fill(data, sizeof(data), (uint8_t)c);
		qb_data(&b, c, data, 0);
	}
	qb_finish(&b);
	struct fixture f;
	open_image(&f, &b);
	struct extent ext;
	struct image *owner;
	for (uint64_t off = 0; off < f.img.size;) {
		int64_t n = image_map(&f.img, off, 777, &ext, &owner);
		assert_true(n > 0);
		off += (uint64_t)n;
	}
	struct qcow2 *q = f.img.priv;
	assert_int_equal(q->cache.loads, 40);
	close_image(&f);
	free(b.buf);
}

static void v2_zero_flag_is_corrupt(void **state)
{
	(void)state;
	struct qb b;
	qb_init(&b, 2, 12, 4 * CS, false);
	qb_set(&b, 1, 1, 0);
	qb_finish(&b);
	struct fixture f;
	open_image(&f, &b);
	uint8_t *out = core_alloc(&f.ctx, CS, 64);
	assert_int_equal(image_read(&f.img, CS, out, CS), -CD_EIO);
	assert_non_null(strstr(f.ctx.err, "Zero cluster entry found in pre-v3 image"));
	core_free(&f.ctx, out);
	close_image(&f);
	free(b.buf);
}

static void dd_copies_data_host_side(void **state)
{
	(void)state;
	struct qb b;
	uint8_t data[CS];
	qb_init(&b, 3, 12, 16 * CS, false);
	for (int i = 0; i < 4; i++) {
		fill(data, CS, (uint8_t)(0x10 + i));
		qb_data(&b, (uint64_t)(4 + i), data, 0);
	}
	qb_finish(&b);
	struct memdevs m;
	memdevs_init(&m);
	memdevs_add_input(&m, b.buf, b.len);
	struct cordon_job job = test_dd_job("raw", 512, 0, 0, 0, 0);
	m.dev[TEST_IN].display = "in.qcow2";
	assert_int_equal(core_run(&m.env, &job), 0);
	assert_int_equal(m.dev[0].size, 16 * CS);
	assert_int_equal(m.copied, 4 * CS);
	assert_int_equal(m.dev[0].data[4 * CS], 0x10);
	assert_int_equal(m.dev[0].data[8 * CS - 1], 0x13);
	assert_int_equal(m.dev[0].data[8 * CS], 0);
	assert_int_equal(m.violations, 0);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
	free(b.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(contiguous_data_is_one_run),
		cmocka_unit_test(unallocated_reads_backing),
		cmocka_unit_test(missing_backing_is_qemu_error),
		cmocka_unit_test(subclusters),
		cmocka_unit_test(invalid_subcluster_bitmap_is_corrupt),
		cmocka_unit_test(each_l2_table_is_read_once),
		cmocka_unit_test(v2_zero_flag_is_corrupt),
		cmocka_unit_test(dd_copies_data_host_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
