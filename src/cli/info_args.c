/*
 * qemu-img info's argument parsing (qemu-img.c img_info), message for
 * message; see info_args.h.  As in convert_args.c, getopt is told ":..." so
 * that it prints nothing and qemu-img's messages name argv[optind - 1].
 */
#include "info_args.h"

#include <getopt.h>
#include <string.h>

#include "../host/report.h"
#include "cmd.h"

enum {
	OPT_OUTPUT = OPT_COMMON_END,
	OPT_BACKING_CHAIN,
	OPT_OBJECT,
	OPT_IMAGE_OPTS,
};

/* qemu-img info's own long options (img_info), --force-share aside. */
#define QEMU_INFO_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "format", required_argument, NULL, 'f' }, \
	{ "output", required_argument, NULL, OPT_OUTPUT }, \
	{ "backing-chain", no_argument, NULL, OPT_BACKING_CHAIN }, \
	{ "object", required_argument, NULL, OPT_OBJECT }, \
	{ "image-opts", no_argument, NULL, OPT_IMAGE_OPTS }

static const struct option info_longopts[] = {
	QEMU_INFO_LONGOPTS,
	COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* qemu-img info's options alone.  getopt_long takes an abbreviation
 * unique among them as that option in qemu-img ("--back" is
 * --backing-chain); cordon's shared options make some of them ambiguous
 * ("--back": --backing-allow too), so getopt_long refuses them here. */
static const struct option qemu_info_longopts[] = {
	QEMU_INFO_LONGOPTS,
	{ "force-share", no_argument, NULL, 'U' },
};
#define N_QEMU_INFO_LONGOPTS (sizeof(qemu_info_longopts) / sizeof(qemu_info_longopts[0]))

enum info_args_result info_args_parse(int argc, char **argv, struct info_args *a)
{
	const char *output = NULL, *not_yet = NULL;
	int c;

	*a = (struct info_args){ 0 };
	while ((c = getopt_long(argc, argv, ":f:hU", info_longopts, NULL)) != -1) {
		int qemu = c == '?' && optopt == 0
				   ? qemu_long_abbreviation(argv[optind - 1], qemu_info_longopts,
							    N_QEMU_INFO_LONGOPTS)
				   : 0;
		if (qemu)
			c = qemu;
		int shared = common_opt(&a->common, c, optarg);
		if (shared < 0)
			return INFO_ARGS_ERROR;
		if (shared > 0)
			continue;
		switch (c) {
		case 'f': a->fmt = optarg; break;
		case OPT_OUTPUT: output = optarg; break;
		case OPT_BACKING_CHAIN: a->backing_chain = true; break;
		/* qemu would create the object (a secret for an encrypted
		 * image) at once; cordon takes none. */
		case OPT_OBJECT: not_yet = "--object (cordon takes no QOM objects)"; break;
		case OPT_IMAGE_OPTS: not_yet = not_yet ? not_yet : "--image-opts"; break;
		case 'h':
			cmd_info_usage(stdout);
			return INFO_ARGS_HELP;
		default: /* ':' or '?' */
			report_bad_option(c, argv[optind - 1]);
			return INFO_ARGS_ERROR;
		}
	}
	if (optind != argc - 1) {
		report_error("Expecting one image file name");
		report_try_help();
		return INFO_ARGS_ERROR;
	}
	a->file = argv[optind];
	if (output && strcmp(output, "json") == 0) {
		a->json = true;
	} else if (output && strcmp(output, "human") != 0) {
		report_error("--output must be used with human or json as argument.");
		return INFO_ARGS_ERROR;
	}
	if (not_yet) {
		report_error("cordon info cannot honour %s yet", not_yet);
		return INFO_ARGS_ERROR;
	}
	return common_opts_finish(&a->common) < 0 ? INFO_ARGS_ERROR : INFO_ARGS_RUN;
}
