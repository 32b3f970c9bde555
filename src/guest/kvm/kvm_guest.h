/* Private to the KVM guest runtime (src/guest/kvm). */
#ifndef CORDON_GUEST_KVM_GUEST_H
#define CORDON_GUEST_KVM_GUEST_H

#include <stdint.h>

/* The thread-control block FS points at (boot.S).  Code built for a hosted
 * x86-64 target reads the stack-protector canary at %fs:0x28. */
#define KVM_TLS_CANARY 5 /* 0x28 / 8 */
extern uint64_t kvm_tls[8];

/* Entered at CPL 3 by boot.S with the guest memory size from the VMM. */
void kvm_user_main(uint64_t mem_size) __attribute__((noreturn));
/* boot.S, CPL 0: runs fn(arg) at CPL 3 on the given stack top. */
void kvm_enter_user(void (*fn)(uint64_t), uint64_t arg, uint64_t stack)
	__attribute__((noreturn));
/* boot.S, CPL 3: rings the hostcall doorbell (clobbers rax, rdx). */
void kvm_doorbell(void);

#endif
