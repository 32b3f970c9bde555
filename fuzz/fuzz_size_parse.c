/*
 * libFuzzer target for size_parse() (QEMU's qemu_strtosz()).  Beyond "no
 * crash, no UB", it checks the answer against a slow, independent
 * reference for inputs in a simple grammar:
 *
 *     [ \t]* [+]? [0-9]+ [bBkKmMgGtTpPeE]?      decimal, optional suffix
 *     0[xX] [0-9a-fA-F]+                         hex, no suffix
 *
 * and, for every input: the return is 0, -EINVAL or -ERANGE; the result is
 * written only on success; the hex warning needs an 'x'; the parse is
 * deterministic.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/size_parse.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

struct expect {
	int ret;
	uint64_t value;
};

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Digits of base from *p; false on overflow (then *p is past them all). */
static bool ref_digits(const char **p, unsigned base, uint64_t *v)
{
	bool ok = true;
	int d;

	*v = 0;
	for (; (d = digit_value(**p)) >= 0 && (unsigned)d < base; (*p)++)
		if (__builtin_mul_overflow(*v, base, v) ||
		    __builtin_add_overflow(*v, (uint64_t)d, v))
			ok = false;
	return ok;
}

/* Power of 1024 for a suffix letter; 0 if none. */
static unsigned ref_suffix_shift(char c)
{
	const char *letters = "bkmgtpe", *p;

	if (c == '\0')
		return 0;
	p = strchr(letters, c | 0x20);
	return p ? 10u * (unsigned)(p - letters) : 0;
}

/* Decimal grammar; false when s is outside it. */
static bool ref_decimal(const char *s, struct expect *e)
{
	const char *p = s;
	uint64_t v;
	bool fits;
	unsigned shift;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+')
		p++;
	if (digit_value(*p) < 0 || *p > '9')
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return false;
	fits = ref_digits(&p, 10, &v);
	if (*p != '\0' && (p[1] != '\0' || !strchr("bBkKmMgGtTpPeE", *p)))
		return false;
	shift = ref_suffix_shift(*p);
	if (!fits) {
		/* strtoull's ERANGE, unless characters remain */
		e->ret = *p ? -EINVAL : -ERANGE;
		return true;
	}
	e->ret = (shift && v > (UINT64_MAX >> shift)) ? -ERANGE : 0;
	e->value = v << shift;
	return true;
}

/* Hex grammar; false when s is outside it. */
static bool ref_hex(const char *s, struct expect *e)
{
	const char *p = s + 2;
	uint64_t v;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || digit_value(*p) < 0)
		return false;
	if (!ref_digits(&p, 16, &v)) {
		if (*p != '\0')
			return false;
		e->ret = -ERANGE;
		return true;
	}
	if (*p != '\0')
		return false;
	e->ret = 0;
	e->value = v;
	return true;
}

static void check_invariants(const char *s, int ret, uint64_t v, bool warn)
{
	uint64_t v2 = SENTINEL;
	bool warn2;

	assert(ret == 0 || ret == -EINVAL || ret == -ERANGE);
	if (ret != 0)
		assert(v == SENTINEL);
	if (warn)
		assert(strchr(s, 'x') || strchr(s, 'X'));
	assert(size_parse(s, &v2, &warn2) == ret);
	assert(v2 == v && warn2 == warn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct expect e = { 0, 0 };
	uint64_t v = SENTINEL;
	bool warn;
	int ret;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ret = size_parse(s, &v, &warn);
	check_invariants(s, ret, v, warn);
	if (ref_decimal(s, &e) || ref_hex(s, &e)) {
		assert(ret == e.ret);
		assert(ret != 0 || v == e.value);
		assert(!warn);
	}
	free(s);
	return 0;
}
