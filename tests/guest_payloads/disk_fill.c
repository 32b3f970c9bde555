/* Declares a 512-byte output, then writes on past it (after the red team's
 * rt-diskfill): the host caps the output at what was declared. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap_len;
	struct hc_msg create = { .op = HC_OP_CREATE, .dev = payload_out(c), .len = 512 };
	raw_hostcall(c, &create);
	for (uint64_t off = 0; off < (64ull << 20); off += 1 << 20) {
		struct hc_msg w = { .op = HC_OP_WRITE, .dev = payload_out(c), .off = off,
				    .len = 1 << 20, .buf = (uint64_t)(uintptr_t)heap };
		if (raw_hostcall(c, &w) < 0)
			break;
	}
	payload_exit(c, 0);
	spin_forever();
}
