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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/abi/job.h"
#include "../../src/host/hostcall_server.h"

#define REGION_LEN (64u << 10)

struct fixture {
	struct host_devices devs;
	struct hc_server srv;
	uint8_t *region;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->region = calloc(1, REGION_LEN);
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++)
		f->devs.dev[i].fd = -1;
	f->devs.count = 2;
	f->devs.dev[CORDON_DEV_OUTPUT].role = DEV_ROLE_OUTPUT;
	f->devs.dev[CORDON_DEV_OUTPUT].fd = memfd_create("out", 0);
	f->devs.dev[CORDON_DEV_INPUT].role = DEV_ROLE_INPUT;
	f->devs.dev[CORDON_DEV_INPUT].fd = memfd_create("in", 0);
	assert_int_equal(write(f->devs.dev[1].fd, "hello, world", 12), 12);
	hc_server_init(&f->srv, &f->devs, f->region, REGION_LEN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->devs.dev[0].fd);
	close(f->devs.dev[1].fd);
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

static void write_and_copy_reach_the_output(void **state)
{
	struct fixture *f = *state;
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

static void extent_reports_holes(void **state)
{
	struct fixture *f = *state;
	int fd = f->devs.dev[1].fd;
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXTENT, .dev = 1,
						  .off = 65536, .len = 4096 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret, 4096);
	assert_int_equal(mbox(f)->ret2, 0);
	assert_int_equal(send(f, (struct hc_msg){ .op = HC_OP_EXTENT, .dev = 1,
						  .off = 0, .len = 1 << 20 }),
			 HC_SERVE_CONTINUE);
	assert_int_equal(mbox(f)->ret2, 1);
	assert_true(mbox(f)->ret >= 12 && mbox(f)->ret < (1 << 20));
}

static void expect_violation(struct fixture *f, struct hc_msg m, const char *what)
{
	m.ret = 12345;
	assert_int_equal(send(f, m), HC_SERVE_VIOLATION);
	assert_non_null(strstr(f->srv.violation, what));
	assert_int_equal(mbox(f)->ret, 12345); /* nothing was written back */
}

static void bad_requests_are_violations(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = HC_REGION_FREE_OFF;
	expect_violation(f, (struct hc_msg){ .op = HC_OP_READ, .dev = 0, .len = 1, .buf = buf },
			 "the output");
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
			 "the output");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_TRUNCATE, .dev = 1, .len = 1 },
			 "an input");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXTENT, .dev = 1, .len = 0 },
			 "0 bytes");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .level = 9, .len = 1 },
			 "level");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_MESSAGE, .len = HC_MAX_MESSAGE_LEN + 1,
					     .buf = buf }, "limit");
	expect_violation(f, (struct hc_msg){ .op = 0x77 }, "unknown hostcall");
	expect_violation(f, (struct hc_msg){ .op = HC_OP_EXIT, .off = 256 }, "status");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(read_is_served_into_the_region, setup, teardown),
		cmocka_unit_test_setup_teardown(write_and_copy_reach_the_output, setup, teardown),
		cmocka_unit_test_setup_teardown(extent_reports_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_are_violations, setup, teardown),
		cmocka_unit_test_setup_teardown(message_flood_is_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_ends_the_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
