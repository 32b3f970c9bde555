/* Creates the output (create, truncate), writes to it, then hangs: the
 * watchdog stops it and the half-written output must not be left behind. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap_len;
	struct hc_msg create = { .op = HC_OP_CREATE, .dev = payload_out(c), .len = 1 << 20 };
	raw_hostcall(c, &create);
	struct hc_msg trunc = { .op = HC_OP_TRUNCATE, .dev = payload_out(c), .len = 1 << 20 };
	raw_hostcall(c, &trunc);
	struct hc_msg wr = { .op = HC_OP_WRITE, .dev = payload_out(c), .len = 4096,
			     .buf = (uint64_t)(uintptr_t)heap };
	raw_hostcall(c, &wr);
	spin_forever();
}
