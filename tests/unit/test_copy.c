/*
 * The copy engine (src/core/copy.c) against memdev and a writer that
 * records its calls: holes become zero(), raw runs host-side copies when
 * allowed, zero detection turns aligned zero units of data into zero(),
 * runs served from the base depth are left out, progress moves forward,
 * and a failure says which side it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/copy.h"
#include "memdev.h"
#include "test_job.h"

#define BLK 4096u
#define MAX_CALLS 64

struct call {
	char op; /* 'w' write, 'z' zero, 'c' copy */
	uint64_t off, len;
};

struct rec {
	struct call calls[MAX_CALLS];
	int n;
	int fail_write; /* -errno for the next write */
};

static struct rec *rec_of(struct image_writer *w)
{
	return w->priv;
}

static int log_call(struct image_writer *w, char op, uint64_t off, uint64_t len)
{
	struct rec *r = rec_of(w);
	if (op == 'w' && r->fail_write)
		return r->fail_write;
	if (r->n < MAX_CALLS)
		r->calls[r->n++] = (struct call){ op, off, len };
	return 0;
}

static int rw(struct image_writer *w, uint64_t off, const void *buf, uint64_t len)
{
	(void)buf;
	return log_call(w, 'w', off, len);
}

static int rz(struct image_writer *w, uint64_t off, uint64_t len)
{
	return log_call(w, 'z', off, len);
}

static int rc(struct image_writer *w, uint32_t src, uint64_t src_off, uint64_t off,
	      uint64_t len, bool skip_holes)
{
	(void)src, (void)src_off;
	return log_call(w, skip_holes ? 's' : 'c', off, len);
}

static const struct writer_ops recorder = { .write = rw, .zero = rz, .copy = rc };

struct fx {
	struct memdevs m;
	struct core_ctx ctx;
	struct image in;
	struct image_writer out;
	struct rec rec;
	uint8_t *data;
};

/* 16 blocks: data, hole, data with a zero block inside, hole... */
static void fx_init(struct fx *f)
{
	memdevs_init(&f->m);
	core_ctx_init(&f->ctx, &f->m.env);
	f->data = calloc(16, BLK);
	for (int b = 0; b < 16; b++)
		if (b % 4 == 0 || b % 4 == 1)
			memset(f->data + b * BLK, 0x40 + b, BLK);
	memset(f->data + 5 * BLK, 0, BLK); /* a zero block that is data */
	uint32_t dev = memdevs_add_input(&f->m, f->data, 16 * BLK);
	memdevs_punch(&f->m, dev, 2 * BLK, 2 * BLK);
	memdevs_punch(&f->m, dev, 6 * BLK, 2 * BLK);
	memdevs_punch(&f->m, dev, 10 * BLK, 2 * BLK);
	memdevs_punch(&f->m, dev, 14 * BLK, 2 * BLK);
	assert_int_equal(image_open(&f->ctx, dev, "raw", "in.raw", &f->in), 0);
	f->rec = (struct rec){ 0 };
	f->out = (struct image_writer){ .ops = &recorder, .ctx = &f->ctx, .sparse = true,
					.priv = &f->rec };
}

static void fx_free(struct fx *f)
{
	image_close(&f->in);
	assert_int_equal(f->m.mem_used, 0);
	assert_int_equal(f->m.violations, 0);
	memdevs_free(&f->m);
	free(f->data);
}

static uint64_t total(const struct rec *r, char op)
{
	uint64_t n = 0;
	for (int i = 0; i < r->n; i++)
		n += r->calls[i].op == op ? r->calls[i].len : 0;
	return n;
}

static void holes_zero_and_data_is_copied_on_the_host(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct copy_opts o = { .host_copy = true };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(total(&f.rec, 'c'), 8 * BLK);
	assert_int_equal(total(&f.rec, 'z'), 8 * BLK);
	assert_int_equal(total(&f.rec, 'w'), 0);
	/* In order, each byte of the range once. */
	uint64_t pos = 0;
	for (int i = 0; i < f.rec.n; i++) {
		assert_int_equal(f.rec.calls[i].off, pos);
		pos += f.rec.calls[i].len;
	}
	assert_int_equal(pos, 16 * BLK);
	/* The data/hole map took one EXTENTS call, not one per run. */
	assert_int_equal(f.m.calls[HC_OP_EXTENTS], 1);
	fx_free(&f);
}

static void without_host_copy_data_passes_through(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct copy_opts o = { .host_copy = false };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(total(&f.rec, 'w'), 8 * BLK); /* the zero block is data */
	assert_int_equal(total(&f.rec, 'z'), 8 * BLK);
	fx_free(&f);
}

/* A writer that must allocate everything (convert -S 0) gets the holes
 * written as zeros, never zero(). */
static void a_dense_writer_gets_holes_as_zeros(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.out.sparse = false;
	struct copy_opts o = { .host_copy = true };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(total(&f.rec, 'z'), 0);
	assert_int_equal(total(&f.rec, 'w'), 8 * BLK);
	assert_int_equal(total(&f.rec, 'c'), 8 * BLK);
	fx_free(&f);
}

