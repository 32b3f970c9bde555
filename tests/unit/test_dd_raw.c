/* cordon dd raw -> raw through core, against in-memory devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/core.h"
#include "memdev.h"
#include "test_job.h"

static struct cordon_job job_for(uint64_t bs, int have_count, uint64_t count,
				 int have_skip, uint64_t skip)
{
	return test_dd_job("raw", bs, have_count, count, have_skip, skip);
}

static uint8_t *pattern(uint64_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	for (uint64_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + i / 251 + 1);
	return p;
}

/* The expected output, built from qemu-img's rules independently of
 * dd_window.c: bytes [start, end) of the input padded to 512 by zeros. */
static void check_output(struct memdevs *m, const uint8_t *in, uint64_t in_len,
			 uint64_t start, uint64_t end)
{
	uint64_t want = (end - start + 511) / 512 * 512;
	assert_int_equal(m->dev[0].size, want);
	for (uint64_t i = 0; i < want; i++) {
		uint64_t src = start + i;
		uint8_t expect = (src < end && src < in_len) ? in[src] : 0;
		if (m->dev[0].data[i] != expect)
			fail_msg("byte %llu: %u != %u", (unsigned long long)i,
				 m->dev[0].data[i], expect);
	}
	assert_int_equal(m->violations, 0);
}

static void run_case(uint64_t in_len, uint64_t bs, int hc, uint64_t count, int hs,
		     uint64_t skip, uint64_t start, uint64_t end)
{
	struct memdevs m;
	memdevs_init(&m);
	uint8_t *in = pattern(in_len);
	memdevs_add_input(&m, in, in_len);
	struct cordon_job job = job_for(bs, hc, count, hs, skip);
	assert_int_equal(core_run(&m.env, &job), 0);
	check_output(&m, in, in_len, start, end);
	assert_int_equal(m.mem_used, 0); /* everything freed */
	free(in);
	memdevs_free(&m);
}

static void windows(void **state)
{
	(void)state;
	run_case(1500, 512, 0, 0, 0, 0, 0, 1536);
	run_case(1500, 1, 1, 1000, 0, 0, 0, 1000);
	run_case(1500, 777, 1, 1, 1, 1, 777, 777); /* skip == count end */
	run_case(100000, 65537, 0, 0, 1, 1, 65537, 100352);
	run_case(4096, 512, 1, 3, 1, 1, 512, 1536);
	run_case(0, 512, 0, 0, 0, 0, 0, 0);
	run_case(513, 1000, 1, 1, 0, 0, 0, 1000);
}

static void skip_past_end_warns_and_succeeds(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint8_t *in = pattern(1500);
	memdevs_add_input(&m, in, 1500);
	struct cordon_job job = job_for(512, 0, 0, 1, 4);
	assert_int_equal(core_run(&m.env, &job), 0);
	assert_int_equal(m.nmsgs, 1);
	assert_string_equal(m.msgs[0], "in.raw: cannot skip to specified offset");
	assert_int_equal(m.dev[0].size, 0);
	assert_true(m.dev[0].created);
	free(in);
	memdevs_free(&m);
}

static void holes_are_not_copied(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint64_t len = 64 * 4096;
	uint8_t *in = pattern(len);
	memset(in + 8 * 4096, 0, 40 * 4096);
	uint32_t dev = memdevs_add_input(&m, in, len);
	memdevs_punch(&m, dev, 8 * 4096, 40 * 4096);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	assert_int_equal(core_run(&m.env, &job), 0);
	check_output(&m, in, len, 0, len);
	assert_int_equal(m.copied, 24 * 4096); /* only the data */
	assert_int_equal(m.written, 0);
	free(in);
	memdevs_free(&m);
}

static void no_host_copy_moves_data_through_core(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint64_t len = 5 * 4096 + 100;
	uint8_t *in = pattern(len);
	memdevs_add_input(&m, in, len);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	job.flags |= CORDON_JOB_NO_HOST_COPY;
	assert_int_equal(core_run(&m.env, &job), 0);
	check_output(&m, in, len, 0, len);
	assert_int_equal(m.copied, 0);
	assert_int_equal(m.written, len);
	free(in);
	memdevs_free(&m);
}

