/*
 * The writer interface (src/core/format.h): which formats can be written
 * and in whose words a refusal is, options a writer does not take, abort
 * freeing everything after a partial write, and the extra files of a
 * multi-file output named as qemu names them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/core/format.h"
#include "../../src/core/output_names.h"
#include "memdev.h"
#include "test_job.h"

static void qemu_names_sort_into_refusals(void **state)
{
	(void)state;
	assert_int_equal(writer_refusal("raw"), WRITER_OK);
	assert_int_equal(writer_refusal("qcow2"), WRITER_OK);
	assert_int_equal(writer_refusal("vpc"), WRITER_OK);
	assert_int_equal(writer_refusal("vhdx"), WRITER_OK);
	assert_int_equal(writer_refusal("vmdk"), WRITER_OK);
	/* qemu creates these; cordon cannot yet */
	static const char *const not_yet[] = { "vdi", "qed",
					       "parallels", "qcow", "luks" };
	for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++)
		assert_int_equal(writer_refusal(not_yet[i]), WRITER_NOT_YET);
	/* qemu cannot create these either: "Format driver ... does not support" */
	static const char *const never[] = { "bochs", "cloop", "dmg", "blkdebug",
					     "throttle", "quorum", "null-co", "vvfat" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_int_equal(writer_refusal(never[i]), WRITER_NO_CREATE);
	/* protocols: 'file' writes raw; the others are decided by the target */
	assert_int_equal(writer_refusal("file"), WRITER_OK);
	assert_int_equal(writer_refusal("nbd"), WRITER_OK);
	assert_int_equal(writer_refusal("host_device"), WRITER_OK);
	/* not names qemu-utils knows (ssh is in qemu-block-extra) */
	assert_int_equal(writer_refusal("ssh"), WRITER_UNKNOWN);
	assert_int_equal(writer_refusal("foo"), WRITER_UNKNOWN);
	assert_int_equal(writer_refusal(""), WRITER_UNKNOWN);
}

struct fx {
	struct memdevs m;
	struct core_ctx ctx;
};

static void fx_init(struct fx *f)
{
	memdevs_init(&f->m);
	core_ctx_init(&f->ctx, &f->m.env);
}

static void refuse(struct fx *f, const char *fmt, struct writer_opts o, const char *want)
{
	struct image_writer w;
	f->ctx.err[0] = '\0';
	f->m.dev[TEST_OUT].created = false;
	assert_true(writer_open(&f->ctx, fmt, TEST_OUT, &o, &w) < 0);
	assert_string_equal(f->ctx.err, want);
	assert_false(f->m.dev[TEST_OUT].created); /* refused before creating */
	assert_int_equal(f->m.mem_used, 0);
}

static void options_a_writer_does_not_take(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	refuse(&f, "raw", (struct writer_opts){ .size = 512, .backing = "b.raw" },
	       "Backing file not supported for file format 'raw'");
	refuse(&f, "raw", (struct writer_opts){ .size = 512, .compress = true },
	       "Compression not supported for this file format");
	refuse(&f, "qcow2", (struct writer_opts){ .size = 512, .open_existing = true },
	       "cordon cannot write into an existing qcow2 image yet");
	refuse(&f, "qcow2", (struct writer_opts){ .size = 512, .cluster_size = 4096 },
	       "cordon's qcow2 writer takes no options yet");
	refuse(&f, "vdi", (struct writer_opts){ .size = 512 }, "cordon cannot write vdi images");
	refuse(&f, "vpc", (struct writer_opts){ .size = 512, .backing = "b.vhd" },
	       "Backing file not supported for file format 'vpc'");
	memdevs_free(&f.m);
}

