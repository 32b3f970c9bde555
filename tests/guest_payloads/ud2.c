/* Executes an invalid instruction: #UD, reported with its RIP. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	__asm__ volatile("ud2");
	spin_forever();
}
