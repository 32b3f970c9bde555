/*
 * cordon's own settings: which sandbox, how much memory, how long.  The
 * environment (CORDON_SANDBOX, CORDON_SANDBOX_MEMORY, CORDON_SANDBOX_TIMEOUT)
 * gives defaults so that scripts written for qemu-img need no new options;
 * --sandbox, --sandbox-memory and --sandbox-timeout override it.
 */
#ifndef CORDON_CLI_SANDBOX_OPTS_H
#define CORDON_CLI_SANDBOX_OPTS_H

#include "../host/sandbox.h"

struct sandbox_config {
	enum sandbox_kind kind;
	struct sandbox_limits limits;
};

/* Each opt_* is the option's value or NULL.  0, or -1 after a message. */
int sandbox_config_resolve(const char *opt_kind, const char *opt_memory,
			   const char *opt_timeout, struct sandbox_config *cfg);

#endif
