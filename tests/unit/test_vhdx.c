/*
 * VHDX decoders (src/core/vhdx/vhdx_header.c, vhdx_crc32c.c): CRC-32C,
 * qemu's choice of header, region overlaps in qemu's order, the region and
 * metadata tables' checks, and the BAT geometry with qemu's uint32_t
 * arithmetic; the writer through dd, read back by cordon's reader (dense,
 * zero blocks, a device that does not start as zeros, an empty disk) and
 * within the host's cap.  Whole images (open, log replay, reads) are
 * compared with qemu-img in tests/integration/test_dd_vhdx.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/core/endian.h"
#include "../../src/core/vhdx/vhdx.h"
#include "../../src/host/output_cap.h"
#include "memdev.h"
#include "test_writer_round_trip.h"
#include "test_job.h"

#define MiB (1ull << 20)

static void crc32c_known_values(void **state)
{
	(void)state;
	/* the check value of CRC-32C (RFC 3720, appendix B.4) */
	assert_int_equal(vhdx_crc32c(0, (const uint8_t *)"123456789", 9, SIZE_MAX), 0xe3069283);
	uint8_t zeros[32] = { 0 };
	assert_int_equal(vhdx_crc32c(0, zeros, 32, SIZE_MAX), 0x8a9136aa);
	/* chaining is the CRC of the concatenation */
	uint32_t c = vhdx_crc32c(0, (const uint8_t *)"1234", 4, SIZE_MAX);
	assert_int_equal(vhdx_crc32c(c, (const uint8_t *)"56789", 5, SIZE_MAX), 0xe3069283);
	/* the checksum field counts as zero */
	uint8_t a[8] = { 1, 2, 3, 4, 9, 9, 9, 9 }, b[8] = { 1, 2, 3, 4, 0, 0, 0, 0 };
	assert_int_equal(vhdx_crc32c(0, a, 8, 4), vhdx_crc32c(0, b, 8, SIZE_MAX));
}

static void make_header(uint8_t *buf, uint64_t seq, uint16_t version)
{
	memset(buf, 0, VHDX_HEADER_LEN);
	store_le32(buf, 0x64616568);
	store_le64(buf + 8, seq);
	store_le16(buf + 66, version);
	store_le32(buf + 68, 1u << 20);
	store_le64(buf + 72, 1u << 20);
	store_le32(buf + 4, vhdx_crc32c(0, buf, VHDX_HEADER_LEN, 4));
}

static void header_choice(void **state)
{
	(void)state;
	uint8_t *buf = malloc(VHDX_HEADER_LEN);
	struct vhdx_header h1, h2, bad;
	make_header(buf, 7, 1);
	vhdx_header_decode(buf, &h1);
	make_header(buf, 8, 1);
	vhdx_header_decode(buf, &h2);
	assert_true(h1.valid && h2.valid);
	assert_int_equal(h1.log_offset, 1u << 20);
	assert_int_equal(vhdx_pick_header(&h1, &h2), 1); /* the higher sequence */
	assert_int_equal(vhdx_pick_header(&h2, &h1), 0);
	buf[100] ^= 1; /* a CRC that no longer matches */
	vhdx_header_decode(buf, &bad);
	assert_false(bad.valid);
	assert_int_equal(vhdx_pick_header(&h1, &bad), 0);
	assert_int_equal(vhdx_pick_header(&bad, &h1), 1);
	assert_int_equal(vhdx_pick_header(&bad, &bad), -1);
	make_header(buf, 7, 2); /* version 2 is not one qemu reads */
	vhdx_header_decode(buf, &bad);
	assert_false(bad.valid);
	/* equal sequence numbers: only identical copies (Disk2VHD) pass */
	make_header(buf, 7, 1);
	vhdx_header_decode(buf, &h2);
	assert_int_equal(vhdx_pick_header(&h1, &h2), 0);
	buf[40] = 1;
	store_le32(buf + 4, vhdx_crc32c(0, buf, VHDX_HEADER_LEN, 4));
	vhdx_header_decode(buf, &h2);
	assert_true(h2.valid);
	assert_int_equal(vhdx_pick_header(&h1, &h2), -1);
	free(buf);
}

