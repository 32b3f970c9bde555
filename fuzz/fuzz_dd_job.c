/*
 * A whole dd job through core_run(): a random input (a template of any
 * format cordon reads, edited, or raw bytes), opened by name or by qemu's
 * probe, random operands, and an output of any format cordon writes, all
 * on in-memory devices.  This reaches the job checks, dd, the window, the
 * copy engine and every writer.  Checked on every run:
 *   - no request the host would refuse, no leak, no sanitizer report;
 *   - a job that succeeds made an output that cordon's own reader opens,
 *     whose disk is the input's window (the input read through the same
 *     reader) followed by zeros, within the host's cap of the format;
 *   - a job that fails left a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/dd_window.h"
#include "../src/core/format.h"
#include "../src/host/output_cap.h"
#include "../tests/unit/memdev.h"
#include "../tests/unit/test_job.h"
#include "job_templates.h"

#define CHECK FUZZ_CHECK
/* Disks larger than this are cut by count (each run stays fast). */
#define JOB_MAX_OUT (4u << 20)

#define N_TEMPLATES (JOB_TEMPLATES + 1)
static struct fuzz_template templates[N_TEMPLATES];

static void setup(void)
{
	job_templates(templates);
	templates[JOB_TEMPLATES] = (struct fuzz_template){ job_vmts[2].buf, job_vmts[2].len };
}

static const char *const in_fmts[] = { "", "raw", "qcow2", "vpc", "vhdx", "vmdk" };
static const char *const out_fmts[] = { "raw", "qcow2", "vpc", "vhdx", "vmdk" };

/* The output read back, against the input's window read through cordon's
 * reader on a fresh set of devices (the job's own are done with). */
static void check_output(const struct memdevs *m, const uint8_t *img, size_t len,
			 const char *in_fmt, const char *out_fmt, const struct dd_params *dp)
{
	struct memdevs r;
	struct core_ctx ctx;
	job_reader(&r, &ctx);
	uint32_t in_dev = memdevs_add_input(&r, img, len);
	uint32_t out_dev = memdevs_add_input(&r, m->dev[TEST_OUT].data, m->dev[TEST_OUT].size);
	struct image in, out;
	CHECK(image_open(&ctx, in_dev, in_fmt, "in.img", &in) == 0);
	CHECK(image_open(&ctx, out_dev, out_fmt, "out.img", &out) == 0);
	struct dd_window w;
	CHECK(dd_window_compute(in.size, dp, &w) == 0);
	CHECK(out.size >= w.end - w.start);
	CHECK(m->dev[TEST_OUT].size <= output_cap(out_fmt, out.size));
	job_expect(&ctx, &out, 0, out.size, &in, w.start, w.end - w.start);
	image_close(&out);
	image_close(&in);
	CHECK(r.violations == 0 && r.mem_used == 0);
	memdevs_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	uint64_t pick = fuzz_take(&p, &n, 1);
	const char *in_fmt = in_fmts[(pick & 0xf) % 6];
	const char *out_fmt = out_fmts[(pick >> 4) % 5];
	struct dd_params dp = { .bs = fuzz_take(&p, &n, 2) % 70000 + 1 };
	uint64_t flags = fuzz_take(&p, &n, 1);
	dp.have_skip = flags & 1;
	dp.skip = dp.have_skip ? fuzz_take(&p, &n, 2) % 5000 : 0;
	/* a count always bounds the output: small runs, whatever the disk */
	dp.have_count = true;
	dp.count = dp.skip + (flags & 2 ? fuzz_take(&p, &n, 2) : 0) % (JOB_MAX_OUT / dp.bs + 1);
	size_t len;
	uint8_t *img = fuzz_image(&p, &n, templates, N_TEMPLATES, 4096, &len);

	/* the job's devices (output 0, input 1), then the files images name */
	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_add_input(&m, img, len);
	job_add_named(&m);
	struct cordon_job job = test_dd_job(out_fmt, dp.bs, 1, dp.count, dp.have_skip, dp.skip);
	strcpy(job.dev[TEST_IN].fmt, in_fmt);
	memset(job.entropy, 0x3c, sizeof(job.entropy));
	int status = core_run(&m.env, &job);
	CHECK(m.violations == 0 && m.mem_used == 0);
	if (status == 0)
		check_output(&m, img, len, in_fmt, out_fmt, &dp);
	else
		CHECK(m.nmsgs > 0);
	memdevs_free(&m);
	free(img);
	return 0;
}
