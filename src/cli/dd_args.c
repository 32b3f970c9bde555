/*
 * qemu-img dd's argument parsing (qemu-img.c img_dd), message for message.
 * getopt is told ":..." so that it prints nothing: qemu-img prints
 * argv[optind - 1] itself, which for "-Ux" is "-Ux" and for "-xU" is the
 * argument before it; using the same getopt call keeps that exact.
 */
#include "dd_args.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "../abi/job.h"
#include "cmd.h"
#include "../host/report.h"
#include "size_parse.h"

#define DD_DEFAULT_BS 512u

/* --object and --image-opts are deliberately absent: cordon takes no QOM
 * objects and no option strings, so they are unrecognized options. */
static const struct option dd_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* One option; DD_ARGS_RUN to go on. */
static enum dd_args_result dd_option(int c, char **argv, struct dd_args *a)
{
	int shared = common_opt(&a->common, c, optarg);
	if (shared != 0)
		return shared > 0 ? DD_ARGS_RUN : DD_ARGS_ERROR;
	switch (c) {
	case 'f': a->in_fmt = optarg; break;
	case 'O': a->out_fmt = optarg; break;
	case 'n': a->skip_create = true; break;
	case 'l':
		/* Proxmox's qemu-img goes on with status 0 after a bad -l
		 * (docs/dd.md); convert's status 1 here. */
		if (snapshot_opt_parse(optarg, &a->snapshot) < 0)
			return DD_ARGS_ERROR;
		break;
	case 'h':
		cmd_dd_usage(stdout);
		return DD_ARGS_HELP;
	default: /* ':' or '?' */
		report_bad_option(c, argv[optind - 1]);
		return DD_ARGS_ERROR;
	}
	return DD_ARGS_RUN;
}

/* ---- operands: "key=value", qemu-img's table and setters ---------------- */

struct dd_operand {
	const char *name;
	int (*set)(const struct dd_operand *op, const char *value, struct dd_args *a);
	uint32_t flag;    /* recorded once the value is accepted */
	const char *what; /* a number's name in cvtnum's messages */
	size_t field;     /* a number's uint64_t in struct dd_args */
};

static int set_bs(const struct dd_operand *op, const char *v, struct dd_args *a)
{
	(void)op;
	int64_t res = cvtnum_full("bs", v, 1, INT_MAX);

	if (res < 0)
		return -1;
	a->bs = (uint64_t)res;
	return 0;
}

/* count=, skip=, and Proxmox's osize= and isize= (its messages call both
 * "size"). */
static int set_number(const struct dd_operand *op, const char *v, struct dd_args *a)
{
	int64_t res = cvtnum(op->what, v);

	if (res < 0)
		return -1;
	*(uint64_t *)((char *)a + op->field) = (uint64_t)res;
	return 0;
}

static int set_if(const struct dd_operand *op, const char *v, struct dd_args *a)
{
	(void)op;
	a->in = v;
	return 0;
}

static int set_of(const struct dd_operand *op, const char *v, struct dd_args *a)
{
	(void)op;
	a->out = v;
	return 0;
}

#define NUMBER(name, flag, what, member) \
	{ name, set_number, flag, what, offsetof(struct dd_args, member) }

static const struct dd_operand dd_operands[] = {
	{ "bs", set_bs, 0, NULL, 0 },
	NUMBER("count", DD_HAVE_COUNT, "count", count),
	{ "if", set_if, 0, NULL, 0 },
	NUMBER("isize", DD_HAVE_ISIZE, "size", isize),
	{ "of", set_of, 0, NULL, 0 },
	NUMBER("osize", DD_HAVE_OSIZE, "size", osize),
	NUMBER("skip", DD_HAVE_SKIP, "skip", skip),
};

#define N_OPERANDS (sizeof(dd_operands) / sizeof(dd_operands[0]))

static const struct dd_operand *find_operand(const char *key, size_t len)
{
	for (size_t i = 0; i < N_OPERANDS; i++)
		if (strlen(dd_operands[i].name) == len &&
		    memcmp(dd_operands[i].name, key, len) == 0)
			return &dd_operands[i];
	return NULL;
}

/* One operand; qemu-img names only the key of an unknown one. */
static int dd_operand(const char *arg, struct dd_args *a)
{
	const char *eq = strchr(arg, '=');
	const struct dd_operand *op;

	if (!eq) {
		report_error("unrecognized operand %s", arg);
		return -1;
	}
	op = find_operand(arg, (size_t)(eq - arg));
	if (!op) {
		report_error("unrecognized operand %.*s", (int)(eq - arg), arg);
		return -1;
	}
	if (op->set(op, eq + 1, a) != 0)
		return -1;
	a->flags |= op->flag;
	return 0;
}

enum dd_args_result dd_args_parse(int argc, char **argv, struct dd_args *a)
{
	enum dd_args_result r;
	int c;

	*a = (struct dd_args){ .bs = DD_DEFAULT_BS };
	while ((c = getopt_long(argc, argv, ":hf:O:l:Un", dd_longopts, NULL)) != -1) {
		r = dd_option(c, argv, a);
		if (r != DD_ARGS_RUN)
			return r;
	}
	/* Left to right; the first bad operand ends the run. */
	for (int i = optind; i < argc; i++)
		if (dd_operand(argv[i], a) != 0)
			return DD_ARGS_ERROR;
	return common_opts_finish(&a->common) < 0 ? DD_ARGS_ERROR : DD_ARGS_RUN;
}
