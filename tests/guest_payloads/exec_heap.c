/* Jumps into the heap: only the image's pages are executable. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap_len;
	uint8_t *code = heap;
	code[0] = 0xc3; /* ret */
	((void (*)(void))(uintptr_t)code)();
	payload_exit(c, 0);
	spin_forever();
}
