/* Behaves: asks for the input's size and exits 0 (start-up cost baseline;
 * also exercises SSE right after a VM exit). */
#include "payload.h"

static volatile double sink;

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	struct hc_msg req = { .op = HC_OP_SIZE, .dev = payload_in(c) };
	int64_t n = raw_hostcall(c, &req);
	sink = (double)n * 0.5;
	payload_exit(c, n >= 0 ? 0 : 1);
	spin_forever();
}
