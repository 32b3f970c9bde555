/*
 * qemu-img info's command line (qemu-img.c img_info): getopt_long ":f:hU"
 * with --format, --output, --backing-chain, --object, --image-opts and
 * cordon's shared options, each checked with qemu's words in its order.  No
 * files are touched here.
 */
#ifndef CORDON_CLI_INFO_ARGS_H
#define CORDON_CLI_INFO_ARGS_H

#include <stdbool.h>

#include "common_opts.h"

struct info_args {
	const char *file;     /* the one operand */
	const char *fmt;      /* -f, NULL = probe */
	bool json;            /* --output=json */
	bool backing_chain;   /* --backing-chain */
	struct common_opts common;
};

enum info_args_result {
	INFO_ARGS_RUN,   /* parsed: go on */
	INFO_ARGS_HELP,  /* -h: usage printed, exit 0 */
	INFO_ARGS_ERROR, /* message printed, exit 1 */
};

/* argv[0] is "info".  Permutes argv (GNU getopt). */
enum info_args_result info_args_parse(int argc, char **argv, struct info_args *a);

#endif
