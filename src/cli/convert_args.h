/*
 * qemu-img convert's command line (qemu-img.c img_convert): getopt_long
 * ":hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:" plus its long options and cordon's
 * shared ones, each value checked with qemu's rules and words, and the
 * checks qemu makes before it opens a file, in its order.  Options cordon
 * cannot carry out yet are refused here, after qemu's own checks, in one
 * line that says so.  No files are touched here.
 */
#ifndef CORDON_CLI_CONVERT_ARGS_H
#define CORDON_CLI_CONVERT_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common_opts.h"
#include "snapshot_opt.h"

/* qemu's cache modes (bdrv_parse_cache_mode). */
enum cache_mode {
	CACHE_INVALID = 0,
	CACHE_WRITEBACK,
	CACHE_UNSAFE,
	CACHE_NONE,         /* "none" or "off" */
	CACHE_DIRECTSYNC,
	CACHE_WRITETHROUGH,
};

struct convert_args {
	const char *const *in;  /* the inputs, in order */
	uint32_t n_in;
	const char *out;        /* the last operand */
	const char *in_fmt;     /* -f, NULL = probe each */
	const char *out_fmt;    /* -O, "raw" unless given */
	uint64_t min_sparse;    /* -S in bytes (default 4 KiB); 0: dense */
	bool progress;          /* -p, unless -q */
	bool quiet;             /* -q */
	bool compress;          /* -c */
	bool copy_offload;      /* -C */
	const char *cache;      /* -t as given, "unsafe" by default */
	enum cache_mode out_cache;
	enum cache_mode src_cache; /* -T */
	const char *src_cache_name; /* -T as given, when not a mode */
	long coroutines;        /* -m, 1..16 (8) */
	bool out_of_order;      /* -W */
	bool skip_create;       /* -n */
	bool target_is_zero;    /* --target-is-zero (with -n) */
	struct snapshot_opt snapshot; /* -l */
	struct common_opts common;
};

enum convert_args_result {
	CONVERT_ARGS_RUN,   /* parsed: go on */
	CONVERT_ARGS_HELP,  /* -h: usage printed, exit 0 */
	CONVERT_ARGS_ERROR, /* message printed, exit 1 */
};

/* "writeback", "none"/"off", ...: the mode, or CACHE_INVALID. */
enum cache_mode cache_mode_parse(const char *s);

/* argv[0] is "convert".  Permutes argv (GNU getopt). */
enum convert_args_result convert_args_parse(int argc, char **argv, struct convert_args *a);

#endif
