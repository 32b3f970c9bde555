/*
 * The KVM microVM as the host holds it: private to sandbox_kvm.c (the VMM
 * loop) and kvm_boot.c (memory map, page tables and vCPU entry state).
 */
#ifndef CORDON_HOST_KVM_VM_H
#define CORDON_HOST_KVM_VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "../abi/job.h"

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	uint8_t *mem;          /* all of guest memory = the shared region */
	uint64_t mem_len;
	struct kvm_run *run;   /* the vCPU's shared page */
	size_t run_len;
	uint64_t cr4_hardening; /* CR4.UMIP/SMEP/SMAP as set (those it has) */
};

/* A guest image: the embedded one, or a test payload in the test build. */
struct kvm_image {
	const uint8_t *data;
	size_t len;
	uint64_t end;          /* from the header: first byte past its bss */
};

#define KVM_ERR_MAX 256
#define KVM_CPUID_MAX_ENTRIES 256

/* KVM_GET_SUPPORTED_CPUID's answer, given to the vCPU as its CPUID. */
struct kvm_cpuid_table {
	int valid;
	union { /* struct kvm_cpuid2 ends in a flexible array: room after it */
		struct kvm_cpuid2 head;
		uint8_t bytes[sizeof(struct kvm_cpuid2) +
			      KVM_CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
	} c;
};

/* Asks KVM which CPUID it supports (slow where KVM is itself nested:
 * every host CPUID traps, ~0.3 ms; sandbox_kvm.c overlaps it). */
void kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid_table *t);

/* Checks the image header against the memory it will run in. */
int kvm_image_check(struct kvm_image *img, uint64_t mem_len, char *err,
		    size_t errlen);
/* Writes page tables, GDT, TSS, the image and the job into guest memory. */
void kvm_boot_load(struct kvm_vm *vm, const struct kvm_image *img,
		   const struct cordon_job *job);
/* Gives the vCPU the CPUID in t (when valid) and puts it in long mode at
 * the image's entry, with CR4.UMIP/SMEP/SMAP where that CPUID has them.
 * 0 or -errno. */
int kvm_boot_vcpu(struct kvm_vm *vm, const struct kvm_cpuid_table *t);

#endif
