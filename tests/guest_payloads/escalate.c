/*
 * The ways from CPL 3 towards CPL 0 and the guest's own mappings, one per
 * run: the dd operand count= picks the step (the payload reads it from the
 * job page).  Every step must fault; a step that does not makes the payload
 * exit 0, which the test refuses.
 */
#include "payload.h"

extern char kvm_exc_stubs[];   /* rodata: the entry points' addresses */
static uint8_t data_code[16] = { 0xc3 };       /* "ret", in .data */
static const uint8_t rodata_code[16] = { 0xc3 }; /* "ret", in .rodata */

static void run_at(const void *code)
{
	((void (*)(void))(uintptr_t)code)();
}

static void step(uint64_t n)
{
	const uint64_t *vectors = (const uint64_t *)(uintptr_t)kvm_exc_stubs;
	uint8_t stack_code[16] = { 0xc3 };
	uint16_t gdtr[5];
	switch (n) {
	case 1: /* read the image header (supervisor text) */
		(void)*(volatile uint64_t *)(uintptr_t)(KVM_IMAGE_BASE + KVM_IMAGE_HDR_VECTORS);
		break;
	case 2: /* overwrite the #UD handler */
		*(volatile uint8_t *)(uintptr_t)vectors[6] = 0xcc;
		break;
	case 3: /* overwrite our own text */
		*(volatile uint8_t *)(uintptr_t)&sandbox_entry = 0xcc;
		break;
	case 4: run_at(data_code); break;
	case 5: run_at(rodata_code); break;
	case 6: run_at(stack_code); break;
	case 7: /* jump into the CPL-0 handler's text */
		run_at((const void *)(uintptr_t)vectors[6]);
		break;
	case 8: /* write the IDT */
		*(volatile uint64_t *)(uintptr_t)KVM_IDT = 0;
		break;
	case 9: /* write a page table */
		*(volatile uint64_t *)(uintptr_t)KVM_PT = 0x87;
		break;
	case 10: /* write the job the host gave */
		*(volatile uint64_t *)(uintptr_t)HC_REGION_JOB_OFF = 0;
		break;
	case 11: /* read the GDT's address: refused with UMIP */
		__asm__ volatile("sgdt %0" : "=m"(gdtr));
		break;
	}
}

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap, (void)heap_len;
	const struct cordon_job *job = (const void *)(c->region + HC_REGION_JOB_OFF);
	step(job->cmd.dd.count);
	payload_exit(c, 0); /* the step worked: the test fails */
	spin_forever();
}
