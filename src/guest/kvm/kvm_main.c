/*
 * The guest's C entry, at CPL 3 (boot.S drops there; kvm_layout.h says
 * why): bring up the hostcall client over all of guest memory and hand the
 * memory past the image to sandbox_entry() as its heap.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../abi/hostcall_abi.h"
#include "../hostcall_client.h"
#include "../sandbox_entry.h"
#include "kvm_guest.h"
#include "kvm_layout.h"

_Static_assert(KVM_DOORBELL_PORT == HC_KVM_DOORBELL_PORT,
	       "boot.S rings the ABI's doorbell port");

extern char _image_end[]; /* guest.ld: first page past bss */

uint64_t kvm_tls[8] __attribute__((aligned(64)));

/* A canary that differs per run: the TSC at start.  Set before any
 * protected function runs (this file is built without the protector). */
static void set_canary(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t v = ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull;
	kvm_tls[KVM_TLS_CANARY] = v & ~0xffull; /* low byte 0, as glibc's */
}

/* The doorbell: kvm_doorbell (boot.S) traps to CPL 0, whose OUT exits to
 * the VMM, which serves the mailbox before we continue.  The mailbox is
 * volatile and the call is opaque, so the stores are done before it. */
static void ring_doorbell(void *ctx)
{
	(void)ctx;
	kvm_doorbell();
}

/* CPL 3 cannot halt; after the exit hostcall the VMM never resumes us. */
static __attribute__((noreturn)) void wait_forever(void)
{
	for (;;)
		__asm__ volatile("pause" ::: "memory");
}

void kvm_user_main(uint64_t mem_size)
{
	/* The region starts at guest-physical 0, so region pointers are
	 * offsets; the guest is built with -fno-delete-null-pointer-checks so
	 * the compiler does not reason from that base being NULL. */
	static struct hc_client client;
	uintptr_t heap = (uintptr_t)_image_end;

	set_canary();
	hc_client_init(&client, (uint8_t *)0, mem_size, ring_doorbell, NULL);
	/* The VMM checked that the image leaves a heap; stay safe anyway. */
	if (heap < mem_size)
		sandbox_entry(&client, (void *)heap, (size_t)(mem_size - heap));
	hc_client_exit(&client, 1);
	wait_forever();
}
