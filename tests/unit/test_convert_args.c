/*
 * convert_args: qemu-img convert's command line.  Each row is a command
 * line and what qemu-img 7.2 does with it before it opens a file: the
 * message it prints (taken from the real qemu-img, run in an empty
 * directory, where an accepted line then fails to open its input), or the
 * values it goes on with.  fuzz/fuzz_convert_args.c holds the parser to the
 * same invariants on random command lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/cli/convert_args.h"

#define MAXARGS 16

struct parsed {
	enum convert_args_result r;
	struct convert_args a;
	char err[512];
	char *argv[MAXARGS + 1];
	char store[MAXARGS][64];
};

/* Parses "convert" + args (NULL-terminated); stderr is caught in p->err. */
static void parse(struct parsed *p, const char *const *args)
{
	memset(p, 0, sizeof(*p));
	int argc = 0;
	p->argv[argc++] = strcpy(p->store[0], "convert");
	for (; args[argc - 1]; argc++)
		p->argv[argc] = strcpy(p->store[argc], args[argc - 1]);
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	optind = 0;
	p->r = convert_args_parse(argc, p->argv, &p->a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(p->err, 1, sizeof(p->err) - 1, tmp);
	p->err[n] = '\0';
	fclose(tmp);
}

static void done(struct parsed *p)
{
	common_opts_free(&p->a.common);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void defaults_are_qemus(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, ARGS("a.qcow2", "b.raw"));
	assert_int_equal(p.r, CONVERT_ARGS_RUN);
	assert_string_equal(p.a.out_fmt, "raw");
	assert_int_equal(p.a.min_sparse, 4096);
	assert_int_equal(p.a.out_cache, CACHE_UNSAFE);
	assert_int_equal(p.a.src_cache, CACHE_WRITEBACK);
	assert_int_equal(p.a.coroutines, 8);
	assert_int_equal(p.a.n_in, 1);
	assert_string_equal(p.a.in[0], "a.qcow2");
	assert_string_equal(p.a.out, "b.raw");
	assert_false(p.a.progress);
	assert_string_equal(p.err, "");
	done(&p);
}

static void several_inputs_and_the_last_is_the_output(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, ARGS("-O", "qcow2", "a", "b", "-p", "c", "out"));
	assert_int_equal(p.r, CONVERT_ARGS_RUN);
	assert_int_equal(p.a.n_in, 3);
	assert_string_equal(p.a.in[0], "a");
	assert_string_equal(p.a.in[2], "c");
	assert_string_equal(p.a.out, "out");
	assert_true(p.a.progress);
	done(&p);
	parse(&p, ARGS("-q", "-p", "a", "b"));
	assert_false(p.a.progress); /* -q wins */
	done(&p);
}

static void values_qemu_takes(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, ARGS("-S", "0", "-m", "0x10", "-t", "off", "-T", "none", "a", "b"));
	assert_int_equal(p.r, CONVERT_ARGS_RUN);
	assert_int_equal(p.a.min_sparse, 0);
	assert_int_equal(p.a.coroutines, 16);
	assert_int_equal(p.a.out_cache, CACHE_NONE);
	assert_int_equal(p.a.src_cache, CACHE_NONE);
	done(&p);
	parse(&p, ARGS("-S", "16M", "-m", "010", "a", "b"));
	assert_int_equal(p.a.min_sparse, 16u << 20);
	assert_int_equal(p.a.coroutines, 8); /* octal, as strtol base 0 */
	done(&p);
	/* -t is only parsed once the output exists: kept as given. */
	parse(&p, ARGS("-t", "bogus", "a", "b"));
	assert_int_equal(p.r, CONVERT_ARGS_RUN);
	assert_int_equal(p.a.out_cache, CACHE_INVALID);
	assert_string_equal(p.a.cache, "bogus");
	done(&p);
}

struct refusal {
	const char *args[8];
	const char *err;
};

#define PROG "cordon: "
#define SPARSE_MSG PROG "Invalid buffer size for sparse output specified. Valid sizes " \
	"are multiples of 512 up to 16777216. Select 0 to disable sparse detection " \
	"(fully allocates output).\n"
