/* Writes through NULL: page 0 is unmapped, so this is a page fault at 0. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	*(volatile uint32_t *)(uintptr_t)0 = 1;
	spin_forever();
}
