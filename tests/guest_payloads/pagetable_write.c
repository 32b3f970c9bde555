/* Tries to map memory past the end of guest memory by editing the page
 * tables: they are supervisor-only, so user mode takes a page fault. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap, (void)heap_len;
	uint64_t past = c->region_len; /* a 2 MiB boundary */
	volatile uint64_t *pd = (volatile uint64_t *)(uintptr_t)KVM_PD;
	pd[past >> 21] = past | 0x87; /* present, writable, user, 2 MiB */
	(void)*(volatile uint32_t *)(uintptr_t)past;
	spin_forever();
}
