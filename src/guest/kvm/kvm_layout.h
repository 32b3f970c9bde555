/*
 * The KVM guest's memory map and boot contract, shared by the guest (C and
 * assembly) and the VMM (src/host/sandbox_kvm.c).  Only #defines, so that the
 * .S files can include it.
 *
 * Guest memory is the shared region of hostcall_abi.h, identity mapped from
 * guest-physical 0.  The VMM builds the page tables, GDT and TSS below before
 * the first KVM_RUN and starts the vCPU directly in 64-bit long mode at
 * KVM_IMAGE_BASE (no BIOS, no real mode), with the IDT already loaded (its
 * entry points come from the image header).  The boot stub (CPL 0) only
 * drops to CPL 3, where core runs; a hostcall's doorbell is an OUT at CPL 3,
 * which faults (#GP) into a CPL-0 handler that does the OUT.
 *
 * Why core runs in user mode: some KVM implementations run only guest user
 * mode natively and emulate supervisor mode one instruction at a time (PVM,
 * used where there is no hardware virtualization, as on cordon's CI
 * machines) -- and their emulator cannot run SSE at all.  Native hardware
 * KVM runs both the same.  It also keeps the page tables, GDT, TSS and IDT
 * out of core's reach (those pages are supervisor-only).  For the same
 * reason the VMM, not the guest, writes the IDT: CPL-0 instructions are
 * the expensive ones there.
 *
 *   0x000000  page 0: not mapped (NULL dereferences fault)
 *   0x001000  mailbox (struct hc_msg)          user RW  } hostcall_abi.h
 *   0x002000  job (struct cordon_job), 3 pages user RO  }
 *   0x005000  GDT, the TSS at +0x100, the IDT at +0x800  (VMM-written)
 *   0x006000  PML4, 0x7000 PDPT, 0x8000..0xbfff four PDs (up to 4 GiB)
 *   0x00c000  guard page: not mapped
 *   0x00d000  exception stack (IST1, also the boot stack), top at 0xe000
 *   0x00e000  two pages not mapped
 *   0x010000  eight PTs: the first 16 MiB in 4 KiB pages, so that each
 *             page of the image gets its own rights
 *   0x018000  guard page: not mapped (catches main stack overflow)
 *   0x019000  main stack, top at 0x100000 (924 KiB, touched lazily)
 *   0x100000  the guest image, in four page-aligned parts:
 *               supervisor text (header, boot, exception entry)  S  RX
 *               text                                             U  RX
 *               rodata                                           U  R
 *               data, bss                                        U  RW
 *   _image_end .. end of memory: heap handed to sandbox_entry()  U  RW
 *
 * Everything in 0x5000..0x18fff and the supervisor text is supervisor-only,
 * and all of it but the exception stack is read-only even to CPL 0 (CR0.WP);
 * only text is executable (NX elsewhere).  CR4.UMIP, SMEP and SMAP are set
 * where the vCPU has them (kvm_boot.c), so CPL 0 can neither run nor touch
 * user pages.
 *
 * Entry state (KVM_SET_SREGS / KVM_SET_REGS): CR0 = PE|MP|ET|NE|WP|PG (EM
 * clear), CR4 = PAE|OSFXSR|OSXMMEXCPT (+ UMIP|SMEP|SMAP where supported),
 * EFER = LME|LMA|NXE, CR3 = KVM_PML4,
 * CS = 0x08 (64-bit code), data segments 0x10, TR = 0x18 (the TSS above),
 * user code 0x28 and user data 0x30 in the GDT for the drop to CPL 3,
 * IDT = KVM_IDT (32 interrupt gates, DPL 0, IST1), RFLAGS = 0x2
 * (interrupts off), RIP = KVM_IMAGE_BASE, RSP = KVM_IST_TOP, RDI = guest
 * memory size in bytes.  x87/SSE state is the vCPU's reset state (FCW
 * 0x37f, MXCSR 0x1f80).
 */
#ifndef CORDON_GUEST_KVM_LAYOUT_H
#define CORDON_GUEST_KVM_LAYOUT_H

#define KVM_PAGE 0x1000

#define KVM_JOB_START 0x2000       /* user read-only: the host writes it */
#define KVM_JOB_END 0x5000
#define KVM_GDT 0x5000
#define KVM_TSS 0x5100
#define KVM_IDT 0x5800
#define KVM_SUPERVISOR_START 0x5000 /* [start, end): not user-accessible */
#define KVM_SUPERVISOR_END 0x19000
#define KVM_PML4 0x6000
#define KVM_PDPT 0x7000
#define KVM_PD 0x8000      /* four consecutive pages, one per GiB */
#define KVM_GUARD_IST 0xc000
#define KVM_IST 0xd000     /* the one writable supervisor page */
#define KVM_IST_TOP 0xe000
#define KVM_PT 0x10000     /* KVM_PT_COUNT consecutive PTs */
#define KVM_PT_COUNT 8
#define KVM_GUARD_STACK 0x18000
#define KVM_STACK_TOP 0x100000
#define KVM_IMAGE_BASE 0x100000

#define KVM_SEL_CODE 0x08
#define KVM_SEL_DATA 0x10
#define KVM_SEL_TSS 0x18
#define KVM_SEL_UCODE 0x28
#define KVM_SEL_UDATA 0x30

/* The IDT has the 32 CPU exception vectors only. */
#define KVM_IDT_VECTORS 32

/* Guest memory is mapped with 2 MiB pages past the first 2 MiB, so its size
 * is a multiple of this; four PDs bound it to 4 GiB. */
#define KVM_MEM_ALIGN 0x200000
#define KVM_MEM_MAX 0x100000000

/*
 * The image starts with a header the VMM checks before loading it:
 *   +0  a 2-byte jump over the header, padding to 8
 *   +8  KVM_IMAGE_MAGIC
 *   +16 _image_end: first byte past bss (page aligned) = start of the heap
 *   +24 address of the table of KVM_IDT_VECTORS exception entry points
 *   +32 _super_end, +40 _text_end, +48 _rodata_end: where each part of the
 *       image ends (page aligned, in this order, before _image_end)
 */
#define KVM_IMAGE_MAGIC 0x6d69766e64726f63 /* "cordnvim" */
#define KVM_IMAGE_HDR_MAGIC 8
#define KVM_IMAGE_HDR_END 16
#define KVM_IMAGE_HDR_VECTORS 24
#define KVM_IMAGE_HDR_SUPER_END 32
#define KVM_IMAGE_HDR_TEXT_END 40
#define KVM_IMAGE_HDR_RODATA_END 48
#define KVM_IMAGE_HDR_LEN 56

/* HC_KVM_DOORBELL_PORT, for the assembler (checked equal in kvm_main.c). */
#define KVM_DOORBELL_PORT 0x0cd0

/* The guest's exception handler reports through an 8-bit OUT to this port
 * with r8 = vector, r9 = error code, r10 = faulting RIP, r11 = CR2. */
#define KVM_FAULT_PORT 0x0cd1

#endif
