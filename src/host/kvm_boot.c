/*
 * Everything the guest finds in place at its first instruction: the image
 * and job copied in, identity-mapped page tables that give each page of the
 * image and of low memory its own rights, a GDT with a TSS for the
 * exception stack, the IDT, and a vCPU already in 64-bit long mode with SSE
 * usable and, where the vCPU has them, UMIP, SMEP and SMAP on.
 * The layout is kvm_layout.h's; guest memory is a fresh anonymous mapping,
 * so whatever is not written here is zero.
 */
#include "kvm_vm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../guest/kvm/kvm_layout.h"

/* Page-table entry bits. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)   /* 2 MiB page in a PD entry */
#define PTE_NX (1ull << 63)  /* data pages are not executable */

#define PAGE_2M 0x200000ull
#define ENTRIES 512u

/* Control register bits for the entry state. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)   /* with EM clear: SSE and x87 execute natively */
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)      /* SSE enabled (fxsave/fxrstor aware OS) */
#define CR4_OSXMMEXCPT (1ull << 10) /* SIMD faults raise #XM, not #UD */
#define CR4_UMIP (1ull << 11)       /* sgdt/sidt/str... fault at CPL 3 */
#define CR4_SMEP (1ull << 20)       /* CPL 0 cannot run user pages */
#define CR4_SMAP (1ull << 21)       /* CPL 0 cannot touch user pages */
/* CPUID leaf 7 bits that say the vCPU has them. */
#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID7_EBX_SMAP (1u << 20)
#define CPUID7_ECX_UMIP (1u << 2)

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* GDT: null, 64-bit code, data, the 16-byte TSS descriptor, then user
 * code and data (selectors in kvm_layout.h).  Each is already marked
 * accessed: the CPU would otherwise set that bit when loading it, and the
 * GDT's page is read-only. */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull
#define GDT_UCODE64 0x00affb000000ffffull /* DPL 3 */
#define GDT_UDATA 0x00cff3000000ffffull   /* DPL 3 */
#define GDT_BYTES (7 * 8)
#define TSS_LIMIT 0x67u          /* a 104-byte TSS, no I/O bitmap */
#define TSS_TYPE_BUSY 0xbu       /* TR is loaded as busy, as LTR would */

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define GATE_IST 1          /* every gate runs on TSS.IST1 */

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "a long-mode IDT gate");
_Static_assert(KVM_IDT + KVM_IDT_VECTORS * sizeof(struct idt_gate) <= KVM_GDT + KVM_PAGE,
	       "the IDT fits its page beside the GDT and TSS");

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == TSS_LIMIT + 1, "the long-mode TSS");

static uint64_t image_u64(const struct kvm_image *img, size_t off)
{
	uint64_t v;
	memcpy(&v, img->data + off, sizeof(v));
	return v;
}

static bool in_image(const struct kvm_image *img, uint64_t addr, uint64_t len)
{
	return addr >= KVM_IMAGE_BASE && addr - KVM_IMAGE_BASE <= img->len &&
	       len <= img->len - (addr - KVM_IMAGE_BASE);
}

/* The exception entry table and every entry in it lie inside the image. */
static bool vectors_ok(const struct kvm_image *img)
{
	uint64_t table = image_u64(img, KVM_IMAGE_HDR_VECTORS);
	if (!in_image(img, table, KVM_IDT_VECTORS * 8))
		return false;
	for (unsigned v = 0; v < KVM_IDT_VECTORS; v++)
		if (!in_image(img, image_u64(img, table - KVM_IMAGE_BASE + 8 * v), 1))
			return false;
	return true;
}

/* The parts of the image (kvm_layout.h), page aligned and in order. */
static bool parts_ok(const struct kvm_image *img)
{
	uint64_t super = image_u64(img, KVM_IMAGE_HDR_SUPER_END);
	uint64_t text = image_u64(img, KVM_IMAGE_HDR_TEXT_END);
	uint64_t rodata = image_u64(img, KVM_IMAGE_HDR_RODATA_END);
	return super % KVM_PAGE == 0 && text % KVM_PAGE == 0 && rodata % KVM_PAGE == 0 &&
	       KVM_IMAGE_BASE < super && super <= text && text <= rodata &&
	       rodata <= img->end;
}

