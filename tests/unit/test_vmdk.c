/*
 * VMDK (src/core/vmdk/): the descriptor read as qemu 7.2 reads it (its
 * sscanf and strstr calls, their quirks), the binary headers, qemu's
 * create layout, and the writer through dd read back by cordon's own
 * reader: content, unallocated zero grains, grain tables beyond one, a
 * device that does not start as zeros, the host's cap; and a descriptor
 * whose extents are child devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/core/endian.h"
#include "../../src/core/vmdk/vmdk.h"
#include "../../src/host/output_cap.h"
#include "memdev.h"
#include "test_writer_round_trip.h"
#include "test_job.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- the descriptor ------------------------------------------------------- */

static enum vmdk_line line(const char *text, struct vmdk_desc_extent *e)
{
	memset(e, 0x5a, sizeof(*e));
	return vmdk_desc_extent_line(text, strlen(text), 0, e);
}

static void extent_lines_as_sscanf_reads_them(void **state)
{
	(void)state;
	struct vmdk_desc_extent e;
	assert_int_equal(line("RW 100 FLAT \"a b.raw\" 5", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.type, VMDK_EXT_FLAT);
	assert_int_equal(e.sectors, 100);
	assert_int_equal(e.flat_offset, 5);
	assert_string_equal(e.fname, "a b.raw");
	assert_int_equal(e.fname_len, 7);

	/* FLAT needs its offset; the others must not have one */
	assert_int_equal(line("RW 100 FLAT \"x\"", &e), VMDK_LINE_INVALID);
	assert_int_equal(line("RW 100 FLAT \"x\" -1", &e), VMDK_LINE_INVALID);
	assert_int_equal(line("RW 100 SPARSE \"x\" 5", &e), VMDK_LINE_INVALID);
	assert_int_equal(line("RW 100 VMFS \"x\" 3", &e), VMDK_LINE_INVALID);
	/* ... checked before the type is: an unknown type with 5 fields too */
	assert_int_equal(line("RW 100 FOO \"x\" 1", &e), VMDK_LINE_INVALID);
	assert_int_equal(line("RW 100 FOO \"x\"", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("RW 100 VMFS \"x\"", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.type, VMDK_EXT_VMFS);
	assert_int_equal(e.flat_offset, 0);
	assert_int_equal(line("RW 9 VMFSSPARSE \"x\"", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.type, VMDK_EXT_VMFSSPARSE);
	assert_int_equal(line("RW 9 SESPARSE \"x\"", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.type, VMDK_EXT_SESPARSE);

	/* not extents qemu uses */
	assert_int_equal(line("RW 0 FLAT \"x\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("RW -5 FLAT \"x\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("RDONLY 100 FLAT \"x\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("RW100 FLAT \"x\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("RW 100 FLAT \"\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("# RW 100 FLAT \"x\" 0", &e), VMDK_LINE_SKIP);
	assert_int_equal(line("", &e), VMDK_LINE_SKIP);

	/* numbers as strtoll gives them */
	assert_int_equal(line("RW +9 FLAT \"x\" 0", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.sectors, 9);
	assert_int_equal(line("RW 99999999999999999999 FLAT \"x\" 0", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.sectors, INT64_MAX);
	assert_int_equal(line("RW 1 FLAT \"x\" 99999999999999999999", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.flat_offset, INT64_MAX);

	/* sscanf reads across newlines: a blank line reads the next one, a
	 * number on the next line is this line's fifth field */
	assert_int_equal(line("\n\nRW 7 FLAT \"x\" 0", &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.sectors, 7);
	assert_int_equal(e.line_len, 0);
	assert_int_equal(line("RW 100 SPARSE \"x\"\n5", &e), VMDK_LINE_INVALID);
	assert_int_equal(e.line_len, strlen("RW 100 SPARSE \"x\""));
	assert_int_equal(line("RW 100 SPARSE \"x\"\n# next", &e), VMDK_LINE_EXTENT);

	/* a name of 600 bytes: the first 511 are taken, the closing quote
	 * never matches, so a SPARSE extent (4 fields) still counts */
	char longline[700];
	char name[601];
	memset(name, 'a', 600);
	name[600] = '\0';
	snprintf(longline, sizeof(longline), "RW 100 SPARSE \"%s\"", name);
	assert_int_equal(line(longline, &e), VMDK_LINE_EXTENT);
	assert_int_equal(e.fname_len, VMDK_FNAME_MAX);
	snprintf(longline, sizeof(longline), "RW 100 FLAT \"%s\" 0", name);
	assert_int_equal(line(longline, &e), VMDK_LINE_INVALID);
	/* names stop at a newline, a CR or a quote */
	assert_int_equal(line("RW 100 SPARSE \"a\rb\"", &e), VMDK_LINE_EXTENT);
	assert_string_equal(e.fname, "a");
}

static void lines_and_white_space(void **state)
{
	(void)state;
	const char *t = "ab\n\ncd";
	size_t end = strlen(t);
	assert_int_equal(vmdk_desc_next_line(t, end, 0), 3);
	assert_int_equal(vmdk_desc_next_line(t, end, 3), 4);
	assert_int_equal(vmdk_desc_next_line(t, end, 4), end);
	assert_int_equal(vmdk_desc_skip_space(t, end, 2), 4);
	assert_int_equal(vmdk_desc_skip_space(" \t\r\n\v\f", 6, 0), 6);
}

static bool cid(const char *text, bool parent, uint32_t *v)
{
	*v = 0x5a5a5a5a;
	return vmdk_desc_cid(text, strlen(text) + 1, parent, v);
}

static void cids_as_sscanf_hex_reads_them(void **state)
{
	(void)state;
	uint32_t v;
	assert_true(cid("CID=fffffffe\nparentCID=ffffffff\n", false, &v));
	assert_int_equal(v, 0xfffffffe);
	assert_true(cid("CID=fffffffe\nparentCID=ffffffff\n", true, &v));
	assert_int_equal(v, 0xffffffff);
	assert_true(cid("CID=0x1f", false, &v));
	assert_int_equal(v, 0x1f);
	assert_true(cid("CID=0xz", false, &v)); /* "0" then an x: 0 */
	assert_int_equal(v, 0);
	assert_true(cid("CID= \t12", false, &v));
	assert_int_equal(v, 0x12);
	assert_true(cid("CID=-1", false, &v));
	assert_int_equal(v, 0xffffffff);
	assert_true(cid("CID=123456789abc", false, &v)); /* strtoul, then 32 bits */
	assert_int_equal(v, 0x56789abc);
	assert_true(cid("CID=fffffffffffffffff", false, &v)); /* saturates */
	assert_int_equal(v, 0xffffffff);
	/* strstr finds "CID" inside "parentCID" when that comes first */
	assert_true(cid("parentCID=5\nCID=7\n", false, &v));
	assert_int_equal(v, 5);
	/* any one character after the key, not only '=' */
	assert_true(cid("CID:9", false, &v));
	assert_int_equal(v, 9);
	assert_false(cid("CID=zz", false, &v));
	assert_false(cid("CID=", false, &v));
	assert_false(cid("CID=-", false, &v));
	assert_false(cid("createType=\"x\"", false, &v));
	assert_false(cid("CID=5", true, &v));
	/* "CID" at the very end of the buffer: nothing after it to read */
	assert_false(vmdk_desc_cid("xCID", 4, false, &v));
}

static void parent_hints_and_values(void **state)
{
	(void)state;
	const char *name = NULL;
	size_t len = 0;
	const char *t = "parentFileNameHint=\"dir/base.vmdk\"\n";
	assert_int_equal(vmdk_desc_parent_hint(t, strlen(t) + 1, &name, &len), 1);
	assert_int_equal(len, strlen("dir/base.vmdk"));
	assert_memory_equal(name, "dir/base.vmdk", len);
	t = "parentFileNameHint=\"\"";
	assert_int_equal(vmdk_desc_parent_hint(t, strlen(t) + 1, &name, &len), 1);
	assert_int_equal(len, 0);
	t = "parentFileNameHint**abc\"";  /* two characters skipped, unchecked */
	assert_int_equal(vmdk_desc_parent_hint(t, strlen(t) + 1, &name, &len), 1);
	assert_memory_equal(name, "abc", 3);
	t = "parentFileNameHint=\"abc";
	assert_int_equal(vmdk_desc_parent_hint(t, strlen(t) + 1, &name, &len), -1);
	t = "CID=1";
	assert_int_equal(vmdk_desc_parent_hint(t, strlen(t) + 1, &name, &len), 0);
	char big[5000];
	memcpy(big, "parentFileNameHint=\"", 20);
	memset(big + 20, 'a', 4096);
	memcpy(big + 4116, "\"", 2);
	assert_int_equal(vmdk_desc_parent_hint(big, sizeof(big), &name, &len), -1);
	big[4115] = '"'; /* 4095 bytes: qemu's PATH_MAX - 1 */
	assert_int_equal(vmdk_desc_parent_hint(big, sizeof(big), &name, &len), 1);
	assert_int_equal(len, VMDK_HINT_MAX);

	char out[VMDK_CREATE_TYPE_MAX + 1];
	t = "x\ncreateType=\"twoGbMaxExtentFlat\"\n";
	assert_true(vmdk_desc_value(t, strlen(t), "createType", out, sizeof(out)));
	assert_string_equal(out, "twoGbMaxExtentFlat");
	assert_false(vmdk_desc_value("createType=\"abc", 15, "createType", out, sizeof(out)));
	assert_false(vmdk_desc_value("createType", 10, "createType", out, sizeof(out)));
	char ct[200];
	snprintf(ct, sizeof(ct), "createType=\"%0128d\"", 0);
	assert_false(vmdk_desc_value(ct, strlen(ct), "createType", out, sizeof(out)));
	ct[strlen(ct) - 2] = '"'; /* 127 characters fit */
	assert_true(vmdk_desc_value(ct, strlen(ct), "createType", out, sizeof(out)));
}

/* ---- headers -------------------------------------------------------------- */

static void headers_round_trip(void **state)
{
	(void)state;
	struct vmdk4_header h = { .version = 3, .flags = 0x30003, .capacity = 1ull << 40,
				  .granularity = 128, .desc_offset = 1, .desc_size = 20,
				  .num_gtes_per_gt = 512, .rgd_offset = 21, .gd_offset = 1000,
				  .grain_offset = 2048, .compress_algorithm = 1 };
	uint8_t raw[VMDK4_HEADER_LEN], footer[VMDK_FOOTER_LEN];
	vmdk4_header_encode(&h, raw);
	assert_memory_equal(raw + 69, "\n \r\n", 4);
	struct vmdk4_header back;
	vmdk4_header_decode(raw, &back);
	uint8_t again[VMDK4_HEADER_LEN];
	vmdk4_header_encode(&back, again);
	assert_memory_equal(again, raw, sizeof(raw));
	assert_int_equal(back.capacity, 1ull << 40);
	assert_int_equal(back.compress_algorithm, 1);
	assert_int_equal(back.grain_offset, 2048);

	/* the stream footer: marker (type 3), the header, end of stream */
	memset(footer, 0, sizeof(footer));
	store_le32(footer + 12, 3);
	store_be32(footer + 512, VMDK4_MAGIC);
	memcpy(footer + 516, raw, sizeof(raw));
	assert_true(vmdk_footer_decode(footer, &back));
	assert_int_equal(back.gd_offset, 1000);
	store_le32(footer + 1036, 1); /* end-of-stream marker of another type */
	assert_false(vmdk_footer_decode(footer, &back));
	store_le32(footer + 1036, 0);
	store_le32(footer + 8, 1); /* a footer marker with a size */
	assert_false(vmdk_footer_decode(footer, &back));
}

static void create_layout_is_qemus(void **state)
{
	(void)state;
	struct vmdk_create_layout l;
	/* 1 GiB: 16384 grains, 32 tables, a one-sector directory */
	assert_int_equal(vmdk_create_layout(2 * MiB, &l), 0);
	assert_int_equal(l.gt_count, 32);
	assert_int_equal(l.gd_sectors, 1);
	assert_int_equal(l.rgd_offset, 21);
	assert_int_equal(l.gd_offset, 21 + 1 + 32 * 4);
	assert_int_equal(l.grain_offset, 384);
	/* what qemu-img made for 5 MiB + 512 (integration: same header) */
	assert_int_equal(vmdk_create_layout(10241, &l), 0);
	assert_int_equal(l.gd_offset, 26);
	assert_int_equal(l.grain_offset, 128);
	/* qemu's grain count is 32-bit */
	assert_int_equal(vmdk_create_layout(128ull * UINT32_MAX, &l), 0);
	assert_int_equal(vmdk_create_layout(128ull * UINT32_MAX + 1, &l), -CD_EFBIG);
}

/* ---- the writer through dd, read back ------------------------------------ */

/* Runs dd -O vmdk over `in`, checks the file's structure and reads it back
 * through cordon's reader.  Returns the number of allocated grains. */
static uint32_t dd_vmdk(const uint8_t *in, uint64_t len, bool zeroed)
{
	struct memdevs m;
	dd_into(&m, "vmdk", in, len, zeroed ? 0 : 64 * MiB);
	const uint8_t *img = m.dev[TEST_OUT].data;
	uint64_t size = m.dev[TEST_OUT].size;
	uint64_t vsize = (len + 511) / 512 * 512;

	struct vmdk4_header h;
	assert_int_equal(load_be32(img), VMDK4_MAGIC);
	vmdk4_header_decode(img + 4, &h);
	assert_int_equal(h.capacity * 512, vsize);
	assert_int_equal(h.flags, VMDK4_FLAG_RGD | VMDK4_FLAG_NL_DETECT);
	const char *desc = (const char *)img + 512;
	assert_non_null(strstr(desc, "CID=5a5a5a5a\nparentCID=ffffffff\n"));
	char ext_line[64];
	snprintf(ext_line, sizeof(ext_line), "RW %llu SPARSE \"out.raw\"\n",
		 (unsigned long long)(vsize / 512));
	assert_non_null(strstr(desc, ext_line));
	/* both directories, their tables equal; grains counted */
	struct vmdk_create_layout l;
	assert_int_equal(vmdk_create_layout(h.capacity, &l), 0);
	uint32_t used = 0;
	for (uint64_t t = 0; t < l.gt_count; t++) {
		uint32_t a = load_le32(img + h.rgd_offset * 512 + t * 4);
		uint32_t b = load_le32(img + h.gd_offset * 512 + t * 4);
		assert_int_equal(a, h.rgd_offset + l.gd_sectors + 4 * t);
		assert_int_equal(b, h.gd_offset + l.gd_sectors + 4 * t);
		assert_memory_equal(img + a * 512ull, img + b * 512ull, 2048);
		for (int i = 0; i < 512; i++)
			used += load_le32(img + b * 512ull + 4 * i) != 0;
	}
	if (zeroed)
		assert_int_equal(size, (h.grain_offset + used * 128ull) * 512);
	assert_true(size <= output_cap("vmdk", vsize));

	read_back(img, size, "vmdk", in, len, vsize);
	memdevs_free(&m);
	return used;
}

static void writer_round_trips(void **state)
{
	(void)state;
	uint8_t *in = pattern_input(5 * MiB + 777, NULL, 0);
	assert_int_equal(dd_vmdk(in, 5 * MiB + 777, true), 81);
	free(in);
	/* whole zero grains stay out; zeros inside a grain do not */
	static const uint64_t z[][2] = { { 64 * KiB, 256 * KiB }, { 300 * KiB, 301 * KiB } };
	in = pattern_input(MiB, z, 2);
	assert_int_equal(dd_vmdk(in, MiB, true), 13);
	free(in);
	/* 33 MiB: a second grain table; data only past the first */
	static const uint64_t z2[][2] = { { 0, 32 * MiB } };
	in = pattern_input(33 * MiB, z2, 1);
	assert_int_equal(dd_vmdk(in, 33 * MiB, true), 16);
	free(in);
	in = pattern_input(1, NULL, 0);
	assert_int_equal(dd_vmdk(in, 1, true), 1);
	free(in);
}

static void holes_map_as_one_run(void **state)
{
	(void)state;
	/* 33 MiB: grain table 0 (32 MiB) all holes, then data */
	static const uint64_t z[][2] = { { 0, 32 * MiB }, { 32 * MiB + 128 * KiB, 33 * MiB } };
	uint8_t *in = pattern_input(33 * MiB, z, 2);
	struct memdevs m;
	dd_into(&m, "vmdk", in, 33 * MiB, 0);
	struct memdevs r;
	memdevs_init(&r);
	uint32_t dev = memdevs_add_input(&r, m.dev[TEST_OUT].data, m.dev[TEST_OUT].size);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &r.env);
	struct image im;
	assert_int_equal(image_open(&ctx, dev, "vmdk", "out.vmdk", &im), 0);
	struct extent ext;
	struct image *owner;
	/* one run for the whole table of holes, whatever was asked */
	assert_int_equal(image_map(&im, 100, 33 * MiB - 100, &ext, &owner), 32 * MiB - 100);
	assert_int_equal(ext.kind, EXT_ZERO);
	/* data: one grain at a time; then the holes after it, to the end */
	assert_int_equal(image_map(&im, 32 * MiB + 7, MiB, &ext, &owner), 64 * KiB - 7);
	assert_int_equal(ext.kind, EXT_RAW);
	assert_int_equal(image_map(&im, 32 * MiB + 128 * KiB, MiB - 128 * KiB, &ext, &owner),
			 MiB - 128 * KiB);
	assert_int_equal(ext.kind, EXT_ZERO);
	image_close(&im);
	assert_int_equal(r.mem_used, 0);
	memdevs_free(&r);
	memdevs_free(&m);
	free(in);
}

static void writer_on_a_device_not_zeroed(void **state)
{
	(void)state;
	static const uint64_t z[][2] = { { 100, 70000 }, { 2 * MiB, 33 * MiB + 3 } };
	uint8_t *in = pattern_input(34 * MiB, z, 2);
	assert_int_equal(dd_vmdk(in, 34 * MiB, false), 32 + 16);
	free(in);
}

static void empty_window_is_qemus_failure(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	memdevs_add_input(&m, "", 0);
	struct cordon_job job = test_dd_job("vmdk", 512, 0, 0, 0, 0);
	assert_int_equal(core_run(&m.env, &job), 1);
	assert_string_equal(m.msgs[0], "Could not open 'out.raw': Unsupported image type "
				       "'monolithicSparse'");
	/* created first, as qemu creates it (its errors come first); the
	 * host removes it after the failure */
	assert_true(m.dev[TEST_OUT].created);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
}

static void writer_abort_frees_everything(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image_writer w;
	struct writer_opts o = { .size = 40 * MiB, .zeroed = true, .min_sparse = 512 };
	assert_int_equal(writer_open(&ctx, "vmdk", TEST_OUT, &o, &w), 0);
	uint8_t *buf = core_alloc(&ctx, 4096, 16);
	memset(buf, 7, 4096);
	assert_int_equal(w.ops->write(&w, 0, buf, 4096), 0);
	w.ops->abort(&w);
	core_free(&ctx, buf);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
}

static void extent_line_names_the_base_name(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	m.dev[TEST_OUT].display = "some/dir/disk.img.vmdk";
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image_writer w;
	struct writer_opts o = { .size = 3000 * 512, .zeroed = true, .min_sparse = 512 };
	assert_int_equal(writer_open(&ctx, "vmdk", TEST_OUT, &o, &w), 0);
	assert_int_equal(w.ops->finish(&w), 0);
	assert_non_null(strstr((const char *)m.dev[TEST_OUT].data + 512,
			       "\nRW 3000 SPARSE \"disk.img.vmdk\"\n"));
	/* cylinders: size / (63 * 16 * 512), rounded down */
	assert_non_null(strstr((const char *)m.dev[TEST_OUT].data + 512,
			       "ddb.geometry.cylinders = \"2\"\n"));
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
}

/* ---- a descriptor and its extents ---------------------------------------- */

static void descriptor_with_flat_and_sparse_extents(void **state)
{
	(void)state;
	/* a flat extent of 4 sectors from sector 1 of a.raw, then a sparse
	 * extent made by the writer */
	uint8_t flat[3 * 512];
	for (size_t i = 0; i < sizeof(flat); i++)
		flat[i] = (uint8_t)(i ^ 0x33);
	static const char desc[] = "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
				   "createType=\"twoGbMaxExtentSparse\"\n"
				   "RW 4 FLAT \"a.raw\" 1\n"
				   "RW 2 SPARSE \"b.vmdk\"\n";
	struct memdevs w;
	memdevs_init(&w);
	uint8_t sparse_in[1024];
	memset(sparse_in, 0xee, sizeof(sparse_in));
	memdevs_add_input(&w, sparse_in, sizeof(sparse_in));
	struct cordon_job job = test_dd_job("vmdk", 512, 0, 0, 0, 0);
	assert_int_equal(core_run(&w.env, &job), 0);

	struct memdevs m;
	memdevs_init(&m);
	uint32_t top = memdevs_add_named(&m, "in.vmdk", desc, sizeof(desc) - 1);
	m.dev[top].attached = true;
	memdevs_add_named(&m, "a.raw", flat, sizeof(flat));
	memdevs_add_named(&m, "b.vmdk", w.dev[TEST_OUT].data, w.dev[TEST_OUT].size);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image im;
	if (image_open(&ctx, top, "", "in.vmdk", &im) != 0)
		fail_msg("%s", ctx.err);
	assert_int_equal(im.size, 6 * 512);
	uint8_t *buf = core_alloc(&ctx, 6 * 512, 16);
	assert_int_equal(image_read(&im, 0, buf, 6 * 512), 0);
	/* sectors 1, 2 of a.raw, then past its end: zeros */
	assert_memory_equal(buf, flat + 512, 1024);
	for (size_t i = 1024; i < 2048; i++)
		assert_int_equal(buf[i], 0);
	for (size_t i = 2048; i < 3072; i++)
		assert_int_equal(buf[i], 0xee);
	core_free(&ctx, buf);
	image_close(&im);
	assert_int_equal(m.violations, 0);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
	memdevs_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(extent_lines_as_sscanf_reads_them),
		cmocka_unit_test(lines_and_white_space),
		cmocka_unit_test(cids_as_sscanf_hex_reads_them),
		cmocka_unit_test(parent_hints_and_values),
		cmocka_unit_test(headers_round_trip),
		cmocka_unit_test(create_layout_is_qemus),
		cmocka_unit_test(writer_round_trips),
		cmocka_unit_test(holes_map_as_one_run),
		cmocka_unit_test(writer_on_a_device_not_zeroed),
		cmocka_unit_test(empty_window_is_qemus_failure),
		cmocka_unit_test(writer_abort_frees_everything),
		cmocka_unit_test(extent_line_names_the_base_name),
		cmocka_unit_test(descriptor_with_flat_and_sparse_extents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
