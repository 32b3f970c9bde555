/*
 * A line-by-line port of QEMU 7.2's do_strtosz() (util/cutils.c) as called
 * by qemu_strtosz(nptr, NULL, &res), and of qemu-img's cvtnum_full().
 * qemu-img is the reference: where QEMU's code has odd corners (a fraction
 * that rounds to 1.0, a skipped character after an unparsable fraction),
 * the port keeps them, because users' scripts see them.
 */
#include "size_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../host/report.h"

#define SIZE_UNIT 1024u

/* The parse in progress: QEMU's locals of do_strtosz(). */
struct sz {
	const char *nptr;
	const char *end; /* QEMU's endptr */
	uint64_t val;    /* integral part */
	uint64_t valf;   /* fraction, 0.64 fixed point */
	bool hex;
};

/* qemu_strtou64(): strtoull with "no digits" turned into -EINVAL. */
static int strtou64(const char *s, const char **end, int base, uint64_t *out)
{
	char *ep;

	errno = 0;
	*out = strtoull(s, &ep, base);
	*end = ep;
	if (errno == 0 && ep == s)
		return -EINVAL;
	return -errno;
}

/* QEMU's suffix_mul(): the multiplier for a suffix letter, or -1. */
static int64_t suffix_mul(char c)
{
	static const char letters[] = "BKMGTPE";
	const char *p;
	int64_t mul = 1;

	if (c == '\0' || !(p = strchr(letters, toupper((unsigned char)c))))
		return -1;
	for (const char *q = letters; q < p; q++)
		mul *= SIZE_UNIT;
	return mul;
}

/*
 * (uint64_t)(fraction * 0x1p64).  fraction is in [0, 1]; when it rounded
 * to 1.0 the product is 2^64, which C leaves undefined and which QEMU's
 * x86 build turns into 0 (its cvttsd2si sequence wraps).  qemu-img users
 * observe that 0 ("1.99999999999999999999k" is 1024), so it is kept.
 */
static uint64_t fraction_fixed(double fraction)
{
	if (!(fraction < 1.0))
		return 0;
	return (uint64_t)(fraction * 0x1p64);
}

/*
 * The '.' branch.  Returns -EINVAL only for an exponent; a fraction strtod
 * cannot read (none: "1.k", or underflow) makes QEMU skip one character and
 * carry on without a fraction.  QEMU would step past the terminator when
 * that character is the NUL; we stop on it, which is what qemu-img is seen
 * to do (the byte after a g_strdup'd value reads as no suffix).
 */
static int parse_fraction(struct sz *z)
{
	const char *f = z->end;
	char *ep;
	double fraction;

	errno = 0;
	fraction = strtod(f, &ep);
	z->end = ep;
	bool failed = errno != 0 || ep == f;
	if (!failed && !isfinite(fraction)) {
		z->end = f; /* qemu_strtod_finite() rewinds */
		failed = true;
	}
	if (failed) {
		if (*z->end != '\0')
			z->end++;
		return 0;
	}
	if (memchr(f, 'e', (size_t)(ep - f)) || memchr(f, 'E', (size_t)(ep - f))) {
		z->end = z->nptr;
		return -EINVAL;
	}
	z->valf = fraction_fixed(fraction);
	return 0;
}

/* Decimal integral part, the hex reparse, or the fraction. */
static int parse_number(struct sz *z)
{
	int ret = strtou64(z->nptr, &z->end, 10, &z->val);

	if (ret)
		return ret;
	if (memchr(z->nptr, '-', (size_t)(z->end - z->nptr))) {
		z->end = z->nptr;
		return -EINVAL;
	}
	if (z->val == 0 && (*z->end == 'x' || *z->end == 'X')) {
		ret = strtou64(z->nptr, &z->end, 16, &z->val);
		if (ret)
			return ret;
		if (*z->end == '.') {
			z->end = z->nptr;
			return -EINVAL;
		}
		z->hex = true;
		return 0;
	}
	if (*z->end == '.')
		return parse_fraction(z);
	return 0;
}

/* val * mul + valf * mul in 128 bits, rounding the fraction half up. */
static int scale(struct sz *z, uint64_t mul)
{
	unsigned __int128 whole = (unsigned __int128)z->val * mul;
	unsigned __int128 part = (unsigned __int128)z->valf * mul;

	whole += (uint64_t)(part >> 64);
	whole += (uint64_t)part >> 63;
	if (whole >> 64)
		return -ERANGE;
	z->val = (uint64_t)whole;
	return 0;
}

static int parse_suffix(struct sz *z, bool *warn_hex)
{
	int64_t mul = suffix_mul(*z->end);

	if (mul > 0) {
		/* Printed by QEMU here, before any later failure. */
		*warn_hex = z->hex;
		z->end++;
	} else {
		mul = 1; /* the default suffix 'B' */
	}
	if (mul == 1) {
		/* A fraction of a byte is not a size. */
		if (z->valf != 0) {
			z->end = z->nptr;
			return -EINVAL;
		}
		return 0;
	}
	return scale(z, (uint64_t)mul);
}

int size_parse(const char *value, uint64_t *result, bool *warn_hex)
{
	struct sz z = { .nptr = value, .end = value };
	int saved_errno = errno;
	int ret;

	*warn_hex = false;
	ret = parse_number(&z);
	if (ret == 0)
		ret = parse_suffix(&z, warn_hex);
	/* qemu_strtosz() is called without an end pointer: the whole value
	 * must be consumed, and that check wins over -ERANGE. */
	if (*z.end != '\0')
		ret = -EINVAL;
	if (ret == 0)
		*result = z.val;
	errno = saved_errno;
	return ret;
}

int64_t cvtnum_full(const char *name, const char *value, int64_t min,
		    int64_t max)
{
	uint64_t res = 0;
	bool warn_hex;
	int err = size_parse(value, &res, &warn_hex);

	if (warn_hex)
		report_warning("Using a multiplier suffix on hex numbers is "
			       "deprecated: %s", value);
	if (err < 0 && err != -ERANGE) {
		report_error("Invalid %s specified. You may use "
			     "k, M, G, T, P or E suffixes for", name);
		report_error("kilobytes, megabytes, gigabytes, terabytes, "
			     "petabytes and exabytes.");
		return err;
	}
	if (err == -ERANGE || res > (uint64_t)max || res < (uint64_t)min) {
		report_error("Invalid %s specified. Must be between %" PRId64
			     " and %" PRId64 ".", name, min, max);
		return -ERANGE;
	}
	return (int64_t)res;
}

int64_t cvtnum(const char *name, const char *value)
{
	return cvtnum_full(name, value, 0, INT64_MAX);
}
