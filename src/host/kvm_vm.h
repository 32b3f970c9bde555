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
};

/* A guest image: the embedded one, or a test payload in the test build. */
struct kvm_image {
	const uint8_t *data;
	size_t len;
	uint64_t end;          /* from the header: first byte past its bss */
};

#define KVM_ERR_MAX 256

/* Checks the image header against the memory it will run in. */
int kvm_image_check(struct kvm_image *img, uint64_t mem_len, char *err,
		    size_t errlen);
/* Writes page tables, GDT, TSS, the image and the job into guest memory. */
void kvm_boot_load(struct kvm_vm *vm, const struct kvm_image *img,
		   const struct cordon_job *job);
/* Puts the vCPU in long mode at the image's entry.  0 or -errno. */
int kvm_boot_vcpu(struct kvm_vm *vm);

#endif
