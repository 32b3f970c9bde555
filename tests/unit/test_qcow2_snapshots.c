/*
 * The snapshot table at open (src/core/qcow2/qcow2_snapshot.c): qemu's
 * limits on extra data per entry and on the whole table, with the hint
 * qemu prints under each error, and entries past end of file as zeros.
 * The integration tests hold the same cases against qemu-img
 * (test_qcow2_open_parity.py); the 64 MiB table is cheap only here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/core/qcow2/qcow2.h"
#include "memdev.h"
#include "qcow2_build.h"

#define CS 65536u

struct fixture {
	struct memdevs m;
	struct core_ctx ctx;
	struct image img;
};

/* A 1 MiB image with n snapshot entries at the table; each names id and
 * name of the sizes given, with `extra` bytes of extra data. */
static struct qb image(uint32_t n, uint16_t id_len, uint16_t name_len, uint32_t extra,
		       uint32_t written)
{
	struct qb b;
	qb_init(&b, 3, 16, 1 << 20, false);
	uint64_t stride = (40u + extra + id_len + name_len + 7) & ~7u;
	uint64_t table = qb_append(&b, written * stride + CS, CS);
	for (uint32_t i = 0; i < written; i++) {
		uint8_t *e = b.buf + table + i * stride;
		e[12] = (uint8_t)(id_len >> 8), e[13] = (uint8_t)id_len;
		e[14] = (uint8_t)(name_len >> 8), e[15] = (uint8_t)name_len;
		qb_put32(e + 36, extra);
	}
	qb_finish(&b);
	qb_put32(b.buf + 60, n);
	qb_put64(b.buf + 64, table);
	return b;
}

static int open_it(struct fixture *f, struct qb *b)
{
	memdevs_init(&f->m);
	uint32_t dev = memdevs_add_input(&f->m, b->buf, b->len);
	core_ctx_init(&f->ctx, &f->m.env);
	int ret = image_open(&f->ctx, dev, "", "t.qcow2", &f->img);
	if (ret == 0)
		image_close(&f->img);
	assert_int_equal(f->m.violations, 0);
	assert_int_equal(f->m.mem_used, 0);
	memdevs_free(&f->m);
	free(b->buf);
	return ret;
}

static void a_normal_table_opens(void **state)
{
	(void)state;
	struct fixture f;
	struct qb b = image(3, 1, 5, 24, 3);
	assert_int_equal(open_it(&f, &b), 0);
	/* 65536 entries, all past end of file but the first: zeros, small */
	b = image(65536, 1, 5, 24, 1);
	assert_int_equal(open_it(&f, &b), 0);
}

static void too_much_extra_data(void **state)
{
	(void)state;
	struct fixture f;
	struct qb b = image(2, 1, 1, 1025, 1);
	assert_int_equal(open_it(&f, &b), -CD_EFBIG);
	assert_string_equal(f.ctx.err, "Could not open 't.qcow2': Too much extra metadata "
			    "in snapshot table entry 0");
	assert_string_equal(f.ctx.hint, "You can force-remove this extra metadata with "
			    "qemu-img check -r all");
	b = image(2, 1, 1, 1024, 2);
	assert_int_equal(open_it(&f, &b), 0);
}

/* 512 entries of the longest names pass 64 MiB at entry 511. */
static void a_table_over_64_mib(void **state)
{
	(void)state;
	struct fixture f;
	struct qb b = image(520, 65535, 65535, 0, 520);
	assert_int_equal(open_it(&f, &b), -CD_EFBIG);
	assert_string_equal(f.ctx.err, "Could not open 't.qcow2': Snapshot table is too big");
	assert_string_equal(f.ctx.hint, "You can force-remove all 9 overhanging snapshots "
			    "with qemu-img check -r all");
	b = image(511, 65535, 65535, 0, 511);
	assert_int_equal(open_it(&f, &b), 0);
}

/* qemu's reads stop at BDRV_MAX_LENGTH (2^63 - 2^30): -EIO there. */
static void a_table_at_the_end_of_the_offsets(void **state)
{
	(void)state;
	struct fixture f;
	struct qb b = image(1, 0, 0, 0, 0);
	qb_put64(b.buf + 64, ((uint64_t)INT64_MAX & ~((1ull << 30) - 1)) - 65536);
	qb_put32(b.buf + 60, 1);
	assert_int_equal(open_it(&f, &b), 0); /* zeros, well inside */
	b = image(1, 0, 0, 0, 0);
	qb_put64(b.buf + 64, (uint64_t)INT64_MAX & ~((1ull << 30) - 1));
	assert_int_equal(open_it(&f, &b), -CD_EIO);
	assert_string_equal(f.ctx.err, "Could not open 't.qcow2': Failed to read snapshot "
			    "table: Input/output error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_normal_table_opens),
		cmocka_unit_test(too_much_extra_data),
		cmocka_unit_test(a_table_over_64_mib),
		cmocka_unit_test(a_table_at_the_end_of_the_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
