/* Test-only misbehaviour of the process sandbox's helper; see the header. */
#include "process_misbehave.h"

#ifdef CORDON_TEST_HOOKS
#include <stdio.h>
#include <string.h>

#include "../../abi/job.h"
#include "linux_syscall.h"

/* The dd job's devices, as the host numbered them. */
static uint32_t in_dev(struct hc_client *c)
{
	return ((const struct cordon_job *)(const void *)(c->region + HC_REGION_JOB_OFF))->cmd.dd.in;
}

static uint32_t out_dev(struct hc_client *c)
{
	return ((const struct cordon_job *)(const void *)(c->region + HC_REGION_JOB_OFF))->cmd.dd.out;
}

static int64_t send_raw(struct hc_client *c, uint32_t op, uint32_t dev, uint64_t off,
			uint64_t len, uint64_t buf)
{
	struct hc_msg req = { .op = op, .dev = dev, .off = off, .len = len, .buf = buf,
			      .level = HC_LEVEL_WARNING };
	return hc_client_send(c, &req, NULL);
}

static void say(struct hc_client *c, const char *text)
{
	size_t n = strnlen(text, HC_MAX_MESSAGE_LEN);
	memcpy(c->region + HC_REGION_MSGBUF_OFF, text, n);
	send_raw(c, HC_OP_MESSAGE, 0, 0, n, HC_REGION_MSGBUF_OFF);
}

static void finish(struct hc_client *c, int status)
{
	send_raw(c, HC_OP_EXIT, 0, (uint64_t)status, 0, 0);
	lsys_exit(status);
}

static __attribute__((noreturn)) void spin(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

static uint64_t put_strings(uint8_t *buf, uint64_t n, char **v)
{
	for (; *v; v++) {
		size_t len = strlen(*v);
		memcpy(buf + n, *v, len);
		n += len;
		buf[n++] = '\n';
	}
	return n;
}

/* Everything this process was started with, into the output: it must
 * hold argv and nothing of the host's (environment, memory). */
static void env_dump(struct hc_client *c, char **argv, char **envp)
{
	uint8_t *buf = c->region + HC_REGION_FREE_OFF;
	uint64_t n = put_strings(buf, 0, argv);
	buf[n++] = '-';
	buf[n++] = '\n';
	n = put_strings(buf, n, envp);
	send_raw(c, HC_OP_CREATE, out_dev(c), 0, n, 0);
	send_raw(c, HC_OP_TRUNCATE, out_dev(c), 0, n, 0);
	send_raw(c, HC_OP_WRITE, out_dev(c), 0, n, HC_REGION_FREE_OFF);
	finish(c, 0);
}

/* Names a hostile image could hold: every refusal must look the same. */
static void backing_probe(struct hc_client *c)
{
	static const char *const names[] = {
		"/etc/shadow", "/etc/passwd", "/nonexistent/x", "/etc", "/dev/null",
		"/proc/self/environ", "/proc/self/fd/3", "/proc/self/fd/4",
		"/proc/self/fd/5", "/proc/self/fd/6", "/proc/self/fd/7",
		"/proc/self/fd/8", "/proc/self/fd/9", "../x", ".hidden", "in.raw",
	};
	send_raw(c, HC_OP_CREATE, out_dev(c), 0, 16, 0);
	memcpy(c->region + HC_REGION_FREE_OFF, "OUTPUT-SECRET-42", 16);
	send_raw(c, HC_OP_TRUNCATE, out_dev(c), 0, 16, 0);
	send_raw(c, HC_OP_WRITE, out_dev(c), 0, 16, HC_REGION_FREE_OFF);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		memcpy(c->region + HC_REGION_MSGBUF_OFF, names[i], n);
		struct hc_msg req = { .op = HC_OP_OPEN_CHILD, .dev = in_dev(c),
				      .dev2 = HC_CHILD_BACKING, .len = n,
				      .buf = HC_REGION_MSGBUF_OFF };
		int64_t r = hc_client_send(c, &req, NULL);
		char line[128];
		snprintf(line, sizeof(line), "probe %s: %lld", names[i], (long long)r);
		say(c, line);
	}
	finish(c, 1);
}

void process_misbehave(struct hc_client *c, char **argv, char **envp)
{
	const char *kind = argv[0] ? argv[1] : NULL;
	uint8_t *heap = c->region + HC_REGION_FREE_OFF;
	if (!kind)
		return;
	if (!strcmp(kind, "open")) {
		lsys3(LSYS_openat, L_AT_FDCWD, (long)"/etc/passwd", 0);
	} else if (!strcmp(kind, "loop")) {
		spin();
	} else if (!strcmp(kind, "crash")) {
		volatile int *volatile bad = (volatile int *)(uintptr_t)8;
		*bad = 1;
	} else if (!strcmp(kind, "bad-buffer")) {
		send_raw(c, HC_OP_READ, in_dev(c), 0, 4096, c->region_len - 16);
	} else if (!strcmp(kind, "bad-device")) {
		send_raw(c, HC_OP_READ, 7, 0, 512, HC_REGION_FREE_OFF);
	} else if (!strcmp(kind, "write-input")) {
		send_raw(c, HC_OP_WRITE, in_dev(c), 0, 512, HC_REGION_FREE_OFF);
	} else if (!strcmp(kind, "huge-length")) {
		send_raw(c, HC_OP_READ, in_dev(c), 0, 1ull << 40, HC_REGION_FREE_OFF);
	} else if (!strcmp(kind, "flood")) {
		for (;;)
			say(c, "flood");
	} else if (!strcmp(kind, "bad-op")) {
		send_raw(c, 0xdead, 0, 0, 0, 0);
	} else if (!strcmp(kind, "env-dump")) {
		env_dump(c, argv, envp);
	} else if (!strcmp(kind, "disk-fill")) {
		/* Declares a 512-byte output, then writes on and on past it. */
		memset(heap, 0xa5, 1 << 20);
		send_raw(c, HC_OP_CREATE, out_dev(c), 0, 512, 0);
		for (uint64_t off = 0; off < (64ull << 20); off += 1 << 20)
			if (send_raw(c, HC_OP_WRITE, out_dev(c), off, 1 << 20,
				     HC_REGION_FREE_OFF) < 0)
				break;
		finish(c, 0);
	} else if (!strcmp(kind, "truncate-huge")) {
		send_raw(c, HC_OP_CREATE, out_dev(c), 0, 512, 0);
		send_raw(c, HC_OP_TRUNCATE, out_dev(c), 0, INT64_MAX, 0);
		finish(c, 0);
	} else if (!strcmp(kind, "pipe-fill")) {
		/* Rings without ever reading a reply. */
		c->mbox->op = HC_OP_SIZE;
		c->mbox->dev = in_dev(c);
		char b = 1;
		for (int i = 0; i < 200000; i++)
			if (lsys3(LSYS_write, 1, (long)&b, 1) != 1)
				break;
		spin();
	} else if (!strcmp(kind, "output-then-loop")) {
		send_raw(c, HC_OP_CREATE, out_dev(c), 0, 4096, 0);
		send_raw(c, HC_OP_TRUNCATE, out_dev(c), 0, 4096, 0);
		send_raw(c, HC_OP_WRITE, out_dev(c), 0, 4096, HC_REGION_FREE_OFF);
		spin();
	} else if (!strcmp(kind, "backing-probe")) {
		backing_probe(c);
	}
}
#else
void process_misbehave(struct hc_client *c, char **argv, char **envp)
{
	(void)c, (void)argv, (void)envp;
}
#endif
