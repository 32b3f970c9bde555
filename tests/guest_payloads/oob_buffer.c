/* A read whose buffer runs past the end of guest memory. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap, (void)heap_len;
	struct hc_msg req = { .op = HC_OP_READ, .dev = payload_in(c), .len = 4096,
			      .buf = c->region_len - 16 };
	raw_hostcall(c, &req);
	payload_exit(c, 0);
	spin_forever();
}
