/*
 * Test-only guest payloads: each file is a whole guest image (the real boot
 * stub, IDT and libc from src/guest, plus its own sandbox_entry() instead of
 * core's, running at CPL 3 like core) that breaks one rule on purpose.  Built by `make guest-payloads`,
 * run only through build/cordon-test with CORDON_TEST_GUEST=<name>.bin;
 * never embedded in the shipped binary.  tests/integration/
 * test_sandbox_kvm.py says what each must end with.
 */
#ifndef CORDON_TESTS_GUEST_PAYLOAD_H
#define CORDON_TESTS_GUEST_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../../src/abi/hostcall_abi.h"
#include "../../src/abi/job.h"
#include "../../src/guest/hostcall_client.h"
#include "../../src/guest/kvm/kvm_guest.h"
#include "../../src/guest/kvm/kvm_layout.h"
#include "../../src/guest/sandbox_entry.h"

/* A hostcall with every field chosen by the payload, bypassing the checks
 * the real client's table makes: the host must make them itself. */
static inline int64_t raw_hostcall(struct hc_client *c, const struct hc_msg *req)
{
	return hc_client_send(c, req, NULL);
}

/* The dd job's devices, as the host numbered them. */
static inline const struct cordon_job *payload_job(struct hc_client *c)
{
	return (const struct cordon_job *)(const void *)(c->region + HC_REGION_JOB_OFF);
}

static inline uint32_t payload_in(struct hc_client *c)
{
	return payload_job(c)->cmd.dd.in;
}

static inline uint32_t payload_out(struct hc_client *c)
{
	return payload_job(c)->cmd.dd.out;
}

static inline void payload_exit(struct hc_client *c, int status)
{
	struct hc_msg req = { .op = HC_OP_EXIT, .off = (uint64_t)status };
	raw_hostcall(c, &req);
}

static inline __attribute__((noreturn)) void spin_forever(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

#endif
