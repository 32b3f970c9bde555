/* Test-only misbehaviour of the process sandbox child; see the header. */
#include "sandbox_misbehave.h"

#ifdef CORDON_TEST_HOOKS
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../abi/job.h"

static const char *const kinds[] = {
	NULL, "open", "loop", "crash", "bad-buffer", "bad-device",
	"write-input", "huge-length", "flood", "bad-op",
};

int sandbox_misbehave_from_env(void)
{
	const char *v = getenv("CORDON_TEST_MISBEHAVE");
	for (int i = 1; v && i < (int)(sizeof(kinds) / sizeof(kinds[0])); i++)
		if (strcmp(v, kinds[i]) == 0)
			return i;
	return 0;
}

static void send_raw(struct hc_client *c, uint32_t op, uint32_t dev, uint64_t len,
		     uint64_t buf)
{
	struct hc_msg req = { .op = op, .dev = dev, .len = len, .buf = buf,
			      .level = HC_LEVEL_WARNING };
	hc_client_send(c, &req, NULL);
}

void sandbox_misbehave(struct hc_client *c, int kind)
{
	switch (kind) {
	case 1: syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); break;
	case 2: for (;;) __asm__ volatile(""); break;
	case 3: {
		volatile int *volatile bad = (volatile int *)(uintptr_t)8;
		*bad = 1;
		break;
	}
	case 4: send_raw(c, HC_OP_READ, CORDON_DEV_INPUT, 4096, c->region_len - 16); break;
	case 5: send_raw(c, HC_OP_READ, 7, 512, HC_REGION_FREE_OFF); break;
	case 6: send_raw(c, HC_OP_WRITE, CORDON_DEV_INPUT, 512, HC_REGION_FREE_OFF); break;
	case 7: send_raw(c, HC_OP_READ, CORDON_DEV_INPUT, 1ull << 40, HC_REGION_FREE_OFF); break;
	case 8:
		memcpy(c->region + HC_REGION_MSGBUF_OFF, "flood", 5);
		for (;;)
			send_raw(c, HC_OP_MESSAGE, 0, 5, HC_REGION_MSGBUF_OFF);
		break;
	case 9: send_raw(c, 0xdead, 0, 0, 0); break;
	}
}
#else
int sandbox_misbehave_from_env(void)
{
	return 0;
}

void sandbox_misbehave(struct hc_client *c, int kind)
{
	(void)c;
	(void)kind;
}
#endif
