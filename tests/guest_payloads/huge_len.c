/* Asks for a read far over the per-request cap (1 TiB). */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap_len;
	struct hc_msg req = { .op = HC_OP_READ, .dev = payload_in(c), .len = 1ull << 40,
			      .buf = (uint64_t)(uintptr_t)heap };
	raw_hostcall(c, &req);
	payload_exit(c, 0);
	spin_forever();
}
