/*
 * qemu-img convert's argument parsing (qemu-img.c img_convert), message for
 * message; see convert_args.h.  As in dd_args.c, getopt is told ":..." so
 * that it prints nothing and qemu-img's own messages name argv[optind - 1].
 */
#include "convert_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../core/convert.h"
#include "cmd.h"
#include "../host/report.h"
#include "size_parse.h"
#include "snapshot_opt.h"

#define MAX_COROUTINES 16

enum {
	OPT_OBJECT = OPT_COMMON_END,
	OPT_IMAGE_OPTS,
	OPT_TARGET_IMAGE_OPTS,
	OPT_SALVAGE,
	OPT_TARGET_IS_ZERO,
	OPT_BITMAPS,
	OPT_SKIP_BROKEN,
};

/* qemu-img convert's own long options (img_convert), --force-share aside. */
#define QEMU_CONVERT_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "object", required_argument, NULL, OPT_OBJECT }, \
	{ "image-opts", no_argument, NULL, OPT_IMAGE_OPTS }, \
	{ "target-image-opts", no_argument, NULL, OPT_TARGET_IMAGE_OPTS }, \
	{ "salvage", no_argument, NULL, OPT_SALVAGE }, \
	{ "target-is-zero", no_argument, NULL, OPT_TARGET_IS_ZERO }, \
	{ "bitmaps", no_argument, NULL, OPT_BITMAPS }, \
	{ "skip-broken-bitmaps", no_argument, NULL, OPT_SKIP_BROKEN }

static const struct option convert_longopts[] = {
	QEMU_CONVERT_LONGOPTS,
	COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* qemu-img's alone, for the abbreviations cordon's make ambiguous. */
static const struct option qemu_convert_longopts[] = {
	QEMU_CONVERT_LONGOPTS,
	{ "force-share", no_argument, NULL, 'U' },
};

enum cache_mode cache_mode_parse(const char *s)
{
	static const struct {
		const char *name;
		enum cache_mode mode;
	} modes[] = {
		{ "off", CACHE_NONE }, { "none", CACHE_NONE },
		{ "directsync", CACHE_DIRECTSYNC }, { "writeback", CACHE_WRITEBACK },
		{ "unsafe", CACHE_UNSAFE }, { "writethrough", CACHE_WRITETHROUGH },
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i].name) == 0)
			return modes[i].mode;
	return CACHE_INVALID;
}

/* What was given that cordon records but cannot carry out yet, or that
 * only takes part in qemu's cross-checks. */
struct seen {
	const char *base, *base_fmt, *options, *rate;
	bool skip_create, explicit_sparse, image_opts, target_image_opts, salvage;
	bool target_is_zero, bitmaps, skip_broken, object;
};

/* qemu_strtol(s, NULL, 0, &v): the whole string, base 0, no overflow. */
static int strtol_whole(const char *s, long *v)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 0);
	if (end == s || *end != '\0' || errno == ERANGE)
		return -1;
	*v = n;
	return 0;
}

static enum convert_args_result convert_option(int c, char **argv, struct convert_args *a,
					       struct seen *s)
{
	int shared = common_opt(&a->common, c, optarg);
	if (shared != 0)
		return shared > 0 ? CONVERT_ARGS_RUN : CONVERT_ARGS_ERROR;
	switch (c) {
	case 'f': a->in_fmt = optarg; break;
	case 'O': a->out_fmt = optarg; break;
	case 'B': s->base = optarg; break;
	case 'C': a->copy_offload = true; break;
	case 'c': a->compress = true; break;
	case 'F': s->base_fmt = optarg; break;
	case 'o': s->options = optarg; break;
	case 'l':
		if (snapshot_opt_parse(optarg, &a->snapshot) < 0)
			return CONVERT_ARGS_ERROR;
		break;
	case 'S': {
		int64_t v = cvtnum("buffer size for sparse output", optarg);
		if (v < 0)
			return CONVERT_ARGS_ERROR;
		if (v % 512 || (uint64_t)v > CONVERT_MAX_SPARSE) {
			report_error("Invalid buffer size for sparse output specified. "
				     "Valid sizes are multiples of 512 up to %llu. Select "
				     "0 to disable sparse detection (fully allocates "
				     "output).", CONVERT_MAX_SPARSE);
			return CONVERT_ARGS_ERROR;
		}
		a->min_sparse = (uint64_t)v;
		s->explicit_sparse = true;
		break;
	}
	case 'p': a->progress = true; break;
	case 't': a->cache = optarg; break;
	case 'T': a->src_cache = cache_mode_parse(optarg);
		if (a->src_cache == CACHE_INVALID)
			a->src_cache_name = optarg;
		break;
	case 'q': a->quiet = true; break;
	case 'n': s->skip_create = true; break;
	case 'm':
		if (strtol_whole(optarg, &a->coroutines) < 0 || a->coroutines < 1 ||
		    a->coroutines > MAX_COROUTINES) {
			report_error("Invalid number of coroutines. Allowed number of "
				     "coroutines is between 1 and %d", MAX_COROUTINES);
			return CONVERT_ARGS_ERROR;
		}
		break;
	case 'W': a->out_of_order = true; break;
	case 'r': {
		if (cvtnum("rate limit", optarg) < 0)
			return CONVERT_ARGS_ERROR;
		s->rate = optarg;
		break;
	}
	case OPT_OBJECT: s->object = true; break;
	case OPT_IMAGE_OPTS: s->image_opts = true; break;
	case OPT_TARGET_IMAGE_OPTS: s->target_image_opts = true; break;
	case OPT_SALVAGE: s->salvage = true; break;
	case OPT_TARGET_IS_ZERO: s->target_is_zero = true; break;
	case OPT_BITMAPS: s->bitmaps = true; break;
	case OPT_SKIP_BROKEN: s->skip_broken = true; break;
	case 'h':
		cmd_convert_usage(stdout);
		return CONVERT_ARGS_HELP;
	default: /* ':' or '?' */
		report_bad_option(c, argv[optind - 1]);
		return CONVERT_ARGS_ERROR;
	}
	return CONVERT_ARGS_RUN;
}

