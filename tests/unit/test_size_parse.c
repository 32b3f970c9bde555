/*
 * size_parse: QEMU 7.2's qemu_strtosz() and qemu-img's cvtnum_full().
 *
 * The table's expectations were taken from the real qemu-img 7.2 (Debian
 * 7.2.22): `qemu-img create -f raw -- /nonexistent/x VALUE` prints the
 * parsed size ("Formatting ..., size=N") or cvtnum's message, so each row
 * is what qemu-img does, not what we think it does.  RANGE there means
 * "Must be between 0 and INT64_MAX" (-ERANGE or a value above INT64_MAX).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/cli/size_parse.h"

enum outcome { OUT_OK, OUT_INVAL, OUT_RANGE };

struct row {
	const char *in;
	enum outcome outcome;
	uint64_t value;
	bool warn_hex;
};

#define OK(n) OUT_OK, (n)
#define INVAL OUT_INVAL, 0
#define RANGE OUT_RANGE, 0

/* Verified against qemu-img create (see the top of the file). */
static const struct row qemu_rows[] = {
	{ "0", OK(0), false },
	{ "1", OK(1), false },
	{ "512", OK(512), false },
	{ "1k", OK(1024), false },
	{ "1K", OK(1024), false },
	{ "1.5k", OK(1536), false },
	{ "0.5k", OK(512), false },
	{ "1.k", OK(1024), false },
	{ ".5k", INVAL, false },
	{ "1.5", INVAL, false },
	{ "1.0", OK(1), false },
	{ "1.5b", INVAL, false },
	{ "1.5e3k", INVAL, false },
	{ "1.99999999999999999999k", OK(1024), false },
	{ "1.99999999999999999999", OK(1), false },
	{ " 512", OK(512), false },
	{ "\t512", OK(512), false },
	{ "+512", OK(512), false },
	{ "-512", INVAL, false },
	{ "5-12", INVAL, false },
	{ "-0", INVAL, false },
	{ "2147483648", OK(2147483648), false },
	{ "2g", OK(2147483648), false },
	{ "8E", RANGE, false },
	{ "9223372036854775807", OK(9223372036854775807ull), false },
	{ "9223372036854775808", RANGE, false },
	{ "99999999999999999999", RANGE, false },
	{ "99999999999999999999k", INVAL, false },
	{ "-99999999999999999999", RANGE, false },
	{ "16E", RANGE, false },
	{ "15.9999999999999999E", RANGE, false },
	{ "7.99999999999999999E", OK(8070450532247928832ull), false },
	{ "7.9999999999999999E", OK(9223372036854775680ull), false },
	{ "512x", INVAL, false },
	{ "1kk", INVAL, false },
	{ "512 ", INVAL, false },
	{ "", INVAL, false },
	{ "0x", INVAL, false },
	{ "0x10000000000000000", RANGE, false },
	{ "0x1ffffffffffffffffk", INVAL, false },
	{ ".5e", INVAL, false },
	{ "0.000001k", OK(0), false },
	{ ".k", INVAL, false },
	{ ".", INVAL, false },
	{ "k", INVAL, false },
	{ "1.5e", OK(1729382256910270464ull), false },
	{ "0.5e", OK(576460752303423488ull), false },
	{ " -5", INVAL, false },
	{ "0x-5", INVAL, false },
	{ "0x 5", INVAL, false },
	{ "0x+5", INVAL, false },
	{ "1.-5k", INVAL, false },
	{ "1. 5k", INVAL, false },
	{ "1.+5k", INVAL, false },
	{ "1.0x5k", INVAL, false },
	{ "0.inf", INVAL, false },
	{ "1.nan", INVAL, false },
	{ "0x200", OK(512), false },
	{ "0X200", OK(512), false },
	{ "0x1k", OK(1024), true },
	{ "0x1.5", INVAL, false },
	{ "0x1K", OK(1024), true },
	{ "0xffffffffffffffff", RANGE, false },
	{ "0x7fffffffffffffff", OK(9223372036854775807ull), false },
	{ "0x8000000000000000", RANGE, false },
	{ "0x8000000000000000b", RANGE, false },
	{ "0x1e", OK(30), false },
	{ "0x1E", OK(30), false },
	{ "0x1p", OK(1125899906842624ull), true },
	{ "0xk", INVAL, false },
	{ "1.5m", OK(1572864), false },
	{ "1.5g", OK(1610612736), false },
	{ "1.5t", OK(1649267441664ull), false },
	{ "1.5p", OK(1688849860263936ull), false },
	{ "1.5e", OK(1729382256910270464ull), false },
	{ "0.1k", OK(102), false },
	{ "0.01k", OK(10), false },
	{ "0.001k", OK(1), false },
	{ "0.0005k", OK(1), false },
	{ "0.00048828125k", OK(1), false },
	{ "0.000244140625k", OK(0), false },
	{ "0.0004882812k", OK(0), false },
	{ "0.00048828126k", OK(1), false },
	{ "123.456m", OK(129452999), false },
	{ "1.1b", INVAL, false },
	{ "1.b", OK(1), false },
	{ "1..k", INVAL, false },
	{ "1.5.k", INVAL, false },
	{ "  1.5k", OK(1536), false },
	{ "+1.5k", OK(1536), false },
	{ "+0x10", OK(16), false },
	{ "++1", INVAL, false },
	{ "1.5kb", INVAL, false },
	{ "4.5E", OK(5188146770730811392ull), false },
	{ "3.999999999999999999E", OK(3458764513820540928ull), false },
	{ "0.9999999999999999999k", OK(0), false },
	{ "0.99999999999999999k", OK(0), false },
	{ "0.9999999999999999k", OK(1024), false },
	{ "1e3", INVAL, false },
	{ "1E", OK(1152921504606846976ull), false },
	{ "1e", OK(1152921504606846976ull), false },
	{ "1b", OK(1), false },
	{ "1B", OK(1), false },
	{ "0b", OK(0), false },
	{ "0x0", OK(0), false },
	{ "0x0k", OK(0), true },
	{ "00", OK(0), false },
	{ "007", OK(7), false },
	{ "0.0k", OK(0), false },
	{ "0.k", OK(0), false },
	{ "0.", OK(0), false },
	{ "0x.", INVAL, false },
	{ "0x1.", INVAL, false },
	{ "1.5 k", INVAL, false },
	{ "1 k", INVAL, false },
	{ "177gx", INVAL, false },
	{ "G", INVAL, false },
	{ "0xF6d0A7efB7b7", OK(271376031135671ull), false },
	{ "124158683449786907366PiB", INVAL, false },
	{ "70704", OK(70704), false },
	{ "Z", INVAL, false },
	{ "489068288360759838", OK(489068288360759838ull), false },
	{ "  0XBC52B", OK(771371), false },
	{ "0x08783D5b92558AT", RANGE, true },
	{ "0x0d6838A6Dd0.20278683873806956042", INVAL, false },
	{ "2694208093972980635139693", RANGE, false },
	{ "-.92563416858783101Z", INVAL, false },
	{ "55143X", INVAL, false },
	{ "0x44a3DCc2CB7C.5498174104eK", INVAL, false },
	{ "62172321668484751350.9576561159g", INVAL, false },
	{ "542834335141719536M", RANGE, false },
	{ "18999.03614kx", INVAL, false },
	{ "00x3AD9464B1", INVAL, false },
	{ "3246820341768487870652470", RANGE, false },
	{ "  4 ", INVAL, false },
	{ "00xEeFE77afFf7daBDE.01852", INVAL, false },
	{ "7", OK(7), false },
	{ ".90765", INVAL, false },
	{ "00x824k", INVAL, false },
	{ "6257297316K", OK(6407472451584ull), false },
	{ "87G", OK(93415538688ull), false },
	{ "494M", OK(517996544), false },
	{ "63410190842185946858.7Z", INVAL, false },
	{ "663804983798642798358.96659917340626421905", INVAL, false },
	{ "727K", OK(744448), false },
	{ ".16T", INVAL, false },
	{ "8Z", INVAL, false },
	{ "4593686274953493096.34312979294782227546", INVAL, false },
	{ "120090307897541921.77623Z", INVAL, false },
	{ "13100075694362200628.42174008082041613072g", RANGE, false },
};