static const uint8_t bat_guid[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
				      0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
static const uint8_t meta_guid[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
				       0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };

static void region_entry(uint8_t *t, uint32_t i, const uint8_t *guid, uint64_t off,
			 uint32_t len, uint32_t bits)
{
	uint8_t *e = t + 16 + 32 * i;
	memcpy(e, guid, 16);
	store_le64(e + 16, off);
	store_le32(e + 24, len);
	store_le32(e + 28, bits);
}

static int region_table(uint8_t *t, uint32_t count, struct vhdx_region_result *out,
			struct vhdx_regions *rs)
{
	store_le32(t, 0x69676572);
	store_le32(t + 8, count);
	store_le32(t + 4, vhdx_crc32c(0, t, VHDX_HEADER_BLOCK, 4));
	*rs = (struct vhdx_regions){ 0 };
	vhdx_region_add(rs, 1 * MiB, 1 * MiB); /* the log */
	return vhdx_region_table_decode(t, rs, out);
}

static void region_table_checks(void **state)
{
	(void)state;
	uint8_t *t = calloc(1, VHDX_HEADER_BLOCK);
	struct vhdx_region_result r;
	struct vhdx_regions *rs = malloc(sizeof(*rs));
	region_entry(t, 0, bat_guid, 2 * MiB, 1 * MiB, 1);
	region_entry(t, 1, meta_guid, 3 * MiB, 1 * MiB, 1);
	assert_int_equal(region_table(t, 2, &r, rs), 0);
	assert_int_equal(r.bat.offset, 2 * MiB);
	assert_int_equal(r.metadata.length, 1 * MiB);
	/* the newest overlapping region is the one named */
	region_entry(t, 2, (const uint8_t *)"unknown region..", 3 * MiB + 5, 10, 0);
	assert_int_equal(region_table(t, 3, &r, rs), -CD_EINVAL);
	assert_int_equal(r.overlap_at, 2);
	assert_int_equal(rs->r[r.overlap_at].start, 3 * MiB);
	/* an unknown optional region is skipped, a required one refused */
	region_entry(t, 2, (const uint8_t *)"unknown region..", 9 * MiB, 10, 0);
	assert_int_equal(region_table(t, 3, &r, rs), 0);
	region_entry(t, 2, (const uint8_t *)"unknown region..", 9 * MiB, 10, 1);
	assert_int_equal(region_table(t, 3, &r, rs), -CD_ENOTSUP);
	/* the BAT twice, no metadata, more than 2047 entries */
	region_entry(t, 1, bat_guid, 5 * MiB, 1 * MiB, 1);
	assert_int_equal(region_table(t, 2, &r, rs), -CD_EINVAL);
	assert_int_equal(region_table(t, 1, &r, rs), -CD_EINVAL);
	assert_int_equal(region_table(t, 2048, &r, rs), -CD_EINVAL);
	/* a region wrapping past 2^64 is compared by its wrapped end, as in
	 * qemu: it starts after every other one, so nothing overlaps (reading
	 * there fails later) */
	region_entry(t, 1, meta_guid, UINT64_MAX - 100, 1000, 1);
	assert_int_equal(region_table(t, 2, &r, rs), 0);
	assert_int_equal(rs->r[2].end, 899);
	/* a bad CRC */
	region_entry(t, 1, meta_guid, 3 * MiB, 1 * MiB, 1);
	store_le32(t + 8, 2);
	store_le32(t + 4, vhdx_crc32c(0, t, VHDX_HEADER_BLOCK, 4) ^ 1);
	*rs = (struct vhdx_regions){ 0 };
	assert_int_equal(vhdx_region_table_decode(t, rs, &r), -CD_EINVAL);
	free(rs);
	free(t);
}

static const uint8_t item_guids[6][16] = {
	{ 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b },
	{ 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 },
	{ 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 },
	{ 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f },
	{ 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 },
	{ 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c },
};

static int metadata(uint8_t *t, const int *items, int n)
{
	memset(t, 0, VHDX_METADATA_TABLE_LEN);
	memcpy(t, "metadata", 8);
	store_le16(t + 10, (uint16_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = t + 32 + 32 * i;
		if (items[i] >= 0)
			memcpy(e, item_guids[items[i]], 16);
		else
			memcpy(e, "some other item.", 16);
		store_le32(e + 16, 65536 + 8 * (uint32_t)i);
		store_le32(e + 20, 8);
		store_le32(e + 24, items[i] == -2 ? 4 : 0);
	}
	struct vhdx_metadata m;
	int ret = vhdx_metadata_decode(t, &m);
	if (ret == 0)
		assert_int_equal(m.virtual_size.offset, 65536 + 8);
	return ret;
}

static void metadata_checks(void **state)
{
	(void)state;
	uint8_t *t = malloc(VHDX_METADATA_TABLE_LEN);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 4 }, 5), 0);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 4, -1 }, 6), 0);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 4, -2 }, 6), -CD_ENOTSUP);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3 }, 4), -CD_ENOTSUP);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 3 }, 5), -CD_EINVAL);
	/* a parent locator: a differencing image, which qemu does not open;
	 * the caller decides (with the HasParent flag) */
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 4, 5 }, 6), 0);
	assert_int_equal(metadata(t, (const int[]){ 0, 1, 2, 3, 5 }, 5), -CD_ENOTSUP);
	memcpy(t, "metadatX", 8);
	struct vhdx_metadata m;
	assert_int_equal(vhdx_metadata_decode(t, &m), -CD_EINVAL);
	memcpy(t, "metadata", 8);
	/* 2047 entries fit (unknown, optional ones: then the five are
	 * missing); 2048 do not */
	memset(t + 32, 0, VHDX_METADATA_TABLE_LEN - 32);
	store_le16(t + 10, 2047);
	assert_int_equal(vhdx_metadata_decode(t, &m), -CD_ENOTSUP);
	store_le16(t + 10, 2048);
	assert_int_equal(vhdx_metadata_decode(t, &m), -CD_EINVAL);
	free(t);
}

