/*
 * After ../shared/redteam/rt_probe.c: OPEN_CHILD (backing) as a host file-system
 * oracle (which host files exist, which are readable), and /proc/self/fd/N
 * to attach the host's own descriptors -- the temporary output among them
 * -- as inputs.  Every name must be refused with the same -EACCES; the
 * payload says what it got, then exits 1.
 */
#include "payload.h"

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static char *num(char *p, int64_t v)
{
	char t[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
	if (v < 0)
		*p++ = '-';
	do
		t[n++] = (char)('0' + u % 10);
	while (u /= 10);
	while (n)
		*p++ = t[--n];
	*p = 0;
	return p;
}

/* Text for a hostcall goes in the message buffer; its length. */
static size_t to_msgbuf(const char *s)
{
	size_t n = slen(s);
	char *dst = (char *)(uintptr_t)HC_REGION_MSGBUF_OFF;
	for (size_t i = 0; i < n; i++)
		dst[i] = s[i];
	return n;
}

static void say(struct hc_client *c, const char *s)
{
	struct hc_msg req = { .op = HC_OP_MESSAGE, .level = HC_LEVEL_WARNING,
			      .len = to_msgbuf(s), .buf = HC_REGION_MSGBUF_OFF };
	raw_hostcall(c, &req);
}

static void probe(struct hc_client *c, const char *name)
{
	struct hc_msg req = { .op = HC_OP_OPEN_CHILD, .dev = payload_in(c),
			      .dev2 = HC_CHILD_BACKING,
			      .len = to_msgbuf(name), .buf = HC_REGION_MSGBUF_OFF };
	int64_t r = raw_hostcall(c, &req);
	char line[200] = "probe ", *p = line + 6;
	for (const char *q = name; *q; q++)
		*p++ = *q;
	*p++ = ':';
	*p++ = ' ';
	num(p, r);
	say(c, line);
}

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap_len;
	static const char *const names[] = {
		"/etc/shadow", "/etc/passwd", "/root/.bash_history", "/nonexistent/x",
		"/etc", "/dev/kvm", "/proc/self/environ", "../x", ".hidden", "in.raw",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		probe(c, names[i]);
	/* Create the output, then look for it among the host's descriptors. */
	struct hc_msg create = { .op = HC_OP_CREATE, .dev = payload_out(c), .len = 4096 };
	raw_hostcall(c, &create);
	uint8_t *buf = heap;
	for (int i = 0; i < 16; i++)
		buf[i] = (uint8_t)("OUTPUT-SECRET-42"[i]);
	struct hc_msg w = { .op = HC_OP_WRITE, .dev = payload_out(c), .len = 16,
			    .buf = (uint64_t)(uintptr_t)heap };
	raw_hostcall(c, &w);
	for (int fd = 3; fd < 16; fd++) {
		char name[32] = "/proc/self/fd/";
		num(name + 14, fd);
		probe(c, name);
	}
	payload_exit(c, 1);
	spin_forever();
}