static void holes_are_written_when_output_is_not_fresh(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint64_t len = 16 * 4096;
	uint8_t *in = pattern(len);
	memset(in, 0, 8 * 4096);
	uint32_t dev = memdevs_add_input(&m, in, len);
	memdevs_punch(&m, dev, 0, 8 * 4096);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	job.dev[TEST_OUT].roles &= ~CORDON_DEV_ZEROED;
	assert_int_equal(core_run(&m.env, &job), 0);
	assert_int_equal(m.written, 8 * 4096);
	free(in);
	memdevs_free(&m);
}

static void errors_in_qemu_img_words(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	memdevs_add_input(&m, "abc", 3);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	strcpy(job.dev[TEST_OUT].fmt, "foo");
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "Unknown file format");

	strcpy(job.dev[TEST_OUT].fmt, "raw");
	strcpy(job.dev[TEST_IN].fmt, "foo");
	m.nmsgs = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "Could not open 'in.raw': Unknown driver 'foo'");

	job.dev[TEST_IN].fmt[0] = '\0';
	m.fail_truncate = -CD_EACCES;
	m.nmsgs = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	/* the host's ftruncate() failed: qemu's raw create says so */
	assert_string_equal(m.msgs[0], "out.raw: error while creating output image: "
				       "Could not resize file: Permission denied");

	/* The host's cause for a failed create is a note, printed after
	 * core's context. */
	m.fail_truncate = 0;
	m.dev[0].created = false;
	m.fail_create = -CD_EACCES;
	m.create_note = "Could not create 'out.raw': Permission denied";
	m.nmsgs = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "out.raw: error while creating output image: "
				       "Could not create 'out.raw': Permission denied");

	m.fail_create = 0;
	m.fail_read = -CD_EIO;
	m.nmsgs = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "Could not open 'in.raw': Could not read image "
				       "for determining its format: Input/output error");

	strcpy(job.dev[TEST_IN].fmt, "raw"); /* no probe: the copy itself fails */
	m.dev[0].created = false;
	m.nmsgs = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "error while writing to output image file: "
				       "Input/output error");
	memdevs_free(&m);
}

static void bad_jobs_are_refused(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	memdevs_add_input(&m, "abc", 3);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	job.magic = 0;
	assert_int_equal(core_run(&m.env, &job), 1);
	job = job_for(0, 0, 0, 0, 0);
	assert_int_equal(core_run(&m.env, &job), 1);
	job = job_for(512, 0, 0, 0, 0);
	memset(job.dev[TEST_IN].fmt, 'a', sizeof(job.dev[TEST_IN].fmt)); /* unterminated */
	assert_int_equal(core_run(&m.env, &job), 1);
	job = job_for(512, 0, 0, 0, 0);
	job.cmd.dd.in = 7; /* a device the job does not have */
	assert_int_equal(core_run(&m.env, &job), 1);
	job = job_for(512, 0, 0, 0, 0);
	job.dev[TEST_OUT].roles = CORDON_DEV_READ; /* dd's output must be created */
	assert_int_equal(core_run(&m.env, &job), 1);
	job = job_for(512, 0, 0, 0, 0);
	job.dev[TEST_IN].roles |= 1u << 9; /* a role that does not exist */
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_false(m.dev[0].created);
	memdevs_free(&m);
}

static void out_of_memory_is_an_error(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 200; /* the names, not the probe's buffer */
	memdevs_add_input(&m, "abc", 3);
	struct cordon_job job = job_for(512, 0, 0, 0, 0);
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "Could not open 'in.raw': Cannot allocate memory");
	memdevs_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(windows),
		cmocka_unit_test(skip_past_end_warns_and_succeeds),
		cmocka_unit_test(holes_are_not_copied),
		cmocka_unit_test(holes_are_written_when_output_is_not_fresh),
		cmocka_unit_test(no_host_copy_moves_data_through_core),
		cmocka_unit_test(errors_in_qemu_img_words),
		cmocka_unit_test(bad_jobs_are_refused),
		cmocka_unit_test(out_of_memory_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