/* A parent locator of n (key, value) pairs, UTF-16LE; its length. */
static size_t make_locator(uint8_t *b, const char *const (*kv)[2], size_t n)
{
	static const uint8_t type[16] = { 0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a,
					  0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13 };
	memcpy(b, type, 16);
	store_le16(b + 16, 0);
	store_le16(b + 18, (uint16_t)n);
	size_t at = 20 + 12 * n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = b + 20 + 12 * i;
		for (int kvi = 0; kvi < 2; kvi++) {
			size_t len = strlen(kv[i][kvi]);
			store_le32(e + 4 * kvi, (uint32_t)at);
			store_le16(e + 8 + 2 * kvi, (uint16_t)(2 * len));
			for (size_t c = 0; c < len; c++) {
				b[at++] = (uint8_t)kv[i][kvi][c];
				b[at++] = 0;
			}
		}
	}
	return at;
}

static void parent_locators(void **state)
{
	(void)state;
	uint8_t *b = malloc(4096);
	struct vhdx_parent par;
	const char *why = NULL;
	static const char *const full[][2] = {
		{ "parent_linkage", "{01234567-89ab-cdef-0123-456789abcdef}" },
		{ "absolute_win32_path", "C:\\vms\\base.vhdx" },
		{ "volume_path", "\\\\?\\Volume{x}\\base.vhdx" },
		{ "relative_path", ".\\dir\\base.vhdx" },
		{ "parent_linkage2", "{76543210-89ab-cdef-0123-456789abcdef}" },
	};
	size_t len = make_locator(b, full, 5);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), 0);
	/* relative first, separators made '/' */
	assert_string_equal(par.name, "./dir/base.vhdx");
	assert_int_equal(par.name_len, strlen("./dir/base.vhdx"));
	assert_string_equal(par.linkage, "{01234567-89ab-cdef-0123-456789abcdef}");
	assert_string_equal(par.linkage2, "{76543210-89ab-cdef-0123-456789abcdef}");
	/* then the absolute path; a volume path alone cannot be followed */
	len = make_locator(b, full, 3);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), 0);
	assert_string_equal(par.name, "C:/vms/base.vhdx");
	static const char *const vol[][2] = { { "parent_linkage", "{x}" },
					      { "volume_path", "\\\\?\\Volume{x}\\b" } };
	len = make_locator(b, vol, 2);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "it names its parent by volume only");
	/* no linkage; no path; entries past the end; another type */
	len = make_locator(b, full + 1, 1);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "it has no parent_linkage");
	len = make_locator(b, full, 1);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "it names no parent path");
	len = make_locator(b, full, 2);
	assert_int_equal(vhdx_parent_locator_decode(b, len - 2, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "an entry lies outside the locator");
	store_le16(b + 18, 400); /* more entries than fit */
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	b[0] ^= 1;
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "not a VHDX parent locator");
	assert_int_equal(vhdx_parent_locator_decode(b, 19, &par, &why), -CD_EINVAL);
	/* a lone surrogate in the path: refused, never passed on */
	len = make_locator(b, full, 4);
	uint32_t voff = load_le32(b + 20 + 12 * 3 + 4);
	store_le16(b + voff, 0xd800);
	assert_int_equal(vhdx_parent_locator_decode(b, len, &par, &why), -CD_EINVAL);
	assert_string_equal(why, "its parent path is not valid UTF-16");
	/* the GUID text a linkage is compared with */
	static const uint8_t g[16] = { 0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd,
				       0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	char text[39];
	vhdx_guid_text(g, text);
	assert_string_equal(text, "{01234567-89AB-CDEF-0123-456789ABCDEF}");
	free(b);
}

