/*
 * The host side of the boundary: every malformed request from a sandbox is
 * a violation, every valid one is served.  Uses real file descriptors
 * (memfd) and a region allocated to its exact size, so ASan also catches any
 * access the checks would let through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/abi/job.h"
#include "../../src/host/hostcall_server.h"
#include "../../src/host/write_behind.h"

#define REGION_LEN (64u << 10)
#define WINDOW (1u << 20) /* the job's largest output */

struct fixture {
	struct host_devices devs;
	struct hc_server srv;
	uint8_t *region;
	char dir[64];
	char out_path[96];
	char in_path[96];
	struct progress progress;
	struct result_store results;
};

/* Device 0 is the output, device 1 the input "in" (a file in dir). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->region = calloc(1, REGION_LEN);
	devices_init(&f->devs);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-server-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->out_path, sizeof(f->out_path), "%s/out.raw", f->dir);
	assert_int_equal(devices_add_output(&f->devs, f->out_path, "raw", WINDOW), 0);
	snprintf(f->in_path, sizeof(f->in_path), "%s/in", f->dir);
	FILE *in = fopen(f->in_path, "w");
	fputs("hello, world", in);
	fclose(in);
	assert_int_equal(devices_add_input(&f->devs, f->in_path), 1);
	f->devs.dev[1].name = "in"; /* as typed, in a directory: the scratch one */
	progress_init(&f->progress, NULL, 1.0f);
	result_store_init(&f->results);
	struct hc_sinks sinks = { .results = &f->results, .progress = &f->progress };
	hc_server_init(&f->srv, &f->devs, &sinks, f->region, REGION_LEN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_server_fini(&f->srv);
	result_store_free(&f->results);
	devices_close(&f->devs);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->region);
	free(f);
	return 0;
}

static struct hc_msg *mbox(struct fixture *f)
{
	return (struct hc_msg *)(f->region + HC_REGION_MAILBOX_OFF);
}

static enum hc_serve_result send(struct fixture *f, struct hc_msg m)
{
	*mbox(f) = m;
	return hc_server_handle(&f->srv);
}

static void read_is_served_into_the_region(void **state)
{
	struct fixture *f = *state;
	struct hc_msg m = { .op = HC_OP_READ, .dev = 1, .off = 7, .len = 100,
			    .buf = HC_REGION_FREE_OFF };
	assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 5); /* short at end of file */
	assert_memory_equal(f->region + HC_REGION_FREE_OFF, "world", 5);
}

/* Standard input as a stream: read in order only, nothing else (docs/dd.md). */
static void standard_input_is_read_in_order(void **state)
{
	struct fixture *f = *state;
	int p[2], saved = dup(STDIN_FILENO);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abcdef", 6), 6);
	close(p[1]);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	int dev = devices_add_stdin(&f->devs);
	dup2(saved, STDIN_FILENO);
	close(saved);
	assert_true(dev > 1);
	struct hc_msg m = { .op = HC_OP_READ, .dev = (uint32_t)dev, .off = 0, .len = 3,
			    .buf = HC_REGION_FREE_OFF };
	assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3);
	assert_memory_equal(f->region + HC_REGION_FREE_OFF, "abc", 3);
	/* Back, or ahead: refused as a pipe refuses a seek. */
	assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ESPIPE);
	m.off = 4;
	assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ESPIPE);
	m.off = 3;
	m.len = 100;
	assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3); /* to the end of input */
	assert_memory_equal(f->region + HC_REGION_FREE_OFF, "def", 3);
	struct hc_msg size = { .op = HC_OP_SIZE, .dev = (uint32_t)dev };
	assert_int_equal(send(f, size), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ESPIPE);
	struct hc_msg copy = { .op = HC_OP_COPY, .dev = (uint32_t)dev, .dev2 = 0, .len = 1 };
	assert_int_equal(send(f, copy), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ESPIPE);
	struct hc_msg ext = { .op = HC_OP_EXTENTS, .dev = (uint32_t)dev, .len = 1, .off2 = 1,
			      .buf = HC_REGION_FREE_OFF };
	assert_int_equal(send(f, ext), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ESPIPE);
}