/* qemu-img's checks between the options and the first open, in its order. */
static int cross_checks(const struct convert_args *a, const struct seen *s)
{
	const char *why = NULL;
	if (s->skip_broken && !s->bitmaps)
		why = "Use of --skip-broken-bitmaps requires --bitmaps";
	else if (a->compress && a->copy_offload)
		why = "Cannot enable copy offloading when -c is used";
	else if (s->explicit_sparse && a->copy_offload)
		why = "Cannot enable copy offloading when -S is used";
	else if (a->copy_offload && s->salvage)
		why = "Cannot use copy offloading in salvaging mode";
	else if (s->target_image_opts && !s->skip_create)
		why = "--target-image-opts requires use of -n flag";
	else if (s->skip_create && s->options)
		why = "-o has no effect when skipping image creation";
	else if (s->target_is_zero && !s->skip_create)
		why = "--target-is-zero requires use of -n flag";
	if (why) {
		report_error("%s", why);
		return -1;
	}
	return 0;
}

/* What cordon convert cannot do yet: refused before any file is opened,
 * each in one line (docs/convert.md lists them). */
static int not_yet(const struct seen *s)
{
	const char *what = NULL;
	if (s->object)
		what = "--object (cordon takes no QOM objects)";
	else if (s->image_opts || s->target_image_opts)
		what = "--image-opts and --target-image-opts";
	else if (s->options)
		what = "-o (output format options)";
	else if (s->base || s->base_fmt)
		what = "-B and -F (a backing file for the output)";
	else if (s->salvage)
		what = "--salvage";
	else if (s->bitmaps)
		what = "--bitmaps";
	else if (s->rate)
		what = "-r (a rate limit)";
	if (!what)
		return 0;
	report_error("cordon convert cannot honour %s yet", what);
	return -1;
}

enum convert_args_result convert_args_parse(int argc, char **argv, struct convert_args *a)
{
	struct seen s = { 0 };
	int c;

	*a = (struct convert_args){
		.out_fmt = "raw", .min_sparse = 4096, .cache = "unsafe",
		.src_cache = CACHE_WRITEBACK, .coroutines = 8,
	};
	while ((c = getopt_long(argc, argv, ":hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:",
				convert_longopts, NULL)) != -1) {
		int qemu = c == '?' && optopt == 0
				   ? qemu_long_abbreviation(argv[optind - 1], qemu_convert_longopts,
							    sizeof(qemu_convert_longopts) /
								    sizeof(qemu_convert_longopts[0]))
				   : 0;
		enum convert_args_result r = convert_option(qemu ? qemu : c, argv, a, &s);
		if (r != CONVERT_ARGS_RUN)
			return r;
	}
	if (cross_checks(a, &s) < 0)
		return CONVERT_ARGS_ERROR;
	int n = argc - optind - 1;
	if (n < 1) {
		report_error("Must specify image file name");
		return CONVERT_ARGS_ERROR;
	}
	if (a->src_cache == CACHE_INVALID) {
		report_error("Invalid source cache option: %s", a->src_cache_name);
		return CONVERT_ARGS_ERROR;
	}
	if (not_yet(&s) < 0)
		return CONVERT_ARGS_ERROR;
	a->skip_create = s.skip_create;
	a->target_is_zero = s.target_is_zero;
	a->in = (const char *const *)&argv[optind];
	a->n_in = (uint32_t)n;
	a->out = argv[argc - 1];
	a->out_cache = cache_mode_parse(a->cache);
	if (a->quiet)
		a->progress = false;
	return common_opts_finish(&a->common) < 0 ? CONVERT_ARGS_ERROR : CONVERT_ARGS_RUN;
}
