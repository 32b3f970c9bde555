/* Writes to the input device, which is read-only by role. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap_len;
	struct hc_msg req = { .op = HC_OP_WRITE, .dev = payload_in(c), .len = 512,
			      .buf = (uint64_t)(uintptr_t)heap };
	raw_hostcall(c, &req);
	payload_exit(c, 0);
	spin_forever();
}