static void create(struct fixture *f, uint64_t size)
{
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = 0, .len = size }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 0);
}

static void write_and_copy_reach_the_output(void **state)
{
	struct fixture *f = *state;
	create(f, 512);
	memcpy(f->region + HC_REGION_FREE_OFF, "abc", 3);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .off = 2,
						  .len = 3, .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_COPY, .dev = 1, .off = 0,
						  .dev2 = 0, .off2 = 5, .len = 5 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 5);
	char got[10];
	assert_int_equal(pread(f->devs.dev[0].fd, got, 10, 0), 10);
	assert_memory_equal(got, "\0\0abchello", 10);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_SIZE, .dev = 0 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 10);
}

static void extents_report_many_runs(void **state)
{
	struct fixture *f = *state;
	/* data at 0 and at 128 KiB, holes between and after */
	int fd = open(f->in_path, O_WRONLY);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	assert_int_equal(pwrite(fd, "x", 1, 128 << 10), 1);
	close(fd);
	struct hc_extent *runs = (struct hc_extent *)(f->region + HC_REGION_FREE_OFF);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXTENTS, .dev = 1, .off = 0,
						  .len = 1 << 20, .off2 = 16,
						  .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 4);
	uint64_t total = 0;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(runs[i].is_data, i % 2 == 0);
		total += runs[i].len;
	}
	assert_int_equal(total, 1 << 20);
	/* As many runs as asked for, no more. */
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXTENTS, .dev = 1, .off = 0,
						  .len = 1 << 20, .off2 = 2,
						  .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 2);
}

static void expect_violation(struct fixture *f, struct hc_msg m, const char *what);

/* HC_COPY_SKIP_HOLES: the data runs of the range only; the output keeps
 * its holes, and past the source's end nothing is written. */
static void copy_can_skip_the_holes(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->in_path, O_WRONLY);
	assert_int_equal(ftruncate(fd, 512 << 10), 0);
	assert_int_equal(pwrite(fd, "x", 1, 128 << 10), 1);
	close(fd);
	create(f, 1 << 20);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_COPY, .dev = 1, .dev2 = 0,
						  .len = 1 << 20, .level = HC_COPY_SKIP_HOLES }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 1 << 20);
	int out = f->devs.dev[0].fd;
	char got[12];
	assert_int_equal(pread(out, got, 12, 0), 12);
	assert_memory_equal(got, "hello, world", 12);
	assert_int_equal(pread(out, got, 1, 128 << 10), 1);
	assert_int_equal(got[0], 'x');
	/* nothing was written between the two data runs, or after the last */
	off_t data = lseek(out, 64 << 10, SEEK_DATA);
	assert_true(data >= (off_t)(64 << 10) && data <= (off_t)(128 << 10));
	assert_true(lseek(out, 0, SEEK_END) <= (off_t)(132 << 10));
	expect_violation(f, (struct hc_msg){ .op = HC_OP_COPY, .dev = 1, .dev2 = 0, .len = 1,
					     .level = 2 },
			 "copy with unknown flags 0x2");
}

static void expect_violation(struct fixture *f, struct hc_msg m, const char *what)
{
	m.ret = 12345;
	assert_int_equal(send(f, m), HC_SERVE_VIOLATION);
	if (!strstr(f->srv.violation, what))
		fail_msg("violation \"%s\" lacks \"%s\"", f->srv.violation, what);
	assert_int_equal(mbox(f)->ret, 12345); /* nothing was written back */
}

