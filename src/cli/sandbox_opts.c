/* --sandbox* options and their CORDON_SANDBOX* environment defaults. */
#include "sandbox_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../host/report.h"
#include "size_parse.h"

/* The watchdog counts milliseconds in 32 bits. */
#define TIMEOUT_MAX_S (UINT32_MAX / 1000u)

/* The option if given, else a non-empty environment variable, else NULL;
 * *name says which, for messages. */
static const char *pick(const char *opt, const char *opt_name,
			const char *env, const char **name)
{
	const char *v = getenv(env);

	if (opt) {
		*name = opt_name;
		return opt;
	}
	*name = env;
	return (v && *v) ? v : NULL;
}

static int resolve_kind(const char *v, const char *name, enum sandbox_kind *k)
{
	if (!v) {
		*k = SANDBOX_AUTO;
		return 0;
	}
	if (sandbox_kind_parse(v, k) == 0)
		return 0;
	report_error("Invalid %s specified. Must be auto, kvm or process.", name);
	return -1;
}

/* Sizes as qemu-img reads them (suffixes, fractions) and its message. */
static int resolve_memory(const char *v, const char *name, uint64_t *bytes)
{
	int64_t res;

	if (!v) {
		*bytes = SANDBOX_DEFAULT_MEM;
		return 0;
	}
	res = cvtnum_full(name, v, (int64_t)SANDBOX_MIN_MEM,
			  (int64_t)SANDBOX_MAX_MEM);
	if (res < 0)
		return -1;
	*bytes = (uint64_t)res;
	return 0;
}

/* Whole seconds, decimal digits only: a suffix would be ambiguous here. */
static int resolve_timeout(const char *v, const char *name, uint32_t *ms)
{
	unsigned long long s;
	char *end;

	if (!v) {
		*ms = SANDBOX_DEFAULT_TIMEOUT_MS;
		return 0;
	}
	errno = 0;
	s = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    s < 1 || s > TIMEOUT_MAX_S) {
		report_error("Invalid %s specified. Must be between 1 and %u "
			     "seconds.", name, TIMEOUT_MAX_S);
		return -1;
	}
	*ms = (uint32_t)s * 1000u;
	return 0;
}

int sandbox_config_resolve(const char *opt_kind, const char *opt_memory,
			   const char *opt_timeout, struct sandbox_config *cfg)
{
	const char *name, *v;

	v = pick(opt_kind, "sandbox", "CORDON_SANDBOX", &name);
	if (resolve_kind(v, name, &cfg->kind) < 0)
		return -1;
	v = pick(opt_memory, "sandbox-memory", "CORDON_SANDBOX_MEMORY", &name);
	if (resolve_memory(v, name, &cfg->limits.mem_bytes) < 0)
		return -1;
	v = pick(opt_timeout, "sandbox-timeout", "CORDON_SANDBOX_TIMEOUT", &name);
	return resolve_timeout(v, name, &cfg->limits.timeout_ms);
}
