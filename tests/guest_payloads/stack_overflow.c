/* Recurses until the stack runs into its guard page.  The exception handler
 * runs on its own stack (IST1), so this is reported as a page fault at the
 * guard rather than ending as a triple fault. */
#include "payload.h"

static volatile int depth_limit = 1 << 30; /* far deeper than the stack */

static int deep(volatile char *prev, int n)
{
	volatile char frame[512];
	frame[0] = (char)n;
	frame[511] = prev ? prev[0] : 0;
	if (n >= depth_limit)
		return 0;
	return deep(frame, n + 1) + frame[1];
}

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	deep(NULL, 0);
	spin_forever();
}