static void dev_info_gives_the_name(void **state)
{
	struct fixture *f = *state;
	char *buf = (char *)f->region + HC_REGION_FREE_OFF;
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 1, .len = 64,
						  .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 2);
	assert_memory_equal(buf, "in", 2);
	memset(buf, '#', 8);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 0, .len = 3,
						  .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, (int64_t)strlen(f->out_path));
	assert_memory_equal(buf, "/tm#", 4); /* cut at len, not past it */
	/* The file's type, with or without a buffer: an output that does not
	 * exist yet is nothing until created. */
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 1 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret2, HC_FILE_REGULAR);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 0 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret2, HC_FILE_NONE);
	create(f, 4096);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 0 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret2, HC_FILE_REGULAR);
}

/* Extra files beside an output (VMDK extents): named by the host from the
 * output's name, created and capped like it; nothing else can ask. */
static void extra_outputs_beside_the_output(void **state)
{
	struct fixture *f = *state;
	create(f, 4096);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = 0,
						  .dev2 = HC_NAME_SPLIT_SPARSE, .off = 1 }),
			 HC_SERVE_CONTINUE);
	int64_t dev = mbox(f)->ret;
	assert_int_equal(dev, 2);
	char *buf = (char *)f->region + HC_REGION_FREE_OFF;
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = (uint32_t)dev,
						  .len = 256, .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	char want[128];
	snprintf(want, sizeof(want), "%s/out-s001.raw", f->dir);
	assert_int_equal(mbox(f)->ret, (int64_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = (uint32_t)dev, .len = 1,
					     .buf = HC_REGION_FREE_OFF },
			 "write before the output was created");
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = (uint32_t)dev,
						  .len = 512 }), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 0);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = (uint32_t)dev,
						  .len = 512, .buf = HC_REGION_FREE_OFF }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 512);
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = (uint32_t)dev, .off = 512,
					     .len = 1, .buf = HC_REGION_FREE_OFF },
			 "past the output's limit of 512 bytes");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = 0,
					     .dev2 = HC_NAME_SPLIT_SPARSE, .off = 1 },
			 "twice");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = (uint32_t)dev,
					     .dev2 = HC_NAME_SPLIT_SPARSE, .off = 2 },
			 "not one of the job's outputs");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = 1,
					     .dev2 = HC_NAME_SPLIT_SPARSE, .off = 2 },
			 "an input");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = 0, .dev2 = 99,
					     .off = 2 },
			 "unknown naming");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_ADD_OUTPUT, .dev = 0,
					     .dev2 = HC_NAME_FLAT, .off = 0 },
			 "add_output of file 0");
	/* Until the run commits them, extra outputs are temporaries. */
	snprintf(want, sizeof(want), "%s/out-s001.raw", f->dir);
	struct stat st;
	assert_int_equal(stat(want, &st), -1);
}

/* An 8-byte record header, then key and value, padded to 8. */
static size_t rec(uint8_t *p, uint16_t type, const char *key, const void *value,
		  uint32_t value_len)
{
	struct hc_record h = { .type = type, .key_len = key ? (uint16_t)strlen(key) : 0,
			       .value_len = value_len };
	memcpy(p, &h, sizeof(h));
	if (key)
		memcpy(p + 8, key, h.key_len);
	if (value)
		memcpy(p + 8 + h.key_len, value, value_len);
	size_t n = 8 + h.key_len + value_len;
	memset(p + n, 0, (8 - n % 8) % 8);
	return (n + 7) & ~(size_t)7;
}

static enum hc_serve_result send_results(struct fixture *f, size_t len)
{
	return send(f, (struct hc_msg){ .op = HC_OP_RESULT, .len = len,
					.buf = HC_REGION_FREE_OFF });
}

