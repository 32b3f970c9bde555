/*
 * cordon's entry: global options, then one subcommand from the table.
 * Mirrors qemu-img's main(): "+:hV" stops at the command name, unknown
 * options and commands get qemu-img's messages, exit status 1.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../host/report.h"

#define CORDON_VERSION "0.1.0"
#define CORDON_COMPAT "qemu-img 7.2"

/* Add a command here; nothing else needs to know about it. */
static const struct cli_cmd commands[] = {
	{ "convert", cmd_convert, cmd_convert_usage,
	  "convert disk images to another format, as qemu-img convert" },
	{ "dd", cmd_dd, cmd_dd_usage, "copy part of a disk image, as qemu-img dd" },
	{ "info", cmd_info, cmd_info_usage, "describe a disk image, as qemu-img info" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: cordon [-h | --help] [-V | --version] command "
		   "[command options]\n"
		   "A sandboxed drop-in replacement for %s: disk images are "
		   "parsed only\ninside a sandbox (KVM microVM or seccomp "
		   "process).\n\nCommands:\n", CORDON_COMPAT);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'cordon COMMAND -h' for a command's options.\n", f);
}

static void version(void)
{
	printf("cordon version " CORDON_VERSION " (compatible with "
	       CORDON_COMPAT ")\n");
}

/* qemu-img's error_exit(): the message, the Try line, status 1. */
__attribute__((format(printf, 1, 2)))
static int fail_with_try(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
	report_try_help();
	return EXIT_FAILURE;
}

static const struct cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Global options: -1 to go on to the command, else the exit status. */
static int global_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			version();
			return EXIT_SUCCESS;
		case ':':
			return fail_with_try("missing argument for option '%s'",
					     argv[optind - 1]);
		default:
			return fail_with_try("unrecognized option '%s'",
					     argv[optind - 1]);
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	int ret;

	if (argc < 2)
		return fail_with_try("Not enough arguments");
	ret = global_options(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind >= argc)
		return fail_with_try("Not enough arguments");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return fail_with_try("Command not found: %s", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: 0 restarts getopt, as qemu_reset_optind() */
	return cmd->run(argc, argv);
}