/* step_max bounds each step, so progress comes at least that often. */
static uint64_t last_done;
static int n_reports;
static void count_report(void *ctx, uint64_t done)
{
	(void)ctx;
	assert_true(done - last_done <= BLK);
	last_done = done;
	n_reports++;
}

static void step_max_bounds_each_step(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	last_done = 0;
	n_reports = 0;
	struct copy_opts o = { .host_copy = true, .step_max = BLK, .progress = count_report };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(n_reports, 16);
	assert_int_equal(last_done, 16 * BLK);
	fx_free(&f);
}

/* With zero detection, the zero block of data is found; and reads of a raw
 * file coalesce across its holes, the detection finding them again. */
static void zero_detection_finds_zero_units(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct copy_opts o = { .host_copy = false, .zero_unit = 512 };
	struct copy_failure side = { 0 };
	/* the holes and the zero block: 9 blocks */
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(total(&f.rec, 'z'), 9 * BLK);
	assert_int_equal(total(&f.rec, 'w'), 7 * BLK);
	assert_int_equal(f.m.calls[HC_OP_READ], 1); /* one read across the holes */
	/* from an unaligned output offset: a partial unit at either end of a
	 * zero stretch counts as data, and every zero() is whole units */
	f.rec.n = 0;
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 100, &o, &side), 0);
	assert_int_equal(total(&f.rec, 'w') + total(&f.rec, 'z'), 16 * BLK);
	assert_true(total(&f.rec, 'z') >= 9 * BLK - 4 * 1024);
	for (int i = 0; i < f.rec.n; i++)
		if (f.rec.calls[i].op == 'z')
			assert_int_equal((f.rec.calls[i].off | f.rec.calls[i].len) % 512, 0);
	fx_free(&f);
}

static void the_base_depth_is_left_out(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.in.depth = 1; /* as if the image were the output's backing file */
	struct copy_opts o = { .host_copy = true, .base_depth = 1 };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(f.rec.n, 0);
	fx_free(&f);
}

static uint64_t seen[64];
static int n_seen;

static void note_progress(void *ctx, uint64_t done)
{
	(void)ctx;
	if (n_seen < 64)
		seen[n_seen++] = done;
}

static void progress_moves_forward_to_the_end(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	n_seen = 0;
	struct copy_opts o = { .host_copy = true, .progress = note_progress };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, BLK, 10 * BLK, &f.out, 0, &o, &side), 0);
	assert_true(n_seen > 1);
	for (int i = 1; i < n_seen; i++)
		assert_true(seen[i] > seen[i - 1]);
	assert_int_equal(seen[n_seen - 1], 10 * BLK);
	fx_free(&f);
}

static void failures_say_which_side(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct copy_opts o = { .host_copy = false };
	struct copy_failure side = { 0 };
	f.rec.fail_write = -CD_ENOSPC;
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side),
			 -CD_ENOSPC);
	assert_int_equal(side.side, COPY_WRITE);
	f.rec.fail_write = 0;
	f.m.fail_read = -CD_EIO;
	side = (struct copy_failure){ 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side),
			 -CD_EIO);
	assert_int_equal(side.side, COPY_READ);
	assert_int_equal(side.at, 0);
	/* Where: the input offset of the run that failed. */
	side = (struct copy_failure){ 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 4 * BLK, 12 * BLK, &f.out, 0, &o, &side),
			 -CD_EIO);
	assert_int_equal(side.side, COPY_READ);
	assert_int_equal(side.at, 4 * BLK);
	f.m.fail_read = 0;
	fx_free(&f);
}

/* A writer whose copy() may be given holes: the whole scattered range is
 * one host-side copy. */
static void holes_join_the_copy_where_the_writer_allows(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.out.copy_skips_holes = true;
	struct copy_opts o = { .host_copy = true };
	struct copy_failure side = { 0 };
	assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(f.rec.n, 1);
	assert_int_equal(f.rec.calls[0].op, 's');
	assert_int_equal(f.rec.calls[0].off, 0);
	assert_int_equal(f.rec.calls[0].len, 16 * BLK);
	/* A range starting in a hole starts with zero() as before. */
	f.rec.n = 0;
	assert_int_equal(copy_range(&f.ctx, &f.in, 2 * BLK, 14 * BLK, &f.out, 0, &o, &side), 0);
	assert_int_equal(f.rec.calls[0].op, 'z');
	assert_int_equal(f.rec.calls[1].op, 's');
	assert_int_equal(f.rec.calls[1].len, 12 * BLK);
	fx_free(&f);
}

/* The raw writer end to end: on a fresh output the holes are skipped by
 * the host in one call; on an output that is not fresh they are written. */