static void geometry(void **state)
{
	(void)state;
	struct vhdx_geometry g;
	assert_int_equal(vhdx_geometry(8 * MiB, 512, 10 * MiB, &g), 0);
	assert_int_equal(g.chunk_ratio, 512);
	assert_int_equal(g.bat_entries, 2);
	assert_int_equal(vhdx_geometry(1 * MiB, 512, 5000 * MiB, &g), 0);
	assert_int_equal(g.chunk_ratio, 4096);
	assert_int_equal(g.bat_entries, 5000 + 1); /* one sector bitmap entry */
	/* an empty disk: qemu's uint32_t wrap asks for 2^32 >> 9 entries */
	assert_int_equal(vhdx_geometry(8 * MiB, 512, 0, &g), 0);
	assert_int_equal(g.bat_entries, 0xffffffffu >> 9);
	assert_int_equal(vhdx_geometry(512 * 1024, 512, MiB, &g), -CD_EINVAL);
	assert_int_equal(vhdx_geometry(512 * MiB, 512, MiB, &g), -CD_EINVAL);
	assert_int_equal(vhdx_geometry(3 * MiB, 512, MiB, &g), -CD_EINVAL);
	/* 4 KiB logical sectors (qemu refuses them): 8x the chunk ratio */
	assert_int_equal(vhdx_geometry(8 * MiB, 4096, 10 * MiB, &g), 0);
	assert_int_equal(g.chunk_ratio, 4096);
	assert_int_equal(g.bat_entries, 2);
	assert_int_equal(vhdx_geometry(1 * MiB, 4096, 40000 * MiB, &g), 0);
	assert_int_equal(g.chunk_ratio, 32768);
	assert_int_equal(g.bat_entries, 40000 + 1); /* (40000 - 1) >> 15 */
	assert_int_equal(vhdx_geometry(8 * MiB, 1024, MiB, &g), -CD_ENOTSUP);
	/* the virtual size is not checked; its sectors round down */
	assert_int_equal(vhdx_geometry(8 * MiB, 512, 1000, &g), 0);
	assert_int_equal(g.sectors, 1);
}

/* dd -O vhdx over `in`, then the output read back; the number of blocks
 * the BAT marks fully present. */
