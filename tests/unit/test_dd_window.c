/* dd window arithmetic: qemu-img dd's rules, worked through by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/core/dd_window.h"
#include "../../src/core/errno_codes.h"

static struct dd_window win(uint64_t in_size, uint64_t bs, int have_count,
			    uint64_t count, int have_skip, uint64_t skip)
{
	struct dd_params p = { .bs = bs, .count = count, .skip = skip,
			       .have_count = have_count, .have_skip = have_skip };
	struct dd_window w;
	assert_int_equal(dd_window_compute(in_size, &p, &w), 0);
	return w;
}

static void whole_input(void **state)
{
	(void)state;
	struct dd_window w = win(1536, 512, 0, 0, 0, 0);
	assert_int_equal(w.start, 0);
	assert_int_equal(w.end, 1536);
	assert_int_equal(w.out_size, 1536);
	assert_false(w.skip_past_end);
}

static void count_is_absolute_not_relative_to_skip(void **state)
{
	(void)state;
	/* count=3 skip=1 bs=512 on 4 KiB: bytes 512..1536, not 512..2048. */
	struct dd_window w = win(4096, 512, 1, 3, 1, 1);
	assert_int_equal(w.start, 512);
	assert_int_equal(w.end, 1536);
	assert_int_equal(w.out_size, 1024);
}

static void count_past_end_is_ignored(void **state)
{
	(void)state;
	struct dd_window w = win(1536, 1024, 1, 5, 0, 0);
	assert_int_equal(w.end, 1536);
}

static void count_zero_gives_empty_output(void **state)
{
	(void)state;
	struct dd_window w = win(1536, 512, 1, 0, 0, 0);
	assert_int_equal(w.end, 0);
	assert_int_equal(w.out_size, 0);
}

static void unaligned_bs_rounds_output_to_512(void **state)
{
	(void)state;
	struct dd_window w = win(4096, 777, 1, 3, 0, 0);
	assert_int_equal(w.end, 2331);
	assert_int_equal(w.out_size, 2560);
	w = win(4096, 777, 1, 3, 1, 1);
	assert_int_equal(w.start, 777);
	assert_int_equal(w.out_size, 2048); /* 2331 - 777 = 1554, rounded up */
}

static void skip_at_end_is_empty_without_warning(void **state)
{
	(void)state;
	struct dd_window w = win(1536, 512, 0, 0, 1, 3);
	assert_int_equal(w.start, 1536);
	assert_int_equal(w.out_size, 0);
	assert_false(w.skip_past_end);
}

static void skip_past_end_warns(void **state)
{
	(void)state;
	struct dd_window w = win(1536, 512, 0, 0, 1, 4);
	assert_true(w.skip_past_end);
	assert_int_equal(w.out_size, 0);
	/* past the end that count makes, though inside the input */
	w = win(8192, 512, 1, 2, 1, 3);
	assert_true(w.skip_past_end);
	assert_int_equal(w.start, w.end);
}

static void overflowing_products(void **state)
{
	(void)state;
	/* count*bs overflows int64: count is ignored. */
	struct dd_window w = win(1536, 2147483647, 1, 9223372036854775807ull, 0, 0);
	assert_int_equal(w.end, 1536);
	/* skip*bs overflows: past the end. */
	w = win(1536, 2147483647, 0, 0, 1, 9223372036854775807ull);
	assert_true(w.skip_past_end);
	assert_int_equal(w.out_size, 0);
}

static void parameters_outside_cli_range_are_refused(void **state)
{
	(void)state;
	struct dd_window w;
	struct dd_params p = { .bs = 0 };
	assert_int_equal(dd_window_compute(1, &p, &w), -CD_EINVAL);
	p.bs = 2147483648ull;
	assert_int_equal(dd_window_compute(1, &p, &w), -CD_EINVAL);
	p.bs = 512;
	p.have_count = 1;
	p.count = 1ull << 63;
	assert_int_equal(dd_window_compute(1, &p, &w), -CD_EINVAL);
	p.have_count = 0;
	assert_int_equal(dd_window_compute(1ull << 63, &p, &w), -CD_EFBIG);
}

