/*
 * Running core in a sandbox.  There is no unsandboxed path: the cli always
 * comes through here.
 */
#ifndef CORDON_HOST_SANDBOX_H
#define CORDON_HOST_SANDBOX_H

#include <stdint.h>

#include "../abi/job.h"
#include "devices.h"
#include "hostcall_server.h"

enum sandbox_kind { SANDBOX_AUTO, SANDBOX_KVM, SANDBOX_PROCESS };

struct sandbox_limits {
	uint64_t mem_bytes;   /* guest memory / shared region size */
	uint32_t timeout_ms;  /* wall-clock watchdog */
};

#define SANDBOX_DEFAULT_MEM (64ull << 20)
#define SANDBOX_MIN_MEM (4ull << 20)
#define SANDBOX_MAX_MEM (4ull << 30)
#define SANDBOX_DEFAULT_TIMEOUT_MS (3600u * 1000u)

/* Parses "auto", "kvm", "process"; -1 if none. */
int sandbox_kind_parse(const char *s, enum sandbox_kind *out);

/*
 * Runs the job; returns cordon's exit status (0 or 1).  Messages from core
 * and "the sandbox stopped: <reason>" are printed on stderr.
 */
int sandbox_run(enum sandbox_kind kind, const struct sandbox_limits *lim,
		const struct cordon_job *job, struct host_devices *devs,
		const struct hc_sinks *sinks);

/* Starts what can be started before the run's files are open (for KVM:
 * creating the VM, asking for its CPUID) on a thread of its own;
 * sandbox_run joins it.  Optional: only a matter of speed. */
void sandbox_prewarm(enum sandbox_kind kind);

/* Each backend; 1 = could not start this kind (auto falls back), else as
 * sandbox_run. */
int sandbox_kvm_usable(void);
void sandbox_kvm_prewarm(void);
int sandbox_kvm_run(const struct sandbox_limits *lim, const struct cordon_job *job,
		    struct host_devices *devs, const struct hc_sinks *sinks);
int sandbox_process_run(const struct sandbox_limits *lim, const struct cordon_job *job,
			struct host_devices *devs, const struct hc_sinks *sinks);

#endif
