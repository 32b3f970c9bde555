/* Choosing a sandbox.  auto prefers the KVM microVM and falls back to the
 * strict-seccomp process where /dev/kvm is missing or unusable. */
#include "sandbox.h"

#include <stdbool.h>
#include <string.h>

#include "report.h"

int sandbox_kind_parse(const char *s, enum sandbox_kind *out)
{
	static const struct {
		const char *name;
		enum sandbox_kind kind;
	} kinds[] = {
		{ "auto", SANDBOX_AUTO },
		{ "kvm", SANDBOX_KVM },
		{ "process", SANDBOX_PROCESS },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(s, kinds[i].name) == 0) {
			*out = kinds[i].kind;
			return 0;
		}
	}
	return -1;
}

void sandbox_prewarm(enum sandbox_kind kind)
{
	if (kind != SANDBOX_PROCESS)
		sandbox_kvm_prewarm();
}

int sandbox_run(enum sandbox_kind kind, const struct sandbox_limits *lim,
		const struct cordon_job *job, struct host_devices *devs,
		const struct hc_sinks *sinks)
{
	bool kvm = kind != SANDBOX_PROCESS && sandbox_kvm_usable();
	if (kind == SANDBOX_KVM && !kvm) {
		report_error("the KVM sandbox is not usable here (/dev/kvm); "
			     "use --sandbox=process");
		return 1;
	}
	return kvm ? sandbox_kvm_run(lim, job, devs, sinks)
		   : sandbox_process_run(lim, job, devs, sinks);
}
