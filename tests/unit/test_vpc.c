/*
 * VHD (src/core/vpc/): qemu's CHS rounding of created sizes, the footer and
 * header rules qemu applies at open (creator applications, every check and
 * its words), UTF-16 parent names, and the writer through dd, read back by
 * cordon's own reader: content, unallocated zero blocks, the BAT beyond
 * one page, a device that does not start as zeros, and the host's cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/core/endian.h"
#include "../../src/core/utf16.h"
#include "../../src/core/vpc/vpc.h"
#include "../../src/host/output_cap.h"
#include "memdev.h"
#include "test_writer_round_trip.h"
#include "test_job.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- CHS ------------------------------------------------------------------ */

static void chs_table_from_qemu(void **state)
{
	(void)state;
	/* window bytes -> declared size, C/H/S (qemu-img dd -O vpc) */
	static const struct { uint64_t in, out; unsigned c, h, s; } rows[] = {
		{ 512, 34816, 1, 4, 17 },
		{ 1000, 34816, 1, 4, 17 },
		{ 3000, 34816, 1, 4, 17 },
		{ 34816, 34816, 1, 4, 17 },
		{ 34817, 69632, 2, 4, 17 },
		{ 1048576, 1079296, 31, 4, 17 },
		{ 35651584, 35686400, 820, 5, 17 },
		{ 53426688, 53433856, 877, 7, 17 },
		{ 104857600, 104865792, 1004, 12, 17 },
		{ 267386880, 267853824, 519, 16, 63 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t out = 0;
		struct vpc_chs g;
		assert_int_equal(chs_rounded_size(rows[i].in, false, &out, &g), 0);
		if (out != rows[i].out || g.cyls != rows[i].c || g.heads != rows[i].h ||
		    g.secs != rows[i].s)
			fail_msg("%llu: got %llu %u/%u/%u", (unsigned long long)rows[i].in,
				 (unsigned long long)out, g.cyls, g.heads, g.secs);
	}
}

static void chs_limits(void **state)
{
	(void)state;
	uint64_t out = 1;
	struct vpc_chs g;
	/* an empty disk: no geometry at all, as qemu-img makes it */
	assert_int_equal(chs_rounded_size(0, false, &out, &g), 0);
	assert_int_equal(out, 0);
	assert_int_equal(g.cyls * g.heads * g.secs, 0);
	/* saturated geometry: the size itself, rounded to a sector */
	uint64_t max_geo = VPC_MAX_GEOMETRY * 512;
	assert_int_equal(chs_rounded_size(max_geo + 1, false, &out, &g), 0);
	assert_int_equal(out, max_geo + 512);
	assert_int_equal(g.cyls, 65535);
	assert_int_equal(g.heads, 16);
	assert_int_equal(g.secs, 255);
	assert_int_equal(chs_rounded_size(200 * GiB + 1, false, &out, &g), 0);
	assert_int_equal(out, 200 * GiB + 512);
	/* just under the saturated geometry: rounds up into it */
	assert_int_equal(chs_rounded_size(max_geo - 4000, false, &out, &g), 0);
	assert_int_equal(out, max_geo - 4000 + 512 - (max_geo - 4000) % 512);
	/* 2040 GiB is the limit */
	assert_int_equal(chs_rounded_size(VPC_MAX_SECTORS * 512, false, &out, &g), 0);
	assert_int_equal(out, VPC_MAX_SECTORS * 512);
	assert_int_equal(chs_rounded_size(VPC_MAX_SECTORS * 512 + 1, false, &out, &g),
			 -CD_EFBIG);
	assert_int_equal(chs_rounded_size(UINT64_MAX, false, &out, &g), -CD_EFBIG);
	/* force_size: the size as given (sector-rounded) */
	assert_int_equal(chs_rounded_size(1000, true, &out, &g), 0);
	assert_int_equal(out, 1024);
	assert_int_equal(g.cyls, 65535);
}

/* ---- footer and header rules ------------------------------------------- */

static void make_footer(uint8_t *f, const char *app, uint16_t c, uint8_t h, uint8_t s,
			uint64_t current)
{
	memset(f, 0, VPC_FOOTER_LEN);
	memcpy(f, "conectix", 8);
	store_be64(f + 16, 512);
	memcpy(f + 28, app, 4);
	store_be64(f + 48, current);
	store_be16(f + 56, c);
	f[58] = h;
	f[59] = s;
	store_be32(f + 60, VPC_DYNAMIC);
	store_be32(f + 64, vpc_checksum(f, VPC_FOOTER_LEN, 64));
}

static void virtual_size_by_creator(void **state)
{
	(void)state;
	uint8_t raw[VPC_FOOTER_LEN];
	struct vpc_footer f;
	/* current_size 10 MiB, geometry 100/4/17 = 6800 sectors */
	static const struct { const char app[5]; uint64_t sectors; } rows[] = {
		{ "vpc ", 6800 }, { "qemu", 6800 }, { "vbox", 6800 }, { "xyzw", 6800 },
		{ "win ", 20480 }, { "qem2", 20480 }, { "d2v ", 20480 }, { "CTXS", 20480 },
		{ { 't', 'a', 'p', '\0' }, 20480 },
		{ "tap ", 6800 }, /* only "tap\0" is XenServer */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		make_footer(raw, rows[i].app, 100, 4, 17, 10 * MiB);
		vpc_footer_decode(raw, &f);
		assert_true(f.cookie_ok && f.checksum_ok);
		assert_int_equal(vpc_virtual_sectors(&f), rows[i].sectors);
	}
	/* the maximum geometry means the size field, whoever made it */
	make_footer(raw, "vpc ", 65535, 16, 255, 300 * GiB);
	vpc_footer_decode(raw, &f);
	assert_int_equal(vpc_virtual_sectors(&f), 300 * GiB / 512);
	/* a flipped bit breaks the checksum */
	raw[100] ^= 1;
	vpc_footer_decode(raw, &f);
	assert_false(f.checksum_ok);
	memcpy(raw, "conectiy", 8);
	vpc_footer_decode(raw, &f);
	assert_false(f.cookie_ok);
}

static void layout(const struct vpc_dyn_header *h, uint64_t sectors, int want,
		   const char *msg)
{
	struct vpc_layout l;
	char why[128] = "";
	assert_int_equal(vpc_check_layout(h, sectors, &l, why, sizeof(why)), want);
	if (msg)
		assert_string_equal(why, msg);
}

static void layout_checks_in_qemu_words(void **state)
{
	(void)state;
	struct vpc_dyn_header h = { .table_offset = 1536, .max_table_entries = 2,
				    .block_size = 2 * MiB };
	struct vpc_layout l;
	char why[128];
	assert_int_equal(vpc_check_layout(&h, 8192, &l, why, sizeof(why)), 0);
	assert_int_equal(l.bitmap_size, 512);
	assert_int_equal(l.bat_bytes, 8);
	h.block_size = 4096;
	assert_int_equal(vpc_check_layout(&h, 16, &l, why, sizeof(why)), 0);
	assert_int_equal(l.bitmap_size, 512); /* one bit, a sector of bitmap */

	h.block_size = 0;
	layout(&h, 8192, -CD_EINVAL, "Invalid block size 0");
	h.block_size = 3 * MiB;
	layout(&h, 8192, -CD_EINVAL, "Invalid block size 3145728");
	h.block_size = 256;
	layout(&h, 8192, -CD_EINVAL, "Invalid block size 256");
	h.block_size = 512;
	layout(&h, VPC_MAX_SECTORS, -CD_EINVAL, "Page table too small");
	h.block_size = 2 * MiB;
	h.max_table_entries = 1;
	layout(&h, 8192, -CD_EINVAL, "Page table too small");
	/* qemu's int: 2^31 entries are negative and wrap the product */
	h.max_table_entries = 0x80000000u;
	layout(&h, 8192, -CD_EINVAL, "Max Table Entries too large (-2147483648)");
	h.max_table_entries = 600000000u;
	layout(&h, 8192, -CD_EINVAL, "Max Table Entries too large (600000000)");
	/* a BAT qemu cannot read in one request, or at all */
	h.max_table_entries = 0x7fffffff / 4;
	layout(&h, 8192, -CD_EIO, "Error reading pagetable");
	h.max_table_entries = 2;
	h.table_offset = 1ull << 63;
	layout(&h, 8192, -CD_EIO, "Error reading pagetable");
	h.table_offset = VPC_QEMU_MAX_LENGTH - 8;
	layout(&h, 8192, 0, NULL);
}

static void parent_names(void **state)
{
	(void)state;
	char out[64];
	/* ".\\p\u00e9.vhd" in UTF-16LE, NUL-padded */
	const uint8_t w2ru[] = { '.', 0, '\\', 0, 'p', 0, 0xe9, 0, '.', 0, 'v', 0,
				 'h', 0, 'd', 0, 0, 0, 0, 0 };
	assert_int_equal(vpc_locator_name(0x57327275, w2ru, sizeof(w2ru), out, sizeof(out)), 9);
	assert_string_equal(out, "./p\xc3\xa9.vhd");
	const uint8_t macx[] = "file:///srv/img/base.vhd";
	assert_int_equal(vpc_locator_name(0x4d616358, macx, sizeof(macx), out, sizeof(out)),
			 (int)strlen("/srv/img/base.vhd"));
	assert_string_equal(out, "/srv/img/base.vhd");
	/* an embedded NUL, a lone surrogate, odd length, unknown platform */
	const uint8_t nul[] = { 'a', 0, 0, 0, 'b', 0 };
	assert_int_equal(vpc_locator_name(0x57327275, nul, sizeof(nul), out, sizeof(out)),
			 -CD_EINVAL);
	const uint8_t lone[] = { 'a', 0, 0x00, 0xdc };
	assert_int_equal(vpc_locator_name(0x57327275, lone, sizeof(lone), out, sizeof(out)),
			 -CD_EINVAL);
	assert_int_equal(vpc_locator_name(0x57327275, w2ru, 3, out, sizeof(out)), -CD_EINVAL);
	assert_int_equal(vpc_locator_name(0x4d616320, macx, sizeof(macx), out, sizeof(out)),
			 -CD_EINVAL);
	/* a pair makes one 4-byte character; too long for out is refused */
	const uint8_t pair[] = { 0x3d, 0xd8, 0x00, 0xde };
	assert_int_equal(utf16_to_utf8(pair, 4, false, out, sizeof(out)), 4);
	assert_memory_equal(out, "\xf0\x9f\x98\x80", 5);
	assert_int_equal(utf16_to_utf8(pair, 4, false, out, 4), -CD_ENAMETOOLONG);
	/* the header's name is big-endian; empty is no name */
	uint8_t be[512] = { 0, 'b', 0, '.', 0, 'v' };
	assert_int_equal(vpc_parent_name(be, out, sizeof(out)), 3);
	assert_string_equal(out, "b.v");
	memset(be, 0, sizeof(be));
	assert_int_equal(vpc_parent_name(be, out, sizeof(out)), -CD_EINVAL);
	/* preference: relative, then URL, then absolute */
	struct vpc_dyn_header h = { 0 };
	assert_int_equal(vpc_locator_pick(&h), -1);
	h.loc[1] = (struct vpc_locator){ .platform = 0x57326b75, .data_length = 4 };
	h.loc[5] = (struct vpc_locator){ .platform = 0x4d616358, .data_length = 4 };
	assert_int_equal(vpc_locator_pick(&h), 5);
	h.loc[6] = (struct vpc_locator){ .platform = 0x57327275, .data_length = 4 };
	assert_int_equal(vpc_locator_pick(&h), 6);
	h.loc[6].data_length = 0;
	assert_int_equal(vpc_locator_pick(&h), 5);
}

/* ---- the writer through dd, read back ------------------------------------ */

static uint32_t allocated_blocks(const uint8_t *img)
{
	uint32_t n = load_be32(img + 512 + 28), used = 0;
	for (uint32_t i = 0; i < n; i++)
		used += load_be32(img + 1536 + 4 * i) != VPC_BAT_UNUSED;
	return used;
}

/* Runs dd -O vpc over `in`, checks the file's structure and reads it back
 * through cordon's reader.  Returns the number of allocated blocks. */
static uint32_t dd_vpc(const uint8_t *in, uint64_t len, bool zeroed, uint64_t *vsize)
{
	struct memdevs m;
	dd_into(&m, "vpc", in, len, zeroed ? 0 : 16 * MiB);
	const uint8_t *img = m.dev[TEST_OUT].data;
	uint64_t size = m.dev[TEST_OUT].size;

	/* footer copy and footer, checksums, header, geometry, stamp, id */
	struct vpc_footer f;
	vpc_footer_decode(img, &f);
	assert_true(f.cookie_ok && f.checksum_ok);
	uint64_t used = allocated_blocks(img);
	uint64_t end = 1536 + ((load_be32(img + 512 + 28) * 4ull + 511) & ~511ull) +
		       used * (512 + 2 * MiB);
	if (!zeroed)
		assert_true(size >= end + 512);
	else
		assert_int_equal(size, end + 512);
	assert_memory_equal(img + end, img, 512);
	assert_int_equal(f.type, VPC_DYNAMIC);
	assert_memory_equal(f.creator_app, "qemu", 4);
	assert_int_equal(load_be32(img + 24), 1700000000 - 946684800);
	assert_int_equal(img[68 + 6] >> 4, 4); /* a version 4 UUID */
	assert_int_equal(vpc_checksum(img + 512, 1024, 36), load_be32(img + 512 + 36));
	*vsize = vpc_virtual_sectors(&f) * 512;
	struct vpc_chs g;
	uint64_t want_size;
	assert_int_equal(chs_rounded_size(len, false, &want_size, &g), 0);
	assert_int_equal(*vsize, want_size);
	assert_true(size <= output_cap("vpc", *vsize));

	read_back(img, zeroed ? size : end + 512, "vpc", in, len, *vsize);
	uint32_t blocks = (uint32_t)used;
	memdevs_free(&m);
	return blocks;
}

static void writer_round_trips(void **state)
{
	(void)state;
	uint64_t vsize;
	/* dense, unaligned length: every block allocated */
	uint8_t *in = pattern_input(5 * MiB + 777, NULL, 0);
	assert_int_equal(dd_vpc(in, 5 * MiB + 777, true, &vsize), 3);
	assert_int_equal(vsize, 5257216);
	free(in);
	/* a whole zero block in the middle and a zero tail block stay out */
	static const uint64_t z[][2] = { { 2 * MiB, 4 * MiB }, { 6 * MiB, 8 * MiB } };
	in = pattern_input(8 * MiB, z, 2);
	assert_int_equal(dd_vpc(in, 8 * MiB, true, &vsize), 2);
	free(in);
	/* zeros inside a block (holes in the file) read back as zeros */
	static const uint64_t z2[][2] = { { 4096, 1 * MiB + 5 } };
	in = pattern_input(3 * MiB, z2, 1);
	assert_int_equal(dd_vpc(in, 3 * MiB, true, &vsize), 2);
	free(in);
	/* all zeros: nothing allocated; tiny: one sector */
	in = pattern_input(4 * MiB, (const uint64_t[][2]){ { 0, 4 * MiB } }, 1);
	assert_int_equal(dd_vpc(in, 4 * MiB, true, &vsize), 0);
	free(in);
	in = pattern_input(1, NULL, 0);
	assert_int_equal(dd_vpc(in, 1, true, &vsize), 1);
	assert_int_equal(vsize, 34816);
	free(in);
}

static void writer_on_a_device_not_zeroed(void **state)
{
	(void)state;
	uint64_t vsize;
	static const uint64_t z[][2] = { { 100, 70000 }, { 2 * MiB, 4 * MiB + 3 } };
	uint8_t *in = pattern_input(5 * MiB, z, 2);
	assert_int_equal(dd_vpc(in, 5 * MiB, false, &vsize), 2);
	free(in);
}

static void bat_beyond_one_page(void **state)
{
	(void)state;
	/* 9 GiB virtual: 4608 BAT entries, more than one 4096-entry page and
	 * window; data in the last block and in block 4100 */
	const uint64_t len = 9 * GiB;
	struct vpc_chs g;
	uint64_t vsize;
	assert_int_equal(chs_rounded_size(len, false, &vsize, &g), 0);
	uint64_t entries = (vsize + 2 * MiB - 1) / (2 * MiB);
	uint64_t bat_len = (entries * 4 + 511) & ~511ull;
	uint64_t data0 = 1536 + bat_len, size = data0 + 2 * (512 + 2 * MiB) + 512;
	uint8_t *img = calloc(1, size);
	make_footer(img, "qemu", g.cyls, g.heads, g.secs, vsize);
	memcpy(img + 512, "cxsparse", 8);
	store_be64(img + 512 + 16, 1536);
	store_be32(img + 512 + 28, (uint32_t)entries);
	store_be32(img + 512 + 32, 2 * MiB);
	memset(img + 1536, 0xff, bat_len);
	store_be32(img + 1536 + 4 * 4100, (uint32_t)(data0 / 512));
	store_be32(img + 1536 + 4 * (entries - 1), (uint32_t)((data0 + 512 + 2 * MiB) / 512));
	memset(img + data0 + 512, 0x41, 2 * MiB);
	memset(img + data0 + (512 + 2 * MiB) + 512, 0x42, 2 * MiB);
	memcpy(img + size - 512, img, 512);

	struct memdevs m;
	memdevs_init(&m);
	uint32_t dev = memdevs_add_input(&m, img, size);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image im;
	if (image_open(&ctx, dev, "vpc", "big.vhd", &im) != 0)
		fail_msg("%s", ctx.err);
	assert_int_equal(im.size, vsize);
	struct extent ext;
	struct image *owner;
	/* blocks 0..4099 unallocated: one zero run per map call of up to
	 * 4096 blocks */
	assert_int_equal(image_map(&im, 0, 4100 * 2 * MiB, &ext, &owner), 4096 * 2 * MiB);
	assert_int_equal(ext.kind, EXT_ZERO);
	assert_int_equal(image_map(&im, 4100 * 2 * MiB + 7, 10 * MiB, &ext, &owner),
			 2 * MiB - 7);
	assert_int_equal(ext.kind, EXT_RAW);
	assert_int_equal(ext.dev_off, data0 + 512 + 7);
	uint64_t last = (entries - 1) * 2 * MiB;
	assert_int_equal(image_map(&im, last, vsize - last, &ext, &owner), vsize - last);
	assert_int_equal(ext.kind, EXT_RAW);
	uint8_t *buf = core_alloc(&ctx, 4096, 16);
	assert_int_equal(image_read(&im, last + 100, buf, 16), 0);
	assert_int_equal(buf[0], 0x42);
	core_free(&ctx, buf);
	image_close(&im);
	assert_int_equal(m.mem_used, 0);
	memdevs_free(&m);
	free(img);
}

static void host_cap_and_bound(void **state)
{
	(void)state;
	static const uint64_t sizes[] = { 0, 512, 34816, 2 * MiB, 2 * MiB + 512, 5 * GiB,
					  VPC_MAX_SECTORS * 512 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = sizes[i], blocks = (v + 2 * MiB - 1) / (2 * MiB);
		uint64_t file = 1536 + ((blocks * 4 + 511) & ~511ull) +
				blocks * (512 + 2 * MiB) + 512;
		assert_true(file <= output_cap("vpc", v));
	}
	/* the host lets the sandbox declare the rounded size, no more */
	assert_int_equal(output_virtual_max("vpc", 1048576), 1079296);
	assert_int_equal(output_virtual_max("raw", 1048576), 1048576);
	assert_int_equal(output_virtual_max("vpc", UINT64_MAX), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chs_table_from_qemu),
		cmocka_unit_test(chs_limits),
		cmocka_unit_test(virtual_size_by_creator),
		cmocka_unit_test(layout_checks_in_qemu_words),
		cmocka_unit_test(parent_names),
		cmocka_unit_test(writer_round_trips),
		cmocka_unit_test(writer_on_a_device_not_zeroed),
		cmocka_unit_test(bat_beyond_one_page),
		cmocka_unit_test(host_cap_and_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
