/* Sends messages without end: the host's cap must stop it. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap_len;
	static const char text[] = "flood";
	char *buf = heap;
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		buf[i] = text[i];
	for (;;) {
		struct hc_msg req = { .op = HC_OP_MESSAGE, .level = HC_LEVEL_WARNING,
				      .len = sizeof(text) - 1, .buf = (uint64_t)(uintptr_t)buf };
		raw_hostcall(c, &req);
	}
}
