/*
 * Options every command takes, in one place: -U/--force-share, the sandbox
 * (--sandbox, --sandbox-memory, --sandbox-timeout and their CORDON_SANDBOX*
 * defaults) and the child-file policy (--backing-allow, CORDON_BACKING_ALLOW).
 * A command's argument parser hands every option it does not know to
 * common_opt(), prints common_opts_usage() in its help, and turns the result
 * into the run's settings with common_opts_resolve().
 */
#ifndef CORDON_CLI_COMMON_OPTS_H
#define CORDON_CLI_COMMON_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "../host/run.h"

#define COMMON_BACKING_ALLOW_MAX 16u

/* Long-option values past every char, so never a short option. */
enum {
	OPT_SANDBOX = 0x100,
	OPT_SANDBOX_MEMORY,
	OPT_SANDBOX_TIMEOUT,
	OPT_BACKING_ALLOW,
	OPT_COMMON_END, /* a command's own long options start here */
};

/* For a command's getopt_long table (ends without the terminator). */
#define COMMON_LONGOPTS \
	{ "force-share", no_argument, NULL, 'U' }, \
	{ "sandbox", required_argument, NULL, OPT_SANDBOX }, \
	{ "sandbox-memory", required_argument, NULL, OPT_SANDBOX_MEMORY }, \
	{ "sandbox-timeout", required_argument, NULL, OPT_SANDBOX_TIMEOUT }, \
	{ "backing-allow", required_argument, NULL, OPT_BACKING_ALLOW }

struct common_opts {
	bool force_share;
	const char *sandbox;          /* NULL when not given (the environment decides) */
	const char *sandbox_memory;
	const char *sandbox_timeout;
	const char *backing_allow[COMMON_BACKING_ALLOW_MAX];
	unsigned n_backing_allow;
	bool backing_none;
	char *backing_env;            /* a copy of CORDON_BACKING_ALLOW, split */
};

/* 1: the option was one of these (taken), 0: not one of these, -1: an
 * error (message printed). */
int common_opt(struct common_opts *o, int c, const char *arg);
/* After parsing: CORDON_BACKING_ALLOW when no --backing-allow was given,
 * and the "none" rule.  0, or -1 after a message. */
int common_opts_finish(struct common_opts *o);
/* The run's sandbox and policy.  0, or -1 after a message. */
int common_opts_resolve(const struct common_opts *o, struct run_plan *plan);
void common_opts_free(struct common_opts *o);
/*
 * -f, before any file is opened: qemu-img looks the driver up first, so
 * "Unknown driver" comes before "No such file" for the first input.  Core
 * checks the name again (and refuses names qemu knows but cordon cannot
 * read).  0, or -1 after qemu-img's message.
 */
int check_in_fmt(const char *in_fmt, const char *first_input);

/* getopt_long (told ":...") returned ':' or '?' for `opt` (argv[optind - 1]):
 * qemu-img's missing_argument() or unrecognized_option(), both lines. */
void report_bad_option(int c, const char *opt);

/* The shared part of every command's help. */
void common_opts_usage(FILE *f);

/* qemu-img's own long options of a command (qemu[0..n)): getopt_long
 * takes an abbreviation unique among them as that option, and cordon's
 * shared options make some of them ambiguous ("--b": --bitmaps and
 * --backing-allow), so getopt_long refuses them.  For an option it
 * refused ('?' with optopt 0): the value qemu-img's getopt would have
 * returned, an abbreviation (without "=value") of exactly one of qemu's
 * options that takes no argument; else 0.  (No abbreviation of the ones
 * taking an argument collides with cordon's options.) */
int qemu_long_abbreviation(const char *arg, const struct option *qemu, size_t n);

#endif
