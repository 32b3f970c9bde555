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
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "qcow2_templates.h"
#include "render_check.h"
#include "vhdx_templates.h"
#include "vmdk_templates.h"
#include "vpc_templates.h"

static struct vt vts[2];
static struct xt xts[3];
static struct vmt vmts[8];
static struct qb qbs[3];
static uint8_t *qcow2_backing;
#define QCOW2_BACKING_LEN (20 * 512 + 100)
#define N_TEMPLATES 9
static struct fuzz_template templates[N_TEMPLATES];

static void setup(void)
{
	if (templates[0].buf)
		return;
	vt_dynamic(&vts[0], VPC_DYNAMIC, 4096, 16, 0x8089, "qemu");
	vt_fixed(&vts[1], 40960);
	xt_build(&xts[0], 3 * XT_MiB + 4096, 0x5, false); /* the differencing one's parent */
	xt_build(&xts[1], 3 * XT_MiB + 4096, 0x5, true);
	xt_build_differencing(&xts[2], 3 * XT_MiB + 4096);
	vmt_all(vmts);
	tpl_build(&qbs[0], 9, 40, 0, false);
	tpl_build(&qbs[1], 14, 6, 0, true);
	tpl_build(&qbs[2], 12, 20, 1, false);
	qcow2_backing = tpl_backing(QCOW2_BACKING_LEN);
	const struct fuzz_template t[N_TEMPLATES] = {
		{ vts[0].buf, vts[0].len }, { vts[1].buf, vts[1].len },
		{ xts[1].buf, xts[1].len }, { xts[2].buf, xts[2].len },
		{ vmts[0].buf, vmts[0].len }, { vmts[1].buf, vmts[1].len },
		{ qbs[0].buf, qbs[0].len }, { qbs[1].buf, qbs[1].len },
		{ qbs[2].buf, qbs[2].len },
	};
	memcpy(templates, t, sizeof(t));
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
	memdevs_input_first(&m, img, len);
	const uint32_t dev = 0; /* info's image */
	memdevs_add_named(&m, VMT_FLAT, vmts[4].buf, vmts[4].len);
	memdevs_add_named(&m, VMT_SPARSE, vmts[5].buf, vmts[5].len);
	memdevs_add_named(&m, VMT_COWD, vmts[6].buf, vmts[6].len);
	memdevs_add_named(&m, VMT_PARENT, vmts[7].buf, vmts[7].len);
	memdevs_add_named(&m, "./" XT_PARENT_NAME, xts[0].buf, xts[0].len);
	memdevs_add_named(&m, TPL_BACKING_NAME, qcow2_backing, QCOW2_BACKING_LEN);

	struct cordon_job job;
	memset(&job, 0, sizeof(job));
	job.magic = CORDON_JOB_MAGIC;
	job.version = CORDON_JOB_VERSION;
	job.command = CORDON_CMD_INFO;
	job.n_dev = 1;
	job.dev[dev].roles = CORDON_DEV_READ;
	strcpy(job.dev[dev].fmt, fmt);
	job.cmd.info.flags = chain ? INFO_BACKING_CHAIN : 0;
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