static const char *image_problem(const struct kvm_image *img, uint64_t mem_len)
{
	uint64_t magic;
	if (img->len < KVM_IMAGE_HDR_LEN)
		return "too short for its header";
	magic = image_u64(img, KVM_IMAGE_HDR_MAGIC);
	if (magic != KVM_IMAGE_MAGIC)
		return "bad magic";
	if (img->end % KVM_PAGE || img->end < KVM_IMAGE_BASE + img->len)
		return "its end lies inside its own bytes";
	/* Leave at least the smallest memory's worth for the heap too. */
	if (img->end > mem_len || mem_len - img->end < mem_len / 4)
		return "too large for guest memory";
	if (img->end > (uint64_t)KVM_PT_COUNT * PAGE_2M)
		return "too large for the 4 KiB-mapped area";
	if (!parts_ok(img))
		return "its parts (supervisor text, text, rodata, data) are out of order";
	if (!vectors_ok(img))
		return "its exception entry table lies outside it";
	return NULL;
}

int kvm_image_check(struct kvm_image *img, uint64_t mem_len, char *err,
		    size_t errlen)
{
	img->end = img->len >= KVM_IMAGE_HDR_LEN ? image_u64(img, KVM_IMAGE_HDR_END) : 0;
	const char *why = image_problem(img, mem_len);
	if (why) {
		snprintf(err, errlen, "the guest image is unusable: %s", why);
		return -1;
	}
	return 0;
}

/* The rights of the 4 KiB page at addr (kvm_layout.h's table), as PTE
 * bits; 0 for a page left unmapped. */
static uint64_t page_rights(const struct kvm_image *img, uint64_t addr)
{
	const uint64_t user_rw = PTE_P | PTE_U | PTE_W | PTE_NX;
	const uint64_t super_ro = PTE_P | PTE_NX;
	if (addr == 0 || addr == KVM_GUARD_IST || addr == KVM_GUARD_STACK ||
	    (addr >= KVM_IST_TOP && addr < KVM_PT))
		return 0;
	if (addr < KVM_JOB_START)
		return user_rw;                  /* the mailbox */
	if (addr < KVM_JOB_END)
		return PTE_P | PTE_U | PTE_NX;   /* the job */
	if (addr == KVM_IST)
		return PTE_P | PTE_W | PTE_NX;   /* the exception stack */
	if (addr < KVM_SUPERVISOR_END)
		return super_ro;                 /* GDT/TSS/IDT, page tables */
	if (addr < KVM_IMAGE_BASE)
		return user_rw;                  /* the main stack */
	if (addr < image_u64(img, KVM_IMAGE_HDR_SUPER_END))
		return PTE_P;                    /* supervisor text */
	if (addr < image_u64(img, KVM_IMAGE_HDR_TEXT_END))
		return PTE_P | PTE_U;            /* text */
	if (addr < image_u64(img, KVM_IMAGE_HDR_RODATA_END))
		return PTE_P | PTE_U | PTE_NX;   /* rodata */
	return user_rw;                          /* data, bss, heap */
}

