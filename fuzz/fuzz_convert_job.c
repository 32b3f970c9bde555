/*
 * A whole convert job through core_run(): one or two inputs (templates of
 * any format cordon reads, edited, or raw bytes), opened by name or by
 * qemu's probe, into an output of any format cordon writes, with a random
 * -S and with or without -p, on in-memory devices.  This reaches convert.c,
 * its progress count, the copy engine and every writer.  Checked on every
 * run:
 *   - no request the host would refuse, no leak, no sanitizer report;
 *   - a job that succeeds made an output that cordon's own reader opens,
 *     whose disk is the inputs one after another (each in whole sectors,
 *     read through the same reader), zeros after, and no larger than the
 *     host's cap of the format;
 *   - with -p, the progress reports end at 100 %;
 *   - a job that fails left a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../src/host/output_cap.h"
#include "../tests/unit/test_job.h"
#include "job_templates.h"

#define CHECK FUZZ_CHECK
/* Inputs larger than this together are not converted (each run stays fast). */
#define JOB_MAX_TOTAL (4u << 20)
#define N_TEMPLATES (JOB_TEMPLATES + 1)
static struct fuzz_template templates[N_TEMPLATES];

static void setup(void)
{
	job_templates(templates);
	templates[JOB_TEMPLATES] = (struct fuzz_template){ job_vmts[2].buf, job_vmts[2].len };
}

struct input {
	uint8_t *img;
	size_t len;
	const char *fmt;
};
/* The inputs' virtual size together, as cordon's reader opens them; an
 * input that does not open counts nothing (the job will fail on it). */
static uint64_t total_size(const struct input *in, uint32_t n_in)
{
	struct memdevs r;
	struct core_ctx ctx;
	job_reader(&r, &ctx);
	uint64_t total = 0;
	for (uint32_t i = 0; i < n_in; i++) {
		struct image img;
		uint32_t dev = memdevs_add_input(&r, in[i].img, in[i].len);
		if (image_open(&ctx, dev, in[i].fmt, "in.img", &img) == 0) {
			total += img.size;
			image_close(&img);
		}
	}
	memdevs_free(&r);
	return total;
}

static const char *const in_fmts[] = { "", "raw", "vpc", "vhdx", "vmdk" };
static const char *const out_fmts[] = { "raw", "qcow2", "vpc", "vhdx", "vmdk" };


/* The output read back against the inputs read through cordon's reader,
 * on a fresh set of devices. */
static void check_output(const struct memdevs *m, uint32_t out, const struct input *in,
			 uint32_t n_in, const char *out_fmt)
{
	struct memdevs r;
	struct core_ctx ctx;
	job_reader(&r, &ctx);
	struct image img[2], o;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n_in; i++) {
		uint32_t dev = memdevs_add_input(&r, in[i].img, in[i].len);
		CHECK(image_open(&ctx, dev, in[i].fmt, "in.img", &img[i]) == 0);
		total += (img[i].size + 511) & ~511ull;
	}
	uint32_t odev = memdevs_add_input(&r, m->dev[out].data, m->dev[out].size);
	CHECK(image_open(&ctx, odev, out_fmt, "out.img", &o) == 0);
	CHECK(o.size >= total);
	CHECK(m->dev[out].size <= output_cap(out_fmt, o.size));
	/* each input in whole sectors, one after another; zeros to the end */
	uint64_t base = 0;
	for (uint32_t i = 0; i < n_in; i++) {
		uint64_t span = (img[i].size + 511) & ~511ull;
		job_expect(&ctx, &o, base, span, &img[i], 0, img[i].size);
		base += span;
	}
	job_expect(&ctx, &o, base, o.size - base, NULL, 0, 0);
	image_close(&o);
	for (uint32_t i = 0; i < n_in; i++)
		image_close(&img[i]);
	CHECK(r.violations == 0 && r.mem_used == 0);
	memdevs_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	uint64_t pick = fuzz_take(&p, &n, 1);
	uint32_t n_in = 1 + (pick & 1);
	const char *out_fmt = out_fmts[(pick >> 1) % 5];
	uint64_t sparse = fuzz_take(&p, &n, 1);
	uint64_t min_sparse = sparse & 0x80 ? 0 : (sparse % 16 + 1) * 512;
	struct input in[2];
	for (uint32_t i = 0; i < n_in; i++) {
		in[i].fmt = in_fmts[fuzz_take(&p, &n, 1) % 5];
		in[i].img = fuzz_image(&p, &n, templates, N_TEMPLATES, 4096, &in[i].len);
	}

	if (total_size(in, n_in) > JOB_MAX_TOTAL) {
		for (uint32_t i = 0; i < n_in; i++)
			free(in[i].img);
		return 0;
	}
	/* the inputs first, then the output, then the files images name */
	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_input_first(&m, in[0].img, in[0].len);
	if (n_in > 1)
		memdevs_add_input(&m, in[1].img, in[1].len);
	uint32_t out = memdevs_add_output(&m, "out.img");
	job_add_named(&m);
	struct cordon_job job = test_job_base(CORDON_CMD_CONVERT, n_in + 1);
	for (uint32_t i = 0; i < n_in; i++) {
		job.dev[i].roles = CORDON_DEV_READ;
		strcpy(job.dev[i].fmt, in[i].fmt);
	}
	job.dev[out].roles = CORDON_DEV_CREATE | CORDON_DEV_WRITE | CORDON_DEV_ZEROED;
	strcpy(job.dev[out].fmt, out_fmt);
	job.cmd.convert = (struct cordon_convert_job){
		.n_in = n_in, .min_sparse = min_sparse,
		.flags = pick & 0x80 ? CONVERT_PROGRESS : 0, /* -p: qemu's allocation count */
	};
	memset(job.entropy, 0x3c, sizeof(job.entropy));
	int status = core_run(&m.env, &job);
	CHECK(m.violations == 0 && m.mem_used == 0);
	if (status == 0) {
		check_output(&m, out, in, n_in, out_fmt);
		/* -p ends at 100 % of what it counted */
		CHECK(!(pick & 0x80) || m.progress_done == m.progress_total);
	}
	else
		CHECK(m.nmsgs > 0);
	memdevs_free(&m);
	for (uint32_t i = 0; i < n_in; i++)
		free(in[i].img);
	return 0;
}
