/*
 * libFuzzer target for dd's whole command line (src/cli/dd_args.c): the
 * options, -l's snapshot text and the key=value operands, parsed left to
 * right as qemu-img does.  The input is argv, one argument per piece split
 * on NUL or newline (a newline inside an argument would be echoed into a
 * message as qemu-img echoes it, and the line check below could not tell
 * it from a message of its own).  Checked on every run, beyond "no crash,
 * no UB, no leak":
 *   - an accepted command line is a job core runs: bs 1..INT_MAX, the
 *     numbers at most INT64_MAX, the snapshot texts terminated within
 *     SNAPSHOT_TEXT_MAX, dd_check() passes wherever the cli goes on to
 *     run it (-n included: an existing raw target), and the window is
 *     computed for any input size;
 *   - every line on stderr is one of the messages the parser knows, and
 *     what it quotes is the user's text; a refusal ends with an error, an
 *     acceptance printed warnings at most;
 *   - -h printed the usage on stdout and nothing else did, but -l's help.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/cmd.h"
#include "../src/cli/dd_args.h"
#include "../src/core/dd.h"
#include "../src/core/dd_window.h"

#define MAXARGS 32
/* Room for a -l value past SNAPSHOT_TEXT_MAX, so its bound is reached. */
#define MAXARG (SNAPSHOT_TEXT_MAX + 32)

/* ---- the messages, one line each or a pair ------------------------------ */

/* '*' (at most one a line) is the user's text. */
struct known {
	const char *line[2];
	bool error; /* else a warning: an accepted parse may print it */
	bool same;  /* both lines quote the same text */
};

#define P "cordon: "
#define ERROR(...) { .line = { __VA_ARGS__ }, .error = true }
#define WARNING(...) { .line = { __VA_ARGS__ } }
#define TRY_HELP "Try 'cordon --help' for more information"
#define INT64_MAX_TEXT "9223372036854775807"
#define CVTNUM(name, min, max) \
	ERROR(P "Invalid " name " specified. You may use k, M, G, T, P or E suffixes for", \
	      P "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes."), \
	ERROR(P "Invalid " name " specified. Must be between " min " and " max ".")

static const struct known known[] = {
	/* dd_args.c and size_parse.c */
	ERROR(P "unrecognized operand *"),
	CVTNUM("bs", "1", "2147483647"),
	CVTNUM("count", "0", INT64_MAX_TEXT),
	CVTNUM("skip", "0", INT64_MAX_TEXT),
	CVTNUM("size", "0", INT64_MAX_TEXT),
	WARNING(P "warning: Using a multiplier suffix on hex numbers is deprecated: *"),
	/* common_opts.c (CORDON_BACKING_ALLOW is unset: its message cannot come) */
	ERROR(P "missing argument for option '*'", TRY_HELP),
	ERROR(P "unrecognized option '*'", TRY_HELP),
	ERROR(P "--backing-allow: at most 16 directories"),
	ERROR(P "--backing-allow=none cannot be combined with directories"),
	/* snapshot_opt.c */
	ERROR(P "Invalid parameter '*'"),
	ERROR(P "Failed in parsing snapshot param '*'"),
	ERROR(P "Parameter 'id' expects an identifier",
	      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."),
	ERROR(P "Duplicate ID '*' for snapshot"),
	/* "id" or "noid" alone: a short-form boolean, qemu's id "on" or "off" */
	ERROR(P "Duplicate ID 'on' for snapshot"),
	ERROR(P "Duplicate ID 'off' for snapshot"),
	{ .line = { P "warning: short-form boolean option '*' deprecated",
		    "Please use *=on instead" }, .same = true },
	{ .line = { P "warning: short-form boolean option 'no*' deprecated",
		    "Please use *=off instead" }, .same = true },
	ERROR(P "cordon takes snapshot ids and names of at most 1023 bytes"),
};

#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static const char *const *args; /* the arguments as given, argv[0] too */
static int n_args;

/* Whether what a message quotes is text the user gave. */
static bool quoted(const char *s, size_t n)
{
	for (int i = 0; i < n_args; i++)
		if (memmem(args[i], strlen(args[i]), s, n))
			return true;
	return false;
}

struct quote {
	const char *s;
	size_t n;
};

/* One line against one pattern: the whole line, with '*' quoting (what it
 * quotes in *q). */
static bool line_is(const char *line, size_t n, const char *pat, struct quote *q)
{
	const char *star = strchr(pat, '*');
	*q = (struct quote){ 0 };
	if (!star)
		return strlen(pat) == n && memcmp(line, pat, n) == 0;
	size_t pre = (size_t)(star - pat), post = strlen(star + 1);
	if (n < pre + post || memcmp(line, pat, pre) != 0 ||
	    memcmp(line + n - post, star + 1, post) != 0)
		return false;
	*q = (struct quote){ line + pre, n - pre - post };
	return quoted(q->s, q->n);
}

/* The next line of text (at *p, up to end): its length; *p moves past it. */
static size_t next_line(const char **p, const char *end, const char **line)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	assert(nl); /* every message ends its line */
	*line = *p;
	*p = nl + 1;
	return (size_t)(nl - *line);
}