static void write_page_tables(struct kvm_vm *vm, const struct kvm_image *img)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + KVM_PML4);
	uint64_t *pdpt = (uint64_t *)(vm->mem + KVM_PDPT);
	uint64_t *pd = (uint64_t *)(vm->mem + KVM_PD);
	uint64_t *pt = (uint64_t *)(vm->mem + KVM_PT);
	uint64_t pages_2m = vm->mem_len / PAGE_2M;
	/* 4 KiB pages up to the end of the image's last 2 MiB page. */
	uint64_t small = (img->end + PAGE_2M - 1) / PAGE_2M;

	/* Upper levels allow everything; each leaf says what may be done. */
	pml4[0] = KVM_PDPT | PTE_P | PTE_W | PTE_U;
	for (uint64_t i = 0; i * ENTRIES < pages_2m; i++)
		pdpt[i] = (KVM_PD + i * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
	for (uint64_t i = 0; i < pages_2m; i++) {
		if (i < small)
			pd[i] = (KVM_PT + i * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
		else /* heap */
			pd[i] = (i * PAGE_2M) | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_NX;
	}
	for (uint64_t i = 0; i < small * ENTRIES; i++) {
		uint64_t addr = i * KVM_PAGE, rights = page_rights(img, addr);
		pt[i] = rights ? addr | rights : 0;
	}
}

static void write_gdt_tss(struct kvm_vm *vm)
{
	uint64_t gdt[GDT_BYTES / 8] = { 0, GDT_CODE64, GDT_DATA };
	uint64_t base = KVM_TSS;
	gdt[3] = TSS_LIMIT | (base & 0xffffff) << 16 | (uint64_t)(0x80 | TSS_TYPE_BUSY) << 40 |
		 (base >> 24 & 0xff) << 56;
	gdt[4] = base >> 32;
	gdt[5] = GDT_UCODE64;
	gdt[6] = GDT_UDATA;
	memcpy(vm->mem + KVM_GDT, gdt, sizeof(gdt));

	struct tss64 tss = { .iomap_base = sizeof(struct tss64) };
	tss.ist[0] = KVM_IST_TOP; /* IST1: every gate uses it */
	tss.rsp[0] = KVM_IST_TOP; /* unused while every gate has an IST */
	memcpy(vm->mem + KVM_TSS, &tss, sizeof(tss));
}

/* Written here rather than by the guest: on an emulated CPL 0 (PVM) the
 * guest's own loop over 32 gates costs about as much as the whole run. */
static void write_idt(struct kvm_vm *vm, const struct kvm_image *img)
{
	uint64_t table = image_u64(img, KVM_IMAGE_HDR_VECTORS) - KVM_IMAGE_BASE;
	struct idt_gate *idt = (struct idt_gate *)(vm->mem + KVM_IDT);
	for (unsigned v = 0; v < KVM_IDT_VECTORS; v++) {
		uint64_t h = image_u64(img, table + 8 * v);
		idt[v] = (struct idt_gate){
			.off_lo = (uint16_t)h,
			.sel = KVM_SEL_CODE,
			.ist = GATE_IST,
			.type = GATE_INTERRUPT,
			.off_mid = (uint16_t)(h >> 16),
			.off_hi = (uint32_t)(h >> 32),
		};
	}
}

void kvm_boot_load(struct kvm_vm *vm, const struct kvm_image *img,
		   const struct cordon_job *job)
{
	memcpy(vm->mem + KVM_IMAGE_BASE, img->data, img->len);
	memcpy(vm->mem + HC_REGION_JOB_OFF, job, sizeof(*job));
	write_page_tables(vm, img);
	write_gdt_tss(vm);
	write_idt(vm, img);
}

static void set_segments(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = KVM_SEL_CODE, .type = 0xb,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = KVM_SEL_DATA, .type = 0x3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_segment tr = {
		.base = KVM_TSS, .limit = TSS_LIMIT, .selector = KVM_SEL_TSS,
		.type = TSS_TYPE_BUSY, .present = 1,
	};
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tr;
	s->gdt.base = KVM_GDT;
	s->gdt.limit = GDT_BYTES - 1;
	s->idt.base = KVM_IDT;
	s->idt.limit = KVM_IDT_VECTORS * sizeof(struct idt_gate) - 1;
}

void kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid_table *t)
{
	t->c.head.nent = KVM_CPUID_MAX_ENTRIES;
	t->valid = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, &t->c) == 0;
}

/*
 * The vCPU gets the CPUID KVM supports (as kvmtool gives it): KVM accepts
 * CR4 bits only for features the guest's CPUID has.  Returns the hardening
 * bits of CR4 it has: UMIP, SMEP, SMAP.
 */
static uint64_t set_cpuid(struct kvm_vm *vm, const struct kvm_cpuid_table *t)
{
	if (!t->valid || ioctl(vm->vcpu_fd, KVM_SET_CPUID2, &t->c) < 0)
		return 0;
	uint64_t bits = 0;
	for (uint32_t i = 0; i < t->c.head.nent && i < KVM_CPUID_MAX_ENTRIES; i++) {
		const struct kvm_cpuid_entry2 *e = &t->c.head.entries[i];
		if (e->function != 7 || e->index != 0)
			continue;
		bits |= (e->ebx & CPUID7_EBX_SMEP) ? CR4_SMEP : 0;
		bits |= (e->ebx & CPUID7_EBX_SMAP) ? CR4_SMAP : 0;
		bits |= (e->ecx & CPUID7_ECX_UMIP) ? CR4_UMIP : 0;
	}
	return bits;
}

int kvm_boot_vcpu(struct kvm_vm *vm, const struct kvm_cpuid_table *t)
{
	struct kvm_sregs s;
	uint64_t hardening = set_cpuid(vm, t);
	/* Start from KVM's reset state so fields we do not set stay valid. */
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	set_segments(&s);
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = KVM_PML4;
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | hardening;
	s.efer = EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	vm->cr4_hardening = hardening;

	struct kvm_regs r = {
		.rflags = 0x2, /* bit 1 is always set; IF clear */
		.rip = KVM_IMAGE_BASE,
		.rsp = KVM_IST_TOP,
		.rdi = vm->mem_len,
	};
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