/* -O with a protocol: what qemu says of the target it would open. */
static void protocols_judge_the_target(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct writer_opts o = { .size = 512 };
	f.m.dev[TEST_OUT].display = "o.img";
	refuse(&f, "nbd", o, "Protocol driver 'nbd' does not support image creation, and "
			     "opening the image failed: File name string for NBD must start "
			     "with 'nbd:'");
	refuse(&f, "host_device", o, "Protocol driver 'host_device' does not support image "
				     "creation, and opening the image failed: Could not open "
				     "'o.img': No such file or directory");
	f.m.dev[TEST_OUT].file_type = HC_FILE_REGULAR;
	refuse(&f, "host_device", o, "Protocol driver 'host_device' does not support image "
				     "creation, and opening the image failed: 'host_device' "
				     "driver requires 'o.img' to be either a character or block "
				     "device");
	f.m.dev[TEST_OUT].file_type = HC_FILE_CHAR;
	refuse(&f, "file", o, "Could not resize file: Invalid argument");
	refuse(&f, "host_cdrom", o, "cordon does not use the 'host_cdrom' driver");
	f.m.dev[TEST_OUT].display = "nbd:localhost:10809";
	refuse(&f, "nbd", o, "cordon writes image files only: 'nbd' is a protocol driver");
	/* a device passes for host_device, and is written as raw */
	f.m.dev[TEST_OUT].display = "o.img";
	struct image_writer w;
	assert_int_equal(writer_open(&f.ctx, "host_device", TEST_OUT, &o, &w), 0);
	w.ops->abort(&w);
	assert_int_equal(f.m.mem_used, 0);
	memdevs_free(&f.m);
}

/* A read fails mid-copy: the command aborts the writer, which gives back
 * every byte it held (4 MiB of batch for qcow2). */
static void abort_frees_everything(void **state)
{
	(void)state;
	static const char *const fmts[] = { "raw", "qcow2" };
	for (size_t i = 0; i < 2; i++) {
		struct fx f;
		fx_init(&f);
		struct image_writer w;
		struct writer_opts o = { .size = 1 << 20, .zeroed = true, .min_sparse = 512 };
		assert_int_equal(writer_open(&f.ctx, fmts[i], TEST_OUT, &o, &w), 0);
		uint8_t *buf = core_alloc(&f.ctx, 70000, 64);
		memset(buf, 0x5a, 70000);
		assert_int_equal(w.ops->write(&w, 0, buf, 70000), 0);
		core_free(&f.ctx, buf);
		assert_true(strcmp(fmts[i], "raw") == 0 || f.m.mem_used > 0);
		w.ops->abort(&w);
		assert_int_equal(f.m.mem_used, 0);
		w.ops->abort(&w); /* twice is harmless */
		assert_int_equal(f.m.violations, 0);
		memdevs_free(&f.m);
	}
}

/* The extra files of a multi-file output: beside it, named as qemu's VMDK
 * driver names them, created with their own size. */
static void extra_outputs_are_named_as_qemu_names_them(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.m.dev[TEST_OUT].display = "dir/disk.vmdk";
	struct image_writer w = { .ctx = &f.ctx, .dev = TEST_OUT };
	int64_t a = writer_add_output(&w, HC_NAME_SPLIT_SPARSE, 1, 4096);
	int64_t b = writer_add_output(&w, HC_NAME_SPLIT_FLAT, 12, 4096);
	int64_t c = writer_add_output(&w, HC_NAME_FLAT, 1, 4096);
	assert_true(a > 0 && b > a && c > b);
	assert_string_equal(f.m.dev[a].display, "dir/disk-s001.vmdk");
	assert_string_equal(f.m.dev[b].display, "dir/disk-f012.vmdk");
	assert_string_equal(f.m.dev[c].display, "dir/disk-flat.vmdk");
	assert_true(f.m.dev[a].created && f.m.dev[b].created && f.m.dev[c].created);
	/* no extension, a dot only in the directory, and qemu's ':' */
	char name[64];
	output_name(name, sizeof(name), "a.d/disk", HC_NAME_SPLIT_FLAT, 3, 1);
	assert_string_equal(name, "a.d/disk-f003");
	output_name(name, sizeof(name), "host:x.img", HC_NAME_FLAT, 1, 0);
	assert_string_equal(name, "x-flat.img");
	output_name(name, sizeof(name), "dir/disk.vmdk", HC_NAME_SPLIT_SPARSE, 2, 0);
	assert_string_equal(name, "disk-s002.vmdk");
	memdevs_free(&f.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_names_sort_into_refusals),
		cmocka_unit_test(options_a_writer_does_not_take),
		cmocka_unit_test(protocols_judge_the_target),
		cmocka_unit_test(abort_frees_everything),
		cmocka_unit_test(extra_outputs_are_named_as_qemu_names_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