/* Every line of err is a known message.  How many errors, and whether the
 * last message was one. */
static void check_stderr(const char *err, size_t len, unsigned *errors, bool *last_error)
{
	const char *p = err, *end = err + len;
	*errors = 0;
	*last_error = false;
	while (p < end) {
		const char *l0, *l1 = NULL;
		size_t n0 = next_line(&p, end, &l0), n1 = 0;
		const char *after_one = p, *after_two = p;
		if (p < end)
			n1 = next_line(&after_two, end, &l1);
		const struct known *k = NULL;
		for (size_t i = 0; i < N_KNOWN && !k; i++) {
			struct quote q0, q1;
			if (!line_is(l0, n0, known[i].line[0], &q0))
				continue;
			if (!known[i].line[1])
				k = &known[i];
			else if (l1 && line_is(l1, n1, known[i].line[1], &q1) &&
				 (!known[i].same ||
				  (q0.n == q1.n && memcmp(q0.s, q1.s, q0.n) == 0)))
				k = &known[i];
		}
		if (!k) {
			fprintf(stderr, "unknown message: %.*s\n", (int)n0, l0);
			abort();
		}
		p = k->line[1] ? after_two : after_one;
		*errors += k->error;
		*last_error = k->error;
	}
}

/* ---- the run's output, caught --------------------------------------------- */

struct caught {
	char *text;
	size_t len;
	FILE *f, *was;
};

/* stdout and stderr are glibc's variables: the parser prints on them. */
static void catch(struct caught *c, FILE **stream)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	if (!c->f)
		abort();
	c->was = *stream;
	*stream = c->f;
}

static void release(struct caught *c, FILE **stream)
{
	*stream = c->was;
	fclose(c->f);
}

/* ---- an accepted parse ------------------------------------------------------ */

static bool terminated(const char *s)
{
	return strnlen(s, SNAPSHOT_TEXT_MAX) < SNAPSHOT_TEXT_MAX;
}

static void check_snapshot(const struct cordon_job_snapshot *s)
{
	assert(!(s->flags & ~SNAPSHOT_FLAGS));
	assert(terminated(s->id) && terminated(s->name));
}

/* The last value of an operand, the way the parser read them (after
 * getopt's permutation the operands are argv[first..argc), in order). */
static const char *last_value(char **argv, int first, int argc, const char *key)
{
	const char *v = NULL;
	size_t n = strlen(key);
	for (int i = first; i < argc; i++)
		if (strncmp(argv[i], key, n) == 0)
			v = argv[i] + n;
	return v;
}

static void check_window(const struct cordon_dd_job *dd, uint64_t in_size)
{
	struct dd_params p;
	struct dd_window w;
	dd_params_of_job(dd, &p);
	assert(dd_window_compute(in_size, &p, &w) == 0);
	assert(w.start <= w.end && w.out_size % DD_SECTOR == 0);
}

