/* Spins forever without a single VM exit: only the watchdog can stop it. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	spin_forever();
}
