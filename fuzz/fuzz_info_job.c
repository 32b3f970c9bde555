/*
 * A whole info job through core_run(): an image (a template of any format
 * cordon reads -- qcow2 with snapshots and a backing file among them --
 * edited, or raw bytes), opened by name or by qemu's probe, with or without
 * --backing-chain, on in-memory devices.  This reaches info.c and every
 * format's about, snapshot and bitmap listing.  Checked on every run:
 *   - no request the host would refuse, no leak, no sanitizer report;
 *   - a job that succeeds sent complete results, which render (as the host
 *     renders them, render_json() and render_info_human()) as valid JSON
 *     and as human text without terminal controls (render_check.h);
 *   - a job that fails left a message and sent nothing the host would
 *     print.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/format.h"
#include "../src/host/render_info.h"
#include "../src/host/render_json.h"
#include "../tests/unit/test_job.h"
#include "job_templates.h"
#include "qcow2_templates.h"
#include "render_check.h"

static struct qb qbs[3];
static uint8_t *qcow2_backing;
#define QCOW2_BACKING_LEN (20 * 512 + 100)
#define N_TEMPLATES (JOB_TEMPLATES + 3)
static struct fuzz_template templates[N_TEMPLATES];

/* The jobs' templates, and qcow2 ones: with snapshots, with extended L2,
 * with a backing file. */
static void setup(void)
{
	job_templates(templates);
	if (qcow2_backing)
		return;
	tpl_build(&qbs[0], 9, 40, 0, false);
	tpl_build(&qbs[1], 14, 6, 0, true);
	tpl_build(&qbs[2], 12, 20, 1, false);
	qcow2_backing = tpl_backing(QCOW2_BACKING_LEN);
	for (int i = 0; i < 3; i++)
		templates[JOB_TEMPLATES + i] = (struct fuzz_template){ qbs[i].buf, qbs[i].len };
}

static const char *const fmts[] = { "", "raw", "qcow2", "vpc", "vhdx", "vmdk" };

/* What the host would print for the results, in both forms. */
static void render_checked(const struct result_store *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CHECK(f);
	render_json(f, r);
	CHECK(fclose(f) == 0);
	check_json(text, len);
	free(text);
	f = open_memstream(&text, &len);
	CHECK(f);
	render_info_human(f, r);
	CHECK(fclose(f) == 0);
	check_human(text, len);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t n = size;
	uint64_t pick = fuzz_take(&p, &n, 1);
	const char *fmt = fmts[(pick & 0xf) % 6];
	bool chain = (pick & 0x10) != 0;
	size_t len;
	uint8_t *img = fuzz_image(&p, &n, templates, N_TEMPLATES, 4096, &len);

	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = 64u << 20; /* a sandbox's default memory */
	memdevs_input_first(&m, img, len); /* info's image: device 0 */
	job_add_named(&m);
	memdevs_add_named(&m, TPL_BACKING_NAME, qcow2_backing, QCOW2_BACKING_LEN);

	struct cordon_job job = test_info_job(fmt, chain ? INFO_BACKING_CHAIN : 0);
	int status = core_run(&m.env, &job);
	CHECK(m.violations == 0 && m.mem_used == 0);
	if (status == 0) {
		CHECK(result_store_complete(&m.results));
		render_checked(&m.results);
	} else {
		CHECK(m.nmsgs > 0);
	}
	memdevs_free(&m);
	free(img);
	return 0;
}