static void check_run(const struct dd_args *a, char **argv, int argc)
{
	assert(a->bs >= 1 && a->bs <= DD_MAX_BS);
	assert(a->count <= DD_MAX_COUNT && a->skip <= DD_MAX_COUNT &&
	       a->osize <= DD_MAX_COUNT && a->isize <= DD_MAX_COUNT);
	assert(!(a->flags & ~(DD_HAVE_COUNT | DD_HAVE_SKIP | DD_HAVE_OSIZE | DD_HAVE_ISIZE)));
	/* A number not given is 0 (core reads it only with its flag). */
	assert((a->flags & DD_HAVE_COUNT) || a->count == 0);
	assert((a->flags & DD_HAVE_SKIP) || a->skip == 0);
	assert((a->flags & DD_HAVE_OSIZE) || a->osize == 0);
	assert((a->flags & DD_HAVE_ISIZE) || a->isize == 0);
	/* Every operand was taken, in order: the last of each wins. */
	assert(a->in == last_value(argv, optind, argc, "if="));
	assert(a->out == last_value(argv, optind, argc, "of="));
	if (!last_value(argv, optind, argc, "bs="))
		assert(a->bs == 512);
	check_snapshot(&a->snapshot.opts);
	check_snapshot(&a->snapshot.bare);

	struct cordon_job job;
	dd_job_init(a, &job);
	check_snapshot(&job.snapshot);
	/* The devices as src/host/run.c opens them: a file or standard input,
	 * a file to create or standard output. */
	job.n_dev = 2;
	job.dev[0].roles = CORDON_DEV_READ | (a->in ? 0 : CORDON_DEV_STREAM);
	job.dev[1].roles = CORDON_DEV_WRITE | (a->out ? CORDON_DEV_CREATE : CORDON_DEV_STREAM);
	/* What the cli lets through (cmd_dd.c check_streams) core runs. */
	bool runs = a->in || (a->flags & (DD_HAVE_OSIZE | DD_HAVE_COUNT));
	assert((dd_check(&job) == 0) == runs);

	const struct cordon_dd_job *dd = &job.cmd.dd;
	const uint64_t sizes[] = { 0, 1, 511, 512, dd->bs - 1, dd->bs, dd->bs + 1,
				   dd->count * dd->bs, dd->skip * dd->bs, dd->osize, dd->isize,
				   DD_MAX_COUNT - 1, DD_MAX_COUNT };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_window(dd, sizes[i] > DD_MAX_COUNT ? sizes[i] >> 1 : sizes[i]);
}

/* ---- the target ------------------------------------------------------------- */

static char usage[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The run depends on the command line alone. */
	unsetenv("CORDON_BACKING_ALLOW");
	unsetenv("POSIXLY_CORRECT");
	FILE *f = fmemopen(usage, sizeof(usage) - 1, "w");
	if (!f)
		abort();
	cmd_dd_usage(f);
	fclose(f);
	assert(strlen(usage) < sizeof(usage) - 2); /* not cut */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAXARGS + 2];
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (copy[i] == '\n')
			copy[i] = '\0';
	int argc = 0;
	argv[argc++] = "dd";
	for (size_t i = 0; i < size && argc < MAXARGS + 1;) {
		size_t n = strlen(&copy[i]);
		if (n > MAXARG)
			copy[i + MAXARG] = '\0';
		argv[argc++] = &copy[i];
		i += n + 1;
	}
	argv[argc] = NULL;
	char *orig[MAXARGS + 2];
	memcpy(orig, argv, sizeof(argv));
	args = (const char *const *)orig;
	n_args = argc;

	struct caught out, err;
	catch(&out, &stdout);
	catch(&err, &stderr);
	optind = 0; /* glibc: start afresh, as for a new process */
	opterr = 0;
	struct dd_args a;
	enum dd_args_result r = dd_args_parse(argc, argv, &a);
	release(&err, &stderr);
	release(&out, &stdout);

	unsigned errors;
	bool last_error;
	check_stderr(err.text, err.len, &errors, &last_error);
	switch (r) {
	case DD_ARGS_RUN:
		assert(errors == 0 && out.len == 0);
		check_run(&a, argv, argc);
		break;
	case DD_ARGS_HELP:
		assert(errors == 0 && strcmp(out.text, usage) == 0);
		break;
	case DD_ARGS_ERROR:
		/* Only -l's "help" prints on stdout, and fails. */
		assert(last_error);
		assert(out.len == 0 || strcmp(out.text, "snapshot options:\n"
					      "  snapshot.id=<str>      - snapshot id\n"
					      "  snapshot.name=<str>    - snapshot name\n") == 0);
		break;
	}
	/* argv is permuted, never replaced. */
	for (int i = 1; i < argc; i++) {
		int found = 0;
		for (int j = 1; j < argc; j++)
			found |= argv[i] == orig[j];
		assert(found);
	}
	free(out.text);
	free(err.text);
	common_opts_free(&a.common);
	snapshot_opt_free(&a.snapshot);
	free(copy);
	return 0;
}