#define COROUTINES_MSG PROG "Invalid number of coroutines. Allowed number of " \
	"coroutines is between 1 and 16\n"

/* qemu-img 7.2's words, in its order (the first check that fails wins). */
static const struct refusal refusals[] = {
	{ { "a" }, PROG "Must specify image file name\n" },
	{ { "-O", "raw" }, PROG "Must specify image file name\n" },
	{ { "-S", "1000", "a", "b" }, SPARSE_MSG },
	{ { "-S", "32M", "a", "b" }, SPARSE_MSG },
	{ { "-S", "x", "a", "b" }, PROG "Invalid buffer size for sparse output specified. "
	  "You may use k, M, G, T, P or E suffixes for\n" PROG "kilobytes, megabytes, "
	  "gigabytes, terabytes, petabytes and exabytes.\n" },
	{ { "-m", "0", "a", "b" }, COROUTINES_MSG },
	{ { "-m", "17", "a", "b" }, COROUTINES_MSG },
	{ { "-m", "4x", "a", "b" }, COROUTINES_MSG },
	{ { "-m", "", "a", "b" }, COROUTINES_MSG },
	{ { "-T", "bogus", "a", "b" }, PROG "Invalid source cache option: bogus\n" },
	{ { "-T", "bogus", "a" }, PROG "Must specify image file name\n" },
	{ { "-c", "-C", "a", "b" }, PROG "Cannot enable copy offloading when -c is used\n" },
	{ { "-S", "4k", "-C", "a", "b" }, PROG "Cannot enable copy offloading when -S is "
	  "used\n" },
	{ { "-C", "--salvage", "a", "b" }, PROG "Cannot use copy offloading in salvaging "
	  "mode\n" },
	{ { "--skip-broken-bitmaps", "-c", "-C", "a", "b" }, PROG "Use of "
	  "--skip-broken-bitmaps requires --bitmaps\n" },
	{ { "-n", "-o", "x=y", "a", "b" }, PROG "-o has no effect when skipping image "
	  "creation\n" },
	{ { "--target-is-zero", "a", "b" }, PROG "--target-is-zero requires use of -n "
	  "flag\n" },
	{ { "--target-image-opts", "a", "b" }, PROG "--target-image-opts requires use of -n "
	  "flag\n" },
	{ { "-O" }, PROG "missing argument for option '-O'\n"
	  "Try 'cordon --help' for more information\n" },
	{ { "-Z", "a", "b" }, PROG "unrecognized option '-Z'\n"
	  "Try 'cordon --help' for more information\n" },
	/* What cordon does not carry out yet, after qemu's own checks. */
	{ { "-o", "x=y", "a", "b" }, PROG "cordon convert cannot honour -o (output format "
	  "options) yet\n" },
	{ { "-r", "1M", "a", "b" }, PROG "cordon convert cannot honour -r (a rate limit) "
	  "yet\n" },
};

static void refusals_are_qemus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct parsed p;
		parse(&p, refusals[i].args);
		if (p.r != CONVERT_ARGS_ERROR || strcmp(p.err, refusals[i].err) != 0)
			fail_msg("row %zu (%s ...): got %d, '%s'", i, refusals[i].args[0],
				 p.r, p.err);
		done(&p);
	}
}

static void cache_modes(void **state)
{
	(void)state;
	assert_int_equal(cache_mode_parse("writeback"), CACHE_WRITEBACK);
	assert_int_equal(cache_mode_parse("unsafe"), CACHE_UNSAFE);
	assert_int_equal(cache_mode_parse("none"), CACHE_NONE);
	assert_int_equal(cache_mode_parse("off"), CACHE_NONE);
	assert_int_equal(cache_mode_parse("directsync"), CACHE_DIRECTSYNC);
	assert_int_equal(cache_mode_parse("writethrough"), CACHE_WRITETHROUGH);
	assert_int_equal(cache_mode_parse("Writeback"), CACHE_INVALID);
	assert_int_equal(cache_mode_parse(""), CACHE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_qemus),
		cmocka_unit_test(several_inputs_and_the_last_is_the_output),
		cmocka_unit_test(values_qemu_takes),
		cmocka_unit_test(refusals_are_qemus),
		cmocka_unit_test(cache_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