static void the_raw_writer_copies_data_only_on_a_fresh_file(void **state)
{
	(void)state;
	for (int zeroed = 1; zeroed >= 0; zeroed--) {
		struct fx f;
		fx_init(&f);
		struct image_writer w;
		struct writer_opts wo = { .size = 16 * BLK, .zeroed = zeroed, .min_sparse = 512 };
		assert_int_equal(writer_open(&f.ctx, "raw", TEST_OUT, &wo, &w), 0);
		struct copy_opts o = { .host_copy = true };
		struct copy_failure side = { 0 };
		assert_int_equal(copy_range(&f.ctx, &f.in, 0, 16 * BLK, &w, 0, &o, &side), 0);
		assert_int_equal(w.ops->finish(&w), 0);
		const struct memdev *out = &f.m.dev[TEST_OUT];
		assert_int_equal(out->size, 16 * BLK);
		for (uint64_t b = 0; b < 16; b++) {
			bool hole = b % 4 >= 2;
			for (uint64_t i = 0; i < BLK; i += 997)
				assert_int_equal(out->data[b * BLK + i],
						 hole ? 0 : f.data[b * BLK + i]);
		}
		assert_int_equal(f.m.calls[HC_OP_COPY], zeroed ? 1 : 4);
		assert_int_equal(f.m.copied, 8 * BLK);
		fx_free(&f);
	}
}

/* A dense input of several bounce buffers through the raw writer: each
 * buffer is written behind while the next is read (memdev takes a write's
 * bytes only when the host would have to finish it, so a buffer refilled
 * too early shows in the output), nothing is left behind at the end, and a
 * write that fails names its own piece, whichever call was told. */
#define BEHIND_LEN (20u << 20)
static void writes_behind_the_next_read(void **state)
{
	(void)state;
	uint8_t *data = malloc(BEHIND_LEN);
	for (uint64_t i = 0; i < BEHIND_LEN; i++)
		data[i] = (uint8_t)(i / 4096 * 7 + i % 251 + 1);
	/* No failure (twice: the second in a sandbox with room for one
	 * buffer only, where each write waits for the last), then failures. */
	uint64_t fail_at[] = { UINT64_MAX, UINT64_MAX, 0, 8u << 20, 16u << 20 };
	for (size_t k = 0; k < sizeof(fail_at) / sizeof(fail_at[0]); k++) {
		struct memdevs m;
		memdevs_init(&m);
		if (k == 1)
			m.mem_cap = 6u << 20;
		struct core_ctx ctx;
		core_ctx_init(&ctx, &m.env);
		uint32_t dev = memdevs_add_input(&m, data, BEHIND_LEN);
		struct image in;
		assert_int_equal(image_open(&ctx, dev, "raw", "in.raw", &in), 0);
		struct image_writer w;
		struct writer_opts wo = { .size = BEHIND_LEN, .zeroed = true, .min_sparse = 512 };
		assert_int_equal(writer_open(&ctx, "raw", TEST_OUT, &wo, &w), 0);
		struct copy_opts o = { .zero_unit = 4096 };
		struct copy_failure side = { 0 };
		if (fail_at[k] != UINT64_MAX) {
			m.fail_behind = -CD_ENOSPC;
			m.fail_behind_off = fail_at[k];
			assert_int_equal(copy_range(&ctx, &in, 0, BEHIND_LEN, &w, 0, &o, &side),
					 -CD_ENOSPC);
			assert_int_equal(side.side, COPY_WRITE);
			assert_int_equal(side.at, fail_at[k]);
			w.ops->abort(&w);
		} else {
			assert_int_equal(copy_range(&ctx, &in, 0, BEHIND_LEN, &w, 0, &o, &side), 0);
			assert_int_equal(w.ops->finish(&w), 0);
			assert_int_equal(m.behind_writes, BEHIND_LEN / (4u << 20));
			assert_int_equal(m.dev[TEST_OUT].size, BEHIND_LEN);
			assert_memory_equal(m.dev[TEST_OUT].data, data, BEHIND_LEN);
		}
		assert_false(m.behind.pending);
		assert_int_equal(m.behind.err, 0); /* every failure was told */
		image_close(&in);
		assert_int_equal(m.mem_used, 0);
		assert_int_equal(m.violations, 0);
		memdevs_free(&m);
	}
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(holes_zero_and_data_is_copied_on_the_host),
		cmocka_unit_test(without_host_copy_data_passes_through),
		cmocka_unit_test(zero_detection_finds_zero_units),
		cmocka_unit_test(the_base_depth_is_left_out),
		cmocka_unit_test(progress_moves_forward_to_the_end),
		cmocka_unit_test(failures_say_which_side),
		cmocka_unit_test(a_dense_writer_gets_holes_as_zeros),
		cmocka_unit_test(step_max_bounds_each_step),
		cmocka_unit_test(holes_join_the_copy_where_the_writer_allows),
		cmocka_unit_test(the_raw_writer_copies_data_only_on_a_fresh_file),
		cmocka_unit_test(writes_behind_the_next_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