static void results_are_checked_then_kept(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = f->region + HC_REGION_FREE_OFF;
	uint64_t size = 1048576;
	size_t n = rec(p, HC_REC_BEGIN_OBJECT, NULL, NULL, 0);
	n += rec(p + n, HC_REC_UINT, "virtual-size", &size, 8);
	n += rec(p + n, HC_REC_STRING, "format", "raw", 3);
	assert_int_equal(send_results(f, n), HC_SERVE_CONTINUE);
	assert_false(result_store_complete(&f->results));
	n = rec(p, HC_REC_END_OBJECT, NULL, NULL, 0);
	assert_int_equal(send_results(f, n), HC_SERVE_CONTINUE);
	assert_true(result_store_complete(&f->results));
	/* Each bad one is refused whole. */
	size_t kept = f->results.len;
	n = rec(p, HC_REC_END_OBJECT, NULL, NULL, 0);
	assert_int_equal(send_results(f, n), HC_SERVE_VIOLATION);
	assert_non_null(strstr(f->srv.violation, "closes nothing"));
	n = rec(p, HC_REC_BEGIN_OBJECT, NULL, NULL, 0);
	n += rec(p + n, HC_REC_UINT, "a key", &size, 8);
	assert_int_equal(send_results(f, n), HC_SERVE_VIOLATION);
	n = rec(p, HC_REC_BOOL, NULL, "\2", 1);
	assert_int_equal(send_results(f, n), HC_SERVE_VIOLATION);
	n = rec(p, HC_REC_UINT, NULL, &size, 4);
	assert_int_equal(send_results(f, n), HC_SERVE_VIOLATION);
	assert_int_equal(send_results(f, 12), HC_SERVE_VIOLATION); /* cut short */
	assert_int_equal(f->results.len, kept);
}

static void progress_is_monotonic(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_PROGRESS, .off = 10, .off2 = 100 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_PROGRESS, .off = 100, .off2 = 100 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_PROGRESS, .off = 50, .off2 = 100 }),
			 HC_SERVE_VIOLATION);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_PROGRESS, .off = 101, .off2 = 100 }),
			 HC_SERVE_VIOLATION);
}


static void bad_requests_are_violations(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = HC_REGION_FREE_OFF;
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 0, .len = 1, .buf = buf },
			 "an output");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 1, .len = 1, .buf = buf },
			 "an input");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 7, .len = 1, .buf = buf },
			 "not given");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .len = 4096,
					     .buf = REGION_LEN - 100 }, "outside sandbox memory");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .len = 16,
					     .buf = UINT64_MAX - 8 }, "outside sandbox memory");
	/* Not over the mailbox, the job or anything else below the heap. */
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .len = 64,
					     .buf = HC_REGION_MAILBOX_OFF }, "outside sandbox memory");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .len = 16,
					     .buf = HC_REGION_FREE_OFF - 8 }, "outside sandbox memory");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .len = 4,
					     .buf = HC_REGION_JOB_OFF }, "outside sandbox memory");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1,
					     .len = HC_MAX_IO_LEN + 1, .buf = buf }, "limit");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .off = INT64_MAX,
					     .len = 2, .buf = buf }, "overflows");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_COPY, .dev = 0, .dev2 = 1, .len = 1 },
			 "an output");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_TRUNCATE, .dev = 1, .len = 1 },
			 "an input");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXTENTS, .dev = 1, .len = 0,
					     .off2 = 1, .buf = buf }, "0 bytes");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXTENTS, .dev = 1, .len = 1,
					     .off2 = HC_MAX_EXTENT_RUNS + 1, .buf = buf }, "runs");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXTENTS, .dev = 1, .len = 1,
					     .off2 = 16, .buf = REGION_LEN - 100 },
			 "outside sandbox memory");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_OPEN_CHILD, .dev = 1, .dev2 = 9,
					     .len = 1, .buf = HC_REGION_MSGBUF_OFF },
			 "unknown kind");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_OPEN_CHILD, .dev = 0,
					     .dev2 = HC_CHILD_BACKING, .len = 1,
					     .buf = HC_REGION_MSGBUF_OFF }, "an output");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_DEV_INFO, .dev = 5, .len = 1,
					     .buf = buf }, "not given");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .level = 9, .len = 1 },
			 "level");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .len = HC_MAX_MESSAGE_LEN + 1,
					     .buf = buf }, "limit");
	expect_violation(f, (struct hc_msg){ .op = 0x77 }, "unknown hostcall");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXIT, .off = 256 }, "status");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .len = 1, .off = 1,
					     .buf = HC_REGION_MSGBUF_OFF },
			 "note 1, which it was not given");
}

