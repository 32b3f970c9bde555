/*
 * Subcommands (kvmtool's kvm-cmd.c pattern): main.c holds the one table;
 * each command is a handler that gets argv with its own name in argv[0],
 * as qemu-img's handlers do, and returns the exit status.
 */
#ifndef CORDON_CLI_CMD_H
#define CORDON_CLI_CMD_H

#include <stdio.h>

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary; /* one line for `cordon --help` */
};

int cmd_dd(int argc, char **argv);
void cmd_dd_usage(FILE *f);
int cmd_convert(int argc, char **argv);
void cmd_convert_usage(FILE *f);
int cmd_info(int argc, char **argv);
void cmd_info_usage(FILE *f);

#endif