static uint32_t dd_vhdx(const uint8_t *in, uint64_t len, bool zeroed)
{
	struct memdevs m;
	dd_into(&m, "vhdx", in, len, zeroed ? 0 : 80 * MiB);
	const uint8_t *img = m.dev[TEST_OUT].data;
	uint64_t size = m.dev[TEST_OUT].size, vsize = (len + 511) & ~511ull;
	struct vhdx_create_layout l;
	assert_int_equal(vhdx_create_layout(vsize, &l), 0);
	if (zeroed)
		assert_true(size <= output_cap("vhdx", vsize));
	uint32_t present = 0;
	for (uint32_t i = 0; i < l.g.bat_entries; i++) {
		uint64_t e = load_le64(img + l.bat_off + 8 * i);
		present += (e & 7) == VHDX_PAYLOAD_FULLY_PRESENT;
		assert_true((e & 7) == 0 || (e & 7) == 2 || (e & 7) == 6);
	}
	read_back(img, size, "vhdx", in, len, vsize);
	memdevs_free(&m);
	return present;
}

static void writer_round_trips(void **state)
{
	(void)state;
	/* 20 MiB + 777: three 8 MiB blocks; the middle one all zeros */
	uint64_t len = 20 * MiB + 777;
	/* and zeros inside a block: holes */
	static const uint64_t z[][2] = { { 8 * MiB, 16 * MiB }, { 100, 70100 } };
	uint8_t *in = pattern_input(len, z, 2);
	assert_int_equal(dd_vhdx(in, len, true), 2);
	assert_int_equal(dd_vhdx(in, len, false), 2);
	memset(in, 0, len);
	assert_int_equal(dd_vhdx(in, len, true), 0);
	free(in);
	/* one byte; then an empty disk, which qemu reads too */
	uint8_t one = 7;
	assert_int_equal(dd_vhdx(&one, 1, true), 1);
	assert_int_equal(dd_vhdx(&one, 0, true), 0);
}

static void create_layout_as_qemu(void **state)
{
	(void)state;
	struct vhdx_create_layout l;
	assert_int_equal(vhdx_default_block_size(1ull << 30), 8 * MiB);
	assert_int_equal(vhdx_default_block_size((1ull << 30) + 1), 16 * MiB);
	assert_int_equal(vhdx_default_block_size(100ull << 30), 16 * MiB);
	assert_int_equal(vhdx_default_block_size((100ull << 30) + 1), 32 * MiB);
	assert_int_equal(vhdx_default_block_size(32ull << 40), 32 * MiB);
	assert_int_equal(vhdx_default_block_size((32ull << 40) + 1), 64 * MiB);
	/* 20 MiB: BAT at 2 MiB (1 MiB), metadata at 3 MiB, data at 8 MiB */
	assert_int_equal(vhdx_create_layout(20 * MiB, &l), 0);
	assert_int_equal(l.bat_off, 2 * MiB);
	assert_int_equal(l.bat_len, 1 * MiB);
	assert_int_equal(l.meta_off, 3 * MiB);
	assert_int_equal(l.data_start, 8 * MiB);
	/* empty: qemu's wrapped entry count needs a 64 MiB BAT region */
	assert_int_equal(vhdx_create_layout(0, &l), 0);
	assert_int_equal(l.bat_len, 64 * MiB);
	assert_int_equal(vhdx_create_layout(64ull << 40, &l), 0);
	assert_int_equal(vhdx_create_layout((64ull << 40) + 512, &l), -CD_EINVAL);
	assert_true(output_cap("vhdx", 20 * MiB) >= 8 * MiB + 3 * 8 * MiB);
	assert_int_equal(output_cap("vhdx", (64ull << 40) + 512), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_values),
		cmocka_unit_test(header_choice),
		cmocka_unit_test(region_table_checks),
		cmocka_unit_test(metadata_checks),
		cmocka_unit_test(geometry),
		cmocka_unit_test(parent_locators),
		cmocka_unit_test(create_layout_as_qemu),
		cmocka_unit_test(writer_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