/* Nothing reaches the output before it is created, or past what its
 * declared size and format allow, or past the job's window. */
static void the_output_is_created_once_and_capped(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = HC_REGION_FREE_OFF;
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .len = 1, .buf = buf },
			 "write before the output was created");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_TRUNCATE, .dev = 0, .len = 1 },
			 "truncate before the output was created");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = 0, .len = WINDOW + 1 },
			 "larger than the job's window");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = 1, .len = 1 },
			 "an input");
	create(f, 4096);
	expect_violation(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = 0, .len = 1 },
			 "already created");
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .off = 4095,
						  .len = 1, .buf = buf }), HC_SERVE_CONTINUE);
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .off = 4095,
					     .len = 2, .buf = buf },
			 "past the output's limit of 4096 bytes");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_TRUNCATE, .dev = 0, .len = INT64_MAX },
			 "past the output's limit");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_COPY, .dev = 1, .dev2 = 0,
					     .off2 = 4000, .len = 200 },
			 "past the output's limit");
}

/* stderr of the block, as printed. */
static void capture(char *buf, size_t size, void (*fn)(struct fixture *), struct fixture *f)
{
	char tmpl[] = "/tmp/cordon-stderr-XXXXXX";
	int tmp = mkstemp(tmpl), saved = dup(2);
	unlink(tmpl);
	fflush(stderr);
	dup2(tmp, 2);
	fn(f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(tmp, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(tmp);
}

static void hostile_message(struct fixture *f)
{
	static const char text[] = "a\nfake line\x1b[2J\xc2\x9b\x9b\x7f";
	memcpy(f->region + HC_REGION_MSGBUF_OFF, text, sizeof(text) - 1);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_MESSAGE,
						  .level = HC_LEVEL_WARNING,
						  .len = sizeof(text) - 1,
						  .buf = HC_REGION_MSGBUF_OFF }),
			 HC_SERVE_CONTINUE);
}

static void messages_are_one_escaped_line(void **state)
{
	struct fixture *f = *state;
	char out[512];
	capture(out, sizeof(out), hostile_message, f);
	assert_string_equal(out, "cordon: warning: a\\x0afake line\\x1b[2J\\xc2\\x9b"
				 "\\x9b\\x7f\n");
}

static int64_t open_backing(struct fixture *f, const char *name)
{
	memcpy(f->region + HC_REGION_MSGBUF_OFF, name, strlen(name));
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_OPEN_CHILD, .dev = 1,
						  .dev2 = HC_CHILD_BACKING, .len = strlen(name),
						  .buf = HC_REGION_MSGBUF_OFF }),
			 HC_SERVE_CONTINUE);
	return mbox(f)->ret;
}

static void print_note_2(struct fixture *f)
{
	memcpy(f->region + HC_REGION_MSGBUF_OFF, "ctx: ", 5);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .len = 5, .off = 2,
						  .buf = HC_REGION_MSGBUF_OFF }),
			 HC_SERVE_CONTINUE);
}

/* Whatever the reason, the sandbox learns one thing: refused.  The reason
 * is a note only the user sees. */
