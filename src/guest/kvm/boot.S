/*
 * The guest's first instructions, the drop to user mode, and the entry
 * points from user mode back to CPL 0 (exceptions, the doorbell).
 *
 * The VMM starts the vCPU already in 64-bit long mode with paging, the GDT,
 * the TSS and SSE control bits set up (see kvm_layout.h), so there is no
 * mode switching here: set the stack and call C.
 */
#include "kvm_layout.h"

	.section .text.boot, "ax"
	.code64
	.globl _start
_start:
	/* The image header (kvm_layout.h): the VMM checks it before loading. */
	jmp	boot
	.balign	8
	.quad	KVM_IMAGE_MAGIC
	.quad	_image_end
	.quad	kvm_exc_stubs
	.quad	_super_end
	.quad	_text_end
	.quad	_rodata_end

/*
 * Everything else is already in place (kvm_layout.h), so the only work at
 * CPL 0 is the drop to CPL 3.  x87/SSE state is the vCPU's reset state: no
 * fninit/ldmxcsr, which an emulated CPL 0 (PVM) cannot run.  Until then the
 * stack is the exception stack: CPL 0 touches no user page (SMAP).
 */
boot:
	cld
	/* FS base = kvm_tls: hosted library code (zlib, libzstd) reads its
	 * stack-protector canary at %fs:0x28, which must be user-mapped. */
	movl	$0xc0000100, %ecx	/* IA32_FS_BASE */
	movl	$kvm_tls, %eax
	xorl	%edx, %edx
	wrmsr
	movq	$KVM_IST_TOP, %rsp
	xorl	%ebp, %ebp
	movq	%rdi, %rsi		/* guest memory size, from the VMM */
	movq	$kvm_user_main, %rdi
	movq	$KVM_STACK_TOP, %rdx
	jmp	kvm_enter_user
halt:
	cli
	hlt
	jmp	halt

/*
 * void kvm_enter_user(void (*fn)(uint64_t), uint64_t arg, uint64_t stack)
 * Starts fn(arg) at CPL 3 on stack, interrupts off, IOPL 0.  The stack is
 * set as if fn had been called (rsp = 8 mod 16); fn must not return.
 */
	.section .text.super, "ax"
	.globl	kvm_enter_user
kvm_enter_user:
	subq	$8, %rdx
	pushq	$(KVM_SEL_UDATA | 3)	/* ss */
	pushq	%rdx			/* rsp */
	pushq	$0x2			/* rflags: IF clear */
	pushq	$(KVM_SEL_UCODE | 3)	/* cs */
	pushq	%rdi			/* rip */
	movq	%rsi, %rdi
	iretq

/*
 * The doorbell, called from CPL 3 as kvm_doorbell(): user text.  An OUT at CPL 3 with
 * IOPL 0 raises #GP; the #GP handler recognises this one instruction by its
 * address, performs the OUT itself at CPL 0 (which exits to the VMM, which
 * serves the mailbox), and resumes after it.  A trap through a fault rather
 * than INT n or SYSCALL because every KVM delivers #GP the same way
 * (PVM, for one, rejects INT n from user mode).
 */
	.text
	.globl	kvm_doorbell
kvm_doorbell:
	movw	$KVM_DOORBELL_PORT, %dx
kvm_doorbell_out:
	outb	%al, %dx		/* 1 byte: the handler skips exactly this */
	ret

/*
 * Exception entry.  Every vector gets a stub that makes the frame uniform
 * (the CPU pushes an error code for some vectors only), then the common
 * path reports vector, error code, RIP and CR2 to the VMM in r8..r11 with
 * an OUT to KVM_FAULT_PORT.  The VMM never resumes a faulted guest, so the
 * handler does not return; it runs on the IST1 stack so that even a
 * smashed or overflowed main stack is reported rather than triple-faulting.
 */
	.section .text.super, "ax"
	.macro	exc_stub vec, has_err
	.balign	16
exc_\vec:
	.if	\has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
	.endm

	/* Vectors that push an error code: 8 10 11 12 13 14 17 21 29 30. */
	.irp	v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	exc_stub \v, 0
	.endr
	.irp	v, 8,10,11,12,14,17,21,29,30
	exc_stub \v, 1
	.endr

	/* #GP: the doorbell, or a real fault.  Frame: error code, rip, ... */
	.balign	16
exc_13:
	cmpq	$kvm_doorbell_out, 8(%rsp)
	jne	1f
	cmpq	$0, (%rsp)
	jne	1f
	pushq	%rax
	pushq	%rdx
	xorl	%eax, %eax
	movw	$KVM_DOORBELL_PORT, %dx
	outb	%al, %dx
	popq	%rdx
	popq	%rax
	addq	$8, %rsp		/* the error code */
	incq	(%rsp)			/* past the 1-byte OUT */
	iretq
1:	pushq	$13
	jmp	exc_common

exc_common:
	movq	0(%rsp), %r8		/* vector */
	movq	8(%rsp), %r9		/* error code */
	movq	16(%rsp), %r10		/* RIP of the faulting instruction */
	movq	%cr2, %r11		/* page-fault address */
	movw	$KVM_FAULT_PORT, %dx
	outb	%al, %dx
	jmp	halt

/* The entry points' addresses, indexed by vector: the VMM builds the IDT
 * from this table, which the image header points to. */
	.section .rodata
	.balign	8
	.globl	kvm_exc_stubs
kvm_exc_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	exc_\v
	.endr

	.section .note.GNU-stack, "", @progbits
