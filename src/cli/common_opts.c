/* Options every command takes (see common_opts.h). */
#include "common_opts.h"

#include <stdlib.h>
#include <string.h>

#include "../core/format.h"
#include "../host/report.h"
#include "sandbox_opts.h"

int common_opt(struct common_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'U': o->force_share = true; return 1;
	case OPT_SANDBOX: o->sandbox = arg; return 1;
	case OPT_SANDBOX_MEMORY: o->sandbox_memory = arg; return 1;
	case OPT_SANDBOX_TIMEOUT: o->sandbox_timeout = arg; return 1;
	case OPT_BACKING_ALLOW:
		if (o->n_backing_allow == COMMON_BACKING_ALLOW_MAX) {
			report_error("--backing-allow: at most %u directories",
				     COMMON_BACKING_ALLOW_MAX);
			return -1;
		}
		o->backing_allow[o->n_backing_allow++] = arg;
		return 1;
	default:
		return 0;
	}
}

/*
 * --backing-allow values, else CORDON_BACKING_ALLOW's (directories separated
 * by ':').  "none", alone, refuses every backing file: the setting for
 * untrusted uploads.  A directory called "none" is "./none".
 */
int common_opts_finish(struct common_opts *o)
{
	const char *env = getenv("CORDON_BACKING_ALLOW");
	if (o->n_backing_allow == 0 && env && *env) {
		o->backing_env = strdup(env);
		if (!o->backing_env)
			return -1;
		for (char *dir = strtok(o->backing_env, ":"); dir; dir = strtok(NULL, ":")) {
			if (o->n_backing_allow == COMMON_BACKING_ALLOW_MAX) {
				report_error("CORDON_BACKING_ALLOW: at most %u directories",
					     COMMON_BACKING_ALLOW_MAX);
				return -1;
			}
			o->backing_allow[o->n_backing_allow++] = dir;
		}
	}
	for (unsigned i = 0; i < o->n_backing_allow; i++) {
		if (strcmp(o->backing_allow[i], "none") != 0)
			continue;
		if (o->n_backing_allow > 1) {
			report_error("--backing-allow=none cannot be combined with "
				     "directories");
			return -1;
		}
		o->backing_none = true;
		o->n_backing_allow = 0;
	}
	return 0;
}

int common_opts_resolve(const struct common_opts *o, struct run_plan *plan)
{
	struct sandbox_config cfg;
	if (sandbox_config_resolve(o->sandbox, o->sandbox_memory, o->sandbox_timeout,
				   &cfg) < 0)
		return -1;
	plan->sandbox = cfg.kind;
	plan->limits = cfg.limits;
	plan->policy = (struct run_policy){
		.allow_dirs = o->backing_allow,
		.n_allow = o->n_backing_allow,
		.backing_none = o->backing_none,
		.force_share = o->force_share,
	};
	return 0;
}

void common_opts_free(struct common_opts *o)
{
	free(o->backing_env);
	o->backing_env = NULL;
}

void common_opts_usage(FILE *f)
{
	fputs("  -U, --force-share    open inputs in shared mode (QEMU's locks)\n"
	      "\n"
	      "Sandbox (defaults from CORDON_SANDBOX, CORDON_SANDBOX_MEMORY and\n"
	      "CORDON_SANDBOX_TIMEOUT):\n"
	      "  --sandbox=auto|kvm|process  auto: KVM when usable, else process\n"
	      "  --sandbox-memory=SIZE       sandbox memory, 4M to 4G (default 64M)\n"
	      "  --sandbox-timeout=SECONDS   wall-clock limit (default 3600)\n"
	      "\n"
	      "Backing files named inside images are opened only from the image's\n"
	      "own directory (not below it, no hidden files) unless allowed here\n"
	      "(default from CORDON_BACKING_ALLOW: none, or DIR:DIR...):\n"
	      "  --backing-allow=DIR         also allow files under DIR (repeatable)\n"
	      "  --backing-allow=none        refuse every backing file\n", f);
}

int check_in_fmt(const char *in_fmt, const char *first_input)
{
	if (!in_fmt || format_info(in_fmt))
		return 0;
	report_error("Could not open '%s': Unknown driver '%s'", first_input, in_fmt);
	return -1;
}

void report_bad_option(int c, const char *opt)
{
	if (c == ':')
		report_error("missing argument for option '%s'", opt);
	else
		report_error("unrecognized option '%s'", opt);
	report_try_help();
}

int qemu_long_abbreviation(const char *arg, const struct option *qemu, size_t n)
{
	if (strncmp(arg, "--", 2) != 0 || strchr(arg, '='))
		return 0;
	size_t len = strlen(arg + 2);
	const struct option *found = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(qemu[i].name, arg + 2, len) != 0)
			continue;
		if (found)
			return 0; /* ambiguous in qemu-img too */
		found = &qemu[i];
	}
	return found && found->has_arg == no_argument ? found->val : 0;
}