static void refusals_look_alike_to_the_sandbox(void **state)
{
	struct fixture *f = *state;
	char p[128];
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	static const char *const names[] = { "/etc/shadow", "nonexistent", "sub",
					     "/proc/self/fd/3", ".hidden", "nbd:x" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(open_backing(f, names[i]), -EACCES);
		assert_int_equal(mbox(f)->ret2, i + 1);
	}
	assert_non_null(strstr(f->srv.notes[0], "outside the directories"));
	assert_non_null(strstr(f->srv.notes[1], "No such file or directory"));
	char out[512];
	capture(out, sizeof(out), print_note_2, f);
	assert_string_equal(out, "cordon: ctx: Could not open 'nonexistent': No such file "
				 "or directory\n");
	/* Each refusal costs host work: the run has a budget of them. */
	for (uint32_t i = f->srv.n_notes; i < HC_MAX_NOTES; i++)
		assert_int_equal(open_backing(f, "nonexistent"), -EACCES);
	memcpy(f->region + HC_REGION_MSGBUF_OFF, "x", 1);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_OPEN_CHILD, .dev = 1,
						  .dev2 = HC_CHILD_BACKING, .len = 1,
						  .buf = HC_REGION_MSGBUF_OFF }),
			 HC_SERVE_VIOLATION);
	assert_non_null(strstr(f->srv.violation, "more than 64 refused requests"));
}

/* A create that the host cannot do is a note too, in qemu-img's words. */
static void failed_create_is_a_note(void **state)
{
	struct fixture *f = *state;
	struct host_output *o = devices_output(&f->devs, 0);
	output_abort(o);
	output_close(o);
	assert_int_equal(output_prepare(&f->devs, o, "/nonexistent-dir/out.raw", "raw", WINDOW),
			 0);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_CREATE, .dev = 0, .len = 512 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -ENOENT);
	assert_int_equal(mbox(f)->ret2, 1);
	assert_string_equal(f->srv.notes[0], "Could not create '/nonexistent-dir/out.raw': "
					     "No such file or directory");
}

static void message_flood_is_cut_off(void **state)
{
	struct fixture *f = *state;
	memcpy(f->region + HC_REGION_MSGBUF_OFF, "x\x1b[2J", 5);
	struct hc_msg m = { .op = HC_OP_MESSAGE, .level = HC_LEVEL_WARNING, .len = 5,
			    .buf = HC_REGION_MSGBUF_OFF };
	for (unsigned i = 0; i < HC_MAX_MESSAGES; i++)
		assert_int_equal(send(f, m), HC_SERVE_CONTINUE);
	assert_int_equal(send(f, m), HC_SERVE_VIOLATION);
}

static void exit_ends_the_run(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXIT, .off = 0 }), HC_SERVE_EXIT);
	assert_int_equal(f->srv.exit_status, 0);
}

static struct hc_msg behind(uint64_t off, uint64_t len)
{
	return (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .off = off, .len = len,
				.buf = HC_REGION_FREE_OFF, .level = HC_WRITE_BEHIND };
}

static int64_t settle(struct fixture *f)
{
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_SETTLE }), HC_SERVE_CONTINUE);
	return mbox(f)->ret;
}

static void file_has(struct fixture *f, uint64_t off, const char *want)
{
	char got[16];
	size_t n = strlen(want);
	assert_int_equal(pread(f->devs.dev[0].fd, got, n, (off_t)off), (ssize_t)n);
	assert_memory_equal(got, want, n);
}

/* The region's "xyz" written behind at off, then two bytes of text written
 * plainly at at. */
static void plain_write_after_behind(struct fixture *f, uint64_t off, uint64_t at,
				     const char *text)
{
	assert_int_equal(send(f, behind(off, 3)), HC_SERVE_CONTINUE);
	memcpy(f->region + HC_REGION_FREE_OFF + 64, text, 2);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .off = at,
						  .len = 2, .buf = HC_REGION_FREE_OFF + 64 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 2);
}

/* HC_WRITE_BEHIND, first in the caller's thread (no worker yet: as in a
 * host that could not start one), then with the worker: reads of inputs
 * pass it, any other request waits for it, and a failure is told once --
 * by the next write behind (which is not made) or by settle -- and an
 * exit with status 0 before it was told stops the run. */
