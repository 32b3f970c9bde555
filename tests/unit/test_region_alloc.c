/* The sandbox allocator: bounded, aligned, reusable after free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/guest/region_alloc.h"

#define LEN (1u << 20)

static void stays_inside_and_aligned(void **state)
{
	(void)state;
	uint8_t *mem = malloc(LEN);
	struct region_alloc a;
	region_alloc_init(&a, mem + 3, LEN - 3); /* unaligned base */
	void *p[64];
	size_t n = 0;
	for (size_t i = 0; i < 64; i++) {
		size_t align = (size_t)1 << (i % 13);
		size_t sz = 1 + (i * 977) % 9000;
		p[i] = region_alloc(&a, sz, align);
		if (!p[i])
			break;
		n++;
		assert_int_equal((uintptr_t)p[i] % (align < 64 ? 64 : align), 0);
		assert_true((uint8_t *)p[i] >= mem + 3 && (uint8_t *)p[i] + sz <= mem + LEN);
		memset(p[i], 0xa5, sz); /* ASan would catch a block overlapping the header */
	}
	assert_int_equal(n, 64);
	for (size_t i = 0; i < n; i += 2)
		region_free(&a, p[i]);
	for (size_t i = 1; i < n; i += 2)
		region_free(&a, p[i]);
	assert_int_equal(a.in_use, 0);
	/* Everything coalesced back: one block as large as the region fits. */
	void *big = region_alloc(&a, LEN - 4096, 64);
	assert_non_null(big);
	region_free(&a, big);
	free(mem);
}

static void refuses_what_does_not_fit(void **state)
{
	(void)state;
	uint8_t *mem = malloc(LEN);
	struct region_alloc a;
	region_alloc_init(&a, mem, LEN);
	assert_null(region_alloc(&a, LEN, 64));
	assert_null(region_alloc(&a, SIZE_MAX, 64));
	assert_null(region_alloc(&a, SIZE_MAX - 10, 64));
	assert_null(region_alloc(&a, 16, 3));       /* not a power of two */
	assert_null(region_alloc(&a, 16, 1u << 30)); /* absurd alignment */
	void *p = region_alloc(&a, LEN / 2, 4096);
	assert_non_null(p);
	assert_null(region_alloc(&a, LEN / 2, 4096));
	region_free(&a, p);
	region_free(&a, p);              /* a double free is ignored */
	region_free(&a, mem + LEN + 64); /* so is a foreign pointer */
	assert_int_equal(a.in_use, 0);
	free(mem);
}

static void tiny_region_is_empty(void **state)
{
	(void)state;
	uint8_t mem[100];
	struct region_alloc a;
	region_alloc_init(&a, mem, sizeof(mem));
	assert_null(region_alloc(&a, 1, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stays_inside_and_aligned),
		cmocka_unit_test(refuses_what_does_not_fit),
		cmocka_unit_test(tiny_region_is_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