/* Proxmox's osize= and isize= (docs/dd.md), worked through by hand. */
static struct dd_window win_pve(uint64_t in_size, uint64_t bs, int64_t skip, int64_t osize,
				int64_t isize)
{
	struct dd_params p = { .bs = bs, .skip = skip > 0 ? (uint64_t)skip : 0,
			       .osize = osize > 0 ? (uint64_t)osize : 0,
			       .isize = isize > 0 ? (uint64_t)isize : 0,
			       .have_skip = skip >= 0, .have_osize = osize >= 0,
			       .have_isize = isize >= 0 };
	struct dd_window w;
	assert_int_equal(dd_window_compute(in_size, &p, &w), 0);
	return w;
}

static void osize_is_the_output_whatever_skip_and_count(void **state)
{
	(void)state;
	/* osize=2K skip=1 on 4 KiB: input [512, 2048) into a 2 KiB output. */
	struct dd_window w = win_pve(4096, 512, 1, 2048, -1);
	assert_int_equal(w.start, 512);
	assert_int_equal(w.end, 2048);
	assert_int_equal(w.out_size, 2048);
	assert_int_equal(dd_window_failure(&w, 512, 4096, w.out_size), DD_FAIL_NONE);
	/* osize=1000: a sector-rounded output, as raw creates it. */
	w = win_pve(4096, 512, -1, 1000, -1);
	assert_int_equal(w.end, 1000);
	assert_int_equal(w.out_size, 1024);
	/* osize past the input: the block crossing its end fails reading. */
	w = win_pve(4096, 512, -1, 8192, -1);
	assert_int_equal(dd_window_failure(&w, 512, 4096, w.out_size), DD_FAIL_READ);
	/* skip past osize warns; reading starts at osize. */
	w = win_pve(4096, 512, 5, 2048, -1);
	assert_true(w.skip_past_end);
	assert_int_equal(w.start, 2048);
	assert_int_equal(w.end, 2048);
	assert_int_equal(w.out_size, 2048);
}

static void isize_moves_where_reading_stops(void **state)
{
	(void)state;
	/* isize=2K on 4 KiB: the output keeps the input's size, half read. */
	struct dd_window w = win_pve(4096, 512, -1, -1, 2048);
	assert_int_equal(w.end, 2048);
	assert_int_equal(w.out_size, 4096);
	/* isize=0 is no bound. */
	w = win_pve(4096, 512, -1, -1, 0);
	assert_int_equal(w.end, 4096);
	/* isize=3K osize=1K: the third block is past the output. */
	w = win_pve(4096, 512, -1, 1024, 3072);
	assert_int_equal(dd_window_failure(&w, 512, 4096, w.out_size), DD_FAIL_WRITE);
	/* Past both ends: the block that first passes either fails, and
	 * a block is read before it is written (isize=5K skip=9: reading
	 * from 4 KiB on fails at once). */
	w = win_pve(4096, 512, 9, -1, 5120);
	assert_int_equal(w.start, 4096);
	assert_int_equal(dd_window_failure(&w, 512, 4096, w.out_size), DD_FAIL_READ);
	/* bs=1000 osize=5000 skip=1: blocks [1000,2000) .. [4000,5000); the
	 * last passes the 4 KiB input before the 5 KiB output. */
	w = win_pve(4096, 1000, 1, 5000, -1);
	assert_int_equal(dd_window_failure(&w, 1000, 4096, w.out_size), DD_FAIL_READ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_input),
		cmocka_unit_test(count_is_absolute_not_relative_to_skip),
		cmocka_unit_test(count_past_end_is_ignored),
		cmocka_unit_test(count_zero_gives_empty_output),
		cmocka_unit_test(unaligned_bs_rounds_output_to_512),
		cmocka_unit_test(skip_at_end_is_empty_without_warning),
		cmocka_unit_test(skip_past_end_warns),
		cmocka_unit_test(overflowing_products),
		cmocka_unit_test(parameters_outside_cli_range_are_refused),
		cmocka_unit_test(osize_is_the_output_whatever_skip_and_count),
		cmocka_unit_test(isize_moves_where_reading_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