static void writes_behind_are_ordered_and_told(void **state)
{
	struct fixture *f = *state;
	create(f, 4096);
	memcpy(f->region + HC_REGION_FREE_OFF, "abc", 3);
	assert_false(write_behind_running());
	assert_int_equal(send(f, behind(2, 3)), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3);
	assert_false(f->srv.behind); /* written already */
	file_has(f, 2, "abc");
	assert_int_equal(settle(f), 0);

	assert_int_equal(write_behind_start(), 0);
	assert_true(write_behind_running());
	memcpy(f->region + HC_REGION_FREE_OFF, "xyz", 3);
	assert_int_equal(send(f, behind(8, 3)), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3);
	assert_true(f->srv.behind);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 1, .len = 5,
						  .buf = HC_REGION_FREE_OFF + 64 }),
			 HC_SERVE_CONTINUE);
	assert_true(f->srv.behind); /* a read of an input passes it */
	assert_int_equal(settle(f), 0);
	assert_false(f->srv.behind);
	file_has(f, 8, "xyz");
	/* A plain write to other bytes passes it; to the same, lands after it. */
	plain_write_after_behind(f, 24, 27, "pq");
	assert_true(f->srv.behind);
	assert_int_equal(settle(f), 0);
	file_has(f, 24, "xyzpq");
	plain_write_after_behind(f, 16, 16, "QQ");
	assert_false(f->srv.behind);
	file_has(f, 16, "QQz");

	/* Failures: the output's descriptor made read-only. */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", f->devs.dev[0].fd);
	int ro = open(self, O_RDONLY);
	assert_true(ro >= 0);
	int rw = dup(f->devs.dev[0].fd);
	assert_true(dup2(ro, f->devs.dev[0].fd) >= 0);
	assert_int_equal(send(f, behind(0, 3)), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 3); /* handed over */
	assert_int_equal(send(f, behind(4, 3)), HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, -EBADF);
	assert_int_equal(mbox(f)->ret2, HC_WRITE_EARLIER);
	assert_false(f->srv.behind); /* this one was not made */
	assert_int_equal(settle(f), 0); /* told once */
	assert_int_equal(send(f, behind(0, 3)), HC_SERVE_CONTINUE);
	assert_int_equal(settle(f), -EBADF);
	/* Untold at exit: status 0 is a violation, another status is not. */
	assert_int_equal(send(f, behind(0, 3)), HC_SERVE_CONTINUE);
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXIT, .off = 0 },
			 "exit with status 0 before it was told that a write failed");
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXIT, .off = 1 }), HC_SERVE_EXIT);
	assert_true(dup2(rw, f->devs.dev[0].fd) >= 0);
	close(rw);
	close(ro);
	expect_violation(f, (struct hc_msg){ .op = HC_OP_WRITE, .dev = 0, .len = 1,
					     .buf = HC_REGION_FREE_OFF, .level = 2 },
			 "write with unknown flags 0x2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(read_is_served_into_the_region, setup, teardown),
		cmocka_unit_test_setup_teardown(standard_input_is_read_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(write_and_copy_reach_the_output, setup, teardown),
		cmocka_unit_test_setup_teardown(extents_report_many_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_can_skip_the_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(dev_info_gives_the_name, setup, teardown),
		cmocka_unit_test_setup_teardown(extra_outputs_beside_the_output, setup, teardown),
		cmocka_unit_test_setup_teardown(results_are_checked_then_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(progress_is_monotonic, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_are_violations, setup, teardown),
		cmocka_unit_test_setup_teardown(message_flood_is_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(the_output_is_created_once_and_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(messages_are_one_escaped_line, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals_look_alike_to_the_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_create_is_a_note, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_ends_the_run, setup, teardown),
		/* Last: it starts the process's write-behind worker. */
		cmocka_unit_test_setup_teardown(writes_behind_are_ordered_and_told, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