/* What cvtnum(0, INT64_MAX) makes of size_parse's answer. */
static enum outcome classify(int ret, uint64_t v)
{
	if (ret == -EINVAL)
		return OUT_INVAL;
	if (ret == -ERANGE || v > INT64_MAX)
		return OUT_RANGE;
	assert_int_equal(ret, 0);
	return OUT_OK;
}

static void test_rows_match_qemu(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(qemu_rows) / sizeof(qemu_rows[0]); i++) {
		const struct row *r = &qemu_rows[i];
		uint64_t v = 0xdeadbeef;
		bool warn = !r->warn_hex;
		int ret = size_parse(r->in, &v, &warn);

		print_message("  \"%s\"\n", r->in);
		assert_int_equal(classify(ret, v), r->outcome);
		if (r->outcome == OUT_OK)
			assert_int_equal(v, r->value);
		assert_int_equal(warn, r->warn_hex);
	}
}

/* Values above INT64_MAX: qemu_strtosz() takes them, cvtnum() does not. */
static void test_full_64_bits(void **state)
{
	static const struct { const char *in; int ret; uint64_t v; } rows[] = {
		{ "8E", 0, 9223372036854775808ull },
		{ "16E", -ERANGE, 0 },
		{ "0xffffffffffffffff", 0, UINT64_MAX },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		/* 1 - 2^-53 of an EiB: exact 128-bit math, no double rounding */
		{ "15.9999999999999999E", 0, 18446744073709551488ull },
		/* the fraction rounds to 1.0 and QEMU's x86 build drops it */
		{ "15.99999999999999999999E", 0, 17293822569102704640ull },
		{ "0x8000000000000000k", -ERANGE, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 0;
		bool warn;

		print_message("  \"%s\"\n", rows[i].in);
		assert_int_equal(size_parse(rows[i].in, &v, &warn), rows[i].ret);
		if (rows[i].ret == 0)
			assert_int_equal(v, rows[i].v);
	}
}

/* Half a unit rounds up, a quarter down: QEMU's "Round 0.5 upward". */
static void test_rounding(void **state)
{
	uint64_t v;
	bool w;

	(void)state;
	assert_int_equal(size_parse("0.00048828125k", &v, &w), 0);
	assert_int_equal(v, 1);
	assert_int_equal(size_parse("0.000244140625k", &v, &w), 0);
	assert_int_equal(v, 0);
	assert_int_equal(size_parse("0.0007324218750k", &v, &w), 0);
	assert_int_equal(v, 1);
}

/* The warning is due whenever QEMU reaches its warn_report(), even when
 * the parse fails afterwards. */
static void test_hex_warning(void **state)
{
	uint64_t v;
	bool w;

	(void)state;
	assert_int_equal(size_parse("0x1kk", &v, &w), -EINVAL);
	assert_true(w);
	assert_int_equal(size_parse("0x8000000000000000k", &v, &w), -ERANGE);
	assert_true(w);
	assert_int_equal(size_parse("0x10000000000000000k", &v, &w), -EINVAL);
	assert_false(w); /* strtoull's ERANGE comes first */
	assert_int_equal(size_parse("0x1b", &v, &w), 0);
	assert_false(w); /* 'b' is a hex digit, not a suffix */
	assert_int_equal(v, 0x1b);
	assert_int_equal(size_parse("0x1B", &v, &w), 0);
	assert_int_equal(v, 0x1b);
}

/* A fraction strtod cannot represent (underflow) makes QEMU skip the
 * next character: "1.<tiny>kk" is 1 KiB, as qemu-img shows. */
static void test_fraction_underflow(void **state)
{
	char buf[512];
	uint64_t v;
	bool w;

	(void)state;
	memset(buf, '0', sizeof(buf));
	memcpy(buf, "1.", 2);
	strcpy(buf + 400, "1kk");
	assert_int_equal(size_parse(buf, &v, &w), 0);
	assert_int_equal(v, 1024);
	strcpy(buf + 400, "1k");
	assert_int_equal(size_parse(buf, &v, &w), 0);
	assert_int_equal(v, 1);
	/* QEMU would read past the terminator; we stop on it */
	strcpy(buf + 400, "1");
	assert_int_equal(size_parse(buf, &v, &w), 0);
	assert_int_equal(v, 1);
}

static void test_result_untouched_on_error(void **state)
{
	uint64_t v = 42;
	bool w;

	(void)state;
	assert_int_equal(size_parse("12x", &v, &w), -EINVAL);
	assert_int_equal(v, 42);
	assert_int_equal(size_parse("16E", &v, &w), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_errno_preserved(void **state)
{
	uint64_t v;
	bool w;

	(void)state;
	errno = 1234;
	size_parse("99999999999999999999", &v, &w);
	assert_int_equal(errno, 1234);
}

/* ---- cvtnum_full: qemu-img's messages ---------------------------------- */

/* Runs cvtnum_full with stderr captured into buf. */
static int64_t capture(const char *name, const char *value, int64_t min,
		       int64_t max, char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	int64_t ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	ret = cvtnum_full(name, value, min, max);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return ret;
}

static void test_cvtnum_ok(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(capture("bs", "1.5k", 1, 2147483647, err, sizeof(err)),
			 1536);
	assert_string_equal(err, "");
}

static void test_cvtnum_invalid(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(capture("count", "x", 0, INT64_MAX, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
		"cordon: Invalid count specified. You may use k, M, G, T, P or E "
		"suffixes for\ncordon: kilobytes, megabytes, gigabytes, "
		"terabytes, petabytes and exabytes.\n");
}

static void test_cvtnum_range(void **state)
{
	char err[512];
	const char *want = "cordon: Invalid bs specified. Must be between 1 "
			   "and 2147483647.\n";

	(void)state;
	assert_int_equal(capture("bs", "0", 1, 2147483647, err, sizeof(err)),
			 -ERANGE);
	assert_string_equal(err, want);
	assert_int_equal(capture("bs", "2g", 1, 2147483647, err, sizeof(err)),
			 -ERANGE);
	assert_string_equal(err, want);
	assert_int_equal(capture("bs", "99999999999999999999", 1, 2147483647,
				 err, sizeof(err)), -ERANGE);
	assert_string_equal(err, want);
	assert_int_equal(capture("skip", "8E", 0, INT64_MAX, err, sizeof(err)),
			 -ERANGE);
	assert_string_equal(err, "cordon: Invalid skip specified. Must be "
				 "between 0 and 9223372036854775807.\n");
}

static void test_cvtnum_hex_warning(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(capture("bs", "0x1k", 1, 2147483647, err, sizeof(err)),
			 1024);
	assert_string_equal(err, "cordon: warning: Using a multiplier suffix on "
				 "hex numbers is deprecated: 0x1k\n");
	assert_int_equal(capture("bs", "0x1kk", 1, 2147483647, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "deprecated: 0x1kk\ncordon: Invalid bs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_match_qemu),
		cmocka_unit_test(test_full_64_bits),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_hex_warning),
		cmocka_unit_test(test_fraction_underflow),
		cmocka_unit_test(test_result_untouched_on_error),
		cmocka_unit_test(test_errno_preserved),
		cmocka_unit_test(test_cvtnum_ok),
		cmocka_unit_test(test_cvtnum_invalid),
		cmocka_unit_test(test_cvtnum_range),
		cmocka_unit_test(test_cvtnum_hex_warning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
