/* Private to the KVM guest runtime (src/guest/kvm). */
#ifndef CORDON_GUEST_KVM_GUEST_H
#define CORDON_GUEST_KVM_GUEST_H

#include <stdint.h>

/* Entered at CPL 3 by boot.S with the guest memory size from the VMM. */
void kvm_user_main(uint64_t mem_size) __attribute__((noreturn));
/* boot.S, CPL 0: runs fn(arg) at CPL 3 on the given stack top. */
void kvm_enter_user(void (*fn)(uint64_t), uint64_t arg, uint64_t stack)
	__attribute__((noreturn));
/* boot.S, CPL 3: rings the hostcall doorbell (clobbers rax, rdx). */
void kvm_doorbell(void);

#endif
