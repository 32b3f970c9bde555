/*
 * The images the whole-job targets (fuzz_dd_job, fuzz_info_job) start
 * from: templates of every format cordon reads but qcow2 (VHD dynamic and
 * fixed, VHDX and a differencing one, VMDK sparse and stream-optimized),
 * and the files they name (a VMDK descriptor's extents, a child's parent,
 * a differencing VHDX's parent), built once.
 */
#ifndef CORDON_FUZZ_JOB_TEMPLATES_H
#define CORDON_FUZZ_JOB_TEMPLATES_H

#include "../src/core/format.h"
#include "../tests/unit/memdev.h"
#include "fuzz_image.h"
#include "vhdx_templates.h"
#include "vmdk_templates.h"
#include "vpc_templates.h"

#define JOB_TEMPLATES 6

static struct vt job_vts[2];
static struct xt job_xts[3];
static struct vmt job_vmts[8];

/* Fills t[0..JOB_TEMPLATES) (once). */
static inline void job_templates(struct fuzz_template *t)
{
	if (!job_vts[0].buf) {
		vt_dynamic(&job_vts[0], VPC_DYNAMIC, 4096, 16, 0x8089, "qemu");
		vt_fixed(&job_vts[1], 40960);
		xt_build(&job_xts[0], 3 * XT_MiB + 4096, 0x5, false); /* the parent */
		xt_build(&job_xts[1], 3 * XT_MiB + 4096, 0x5, true);
		xt_build_differencing(&job_xts[2], 3 * XT_MiB + 4096);
		vmt_all(job_vmts);
	}
	t[0] = (struct fuzz_template){ job_vts[0].buf, job_vts[0].len };
	t[1] = (struct fuzz_template){ job_vts[1].buf, job_vts[1].len };
	t[2] = (struct fuzz_template){ job_xts[1].buf, job_xts[1].len };
	t[3] = (struct fuzz_template){ job_xts[2].buf, job_xts[2].len };
	t[4] = (struct fuzz_template){ job_vmts[0].buf, job_vmts[0].len };
	t[5] = (struct fuzz_template){ job_vmts[1].buf, job_vmts[1].len };
}

/* The files the templates name, attachable by name. */
static inline void job_add_named(struct memdevs *m)
{
	memdevs_add_named(m, VMT_FLAT, job_vmts[4].buf, job_vmts[4].len);
	memdevs_add_named(m, VMT_SPARSE, job_vmts[5].buf, job_vmts[5].len);
	memdevs_add_named(m, VMT_COWD, job_vmts[6].buf, job_vmts[6].len);
	memdevs_add_named(m, VMT_PARENT, job_vmts[7].buf, job_vmts[7].len);
	memdevs_add_named(m, "./" XT_PARENT_NAME, job_xts[0].buf, job_xts[0].len);
}

/* A fresh set of devices (the files the templates name already there) to
 * read a job's images back with. */
static inline void job_reader(struct memdevs *r, struct core_ctx *ctx)
{
	memdevs_init(r);
	r->mem_cap = 64u << 20;
	job_add_named(r);
	core_ctx_init(ctx, &r->env);
}

/* out's [base, base + span) must read as in's [in_off, in_off + have)
 * (have <= span; in NULL when have is 0) followed by zeros. */
static inline void job_expect(struct core_ctx *ctx, struct image *out, uint64_t base, uint64_t span,
		       struct image *in, uint64_t in_off, uint64_t have)
{
	uint8_t *a = core_alloc(ctx, FUZZ_WINDOW_MAX, 64), *b = core_alloc(ctx, FUZZ_WINDOW_MAX, 64);
	FUZZ_CHECK(a && b);
	for (uint64_t off = 0; off < span; off += FUZZ_WINDOW_MAX) {
		uint64_t n = span - off < FUZZ_WINDOW_MAX ? span - off : FUZZ_WINDOW_MAX;
		FUZZ_CHECK(image_read(out, base + off, b, n) == 0);
		uint64_t k = have > off ? have - off : 0;
		if (k > n)
			k = n;
		if (k)
			FUZZ_CHECK(image_read(in, in_off + off, a, k) == 0 && memcmp(a, b, k) == 0);
		FUZZ_CHECK(fuzz_all_zero(b + k, n - k));
	}
	core_free(ctx, a);
	core_free(ctx, b);
}

#endif
