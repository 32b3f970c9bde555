/* qcow2_header_decode(): every field, every refusal and bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../src/core/qcow2/qcow2.h"
#include "qcow2_build.h"

/* A valid v3 image, 64 KiB clusters, false, 1 MiB; *len is its file size. */
static uint8_t *valid(uint32_t version, size_t *len)
{
	struct qb b;
	qb_init(&b, version, 16, 1 << 20, false);
	uint8_t data[65536];
	memset(data, 0x5a, sizeof(data));
	qb_data(&b, 0, data, 0);
	qb_finish(&b);
	*len = b.len;
	return b.buf;
}

static int decode(const uint8_t *img, size_t len, struct qcow2_header *h,
		  char *why)
{
	/* The decoder is given one cluster (64 KiB here) and the file size. */
	return qcow2_header_decode(img, 65536, len, false, h, why, QCOW2_WHY_LEN);
}

static void decodes_v3_and_v2(void **state)
{
	(void)state;
	for (uint32_t v = 2; v <= 3; v++) {
		size_t len;
		uint8_t *img = valid(v, &len);
		struct qcow2_header h;
		char why[QCOW2_WHY_LEN];
		assert_int_equal(decode(img, len, &h, why), 0);
		assert_int_equal(h.version, v);
		assert_int_equal(h.cluster_bits, 16);
		assert_int_equal(h.size, 1 << 20);
		assert_int_equal(h.l1_needed, 1);
		assert_int_equal(h.refcount_order, 4);
		assert_int_equal(h.header_length, v == 3 ? 112 : 72);
		assert_int_equal(h.backing_len, 0);
		free(img);
	}
}

static void reads_backing_name_and_format(void **state)
{
	(void)state;
	struct qb b;
	qb_init(&b, 3, 16, 1 << 20, false);
	b.backing = "base.raw";
	b.backing_fmt = "raw";
	qb_finish(&b);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	assert_int_equal(decode(b.buf, b.len, &h, why), 0);
	assert_int_equal(h.backing_offset, 256);
	assert_int_equal(h.backing_len, 8);
	assert_string_equal(h.backing_fmt, "raw");
	free(b.buf);
}

struct refusal {
	const char *name;
	size_t off;     /* field to overwrite */
	int width;      /* 1, 4 or 8 bytes */
	uint64_t value;
	int err;
	const char *why;
};

static const struct refusal refusals[] = {
	{ "magic", 0, 4, 0x514649fa, -CD_EINVAL, "Image is not in qcow2 format" },
	{ "version 1", 4, 4, 1, -CD_ENOTSUP, "Unsupported qcow2 version 1" },
	{ "version 4", 4, 4, 4, -CD_ENOTSUP, "Unsupported qcow2 version 4" },
	{ "cluster bits 8", 20, 4, 8, -CD_EINVAL, "Unsupported cluster size: 2^8" },
	{ "cluster bits 22", 20, 4, 22, -CD_EINVAL, "Unsupported cluster size: 2^22" },
	{ "header short", 100, 4, 103, -CD_EINVAL, "qcow2 header too short" },
	{ "header long", 100, 4, 65537, -CD_EINVAL, "qcow2 header exceeds cluster size" },
	{ "backing offset", 8, 8, 65537, -CD_EINVAL, "Invalid backing file offset" },
	{ "compression type", 104, 1, 2, -CD_ENOTSUP, "qcow2: unknown compression type: 2" },
	{ "zstd without bit", 104, 1, 1, -CD_EINVAL,
	  "qcow2: Compression type incompatible feature bit must be set" },
	{ "zlib with bit", 72, 8, 8, -CD_EINVAL,
	  "qcow2: Compression type incompatible feature bit must not be set" },
	{ "unknown feature", 72, 8, 1ull << 40, -CD_ENOTSUP,
	  "Unsupported qcow2 feature(s): Unknown incompatible feature: 10000000000" },
	{ "corrupt bit", 72, 8, 2, -CD_EINVAL, "qcow2: Image is corrupt; cordon refuses "
	  "images marked corrupt (repair with 'qemu-img check -r all')" },
	{ "data file bit", 72, 8, 4, -CD_ENOTSUP, "cordon refuses external data files "
	  "(data_file): the image keeps its data in a file, another file it names" },
	{ "data file raw", 88, 8, 2, -CD_EINVAL, "data-file-raw requires a data file" },
	{ "refcount order 7", 96, 4, 7, -CD_EINVAL,
	  "Reference count entry width too large; may not exceed 64 bits" },
	{ "AES", 32, 4, 1, -CD_EINVAL, "Parameter 'encrypt.key-secret' is required for cipher" },
	{ "LUKS without header", 32, 4, 2, -CD_EINVAL,
	  "Missing CRYPTO header for crypt method 2" },
	{ "crypt method 3", 32, 4, 3, -CD_EINVAL, "Unsupported encryption method 3" },
	{ "crypt method ~0", 32, 4, 0xffffffff, -CD_EINVAL, "Unsupported encryption method -1" },
	{ "no refcount table", 56, 4, 0, -CD_EINVAL,
	  "Image does not contain a reference count table" },
	{ "refcount table large", 56, 4, 129, -CD_EFBIG, "Reference count table too large" },
	{ "refcount table unaligned", 48, 8, 65536 + 8, -CD_EINVAL,
	  "Reference count table offset invalid" },
	{ "refcount table overflow", 48, 8, 0x7fffffffffff0000ull, -CD_EINVAL,
	  "Reference count table offset invalid" },
	{ "snapshots many", 60, 4, 65537, -CD_EFBIG, "Snapshot table too large" },
	{ "snapshots unaligned", 64, 8, 100, -CD_EINVAL, "Snapshot table offset invalid" },
	{ "L1 huge", 36, 4, (32u << 20) / 8 + 1, -CD_EFBIG, "Active L1 table too large" },
	{ "L1 unaligned", 40, 8, 0x20008, -CD_EINVAL, "Active L1 table offset invalid" },
	{ "L1 too small", 24, 8, 1ull << 40, -CD_EINVAL, "L1 table is too small" },
	{ "size 2^62", 24, 8, 1ull << 62, -CD_EFBIG, "Image is too big" },
	{ "size over INT64_MAX", 24, 8, 1ull << 63, -CD_EFBIG, "Image is too big" },
	{ "L1 past EOF", 40, 8, 0x100000, -CD_EINVAL, "qcow2: Image is corrupt: L1 table "
	  "at 0x100000 (1 entries) extends past end of file" },
	{ "backing name long", 16, 4, 1024, -CD_EINVAL, "Backing file name too long" },
};

static void put_field(uint8_t *img, const struct refusal *r)
{
	if (r->width == 1)
		img[r->off] = (uint8_t)r->value;
	else if (r->width == 4)
		qb_put32(img + r->off, (uint32_t)r->value);
	else
		qb_put64(img + r->off, r->value);
}

static void every_refusal(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		size_t len;
		uint8_t *img = valid(3, &len);
		if (strcmp(r->name, "backing name long") == 0)
			qb_put64(img + 8, 256);
		put_field(img, r);
		struct qcow2_header h;
		char why[QCOW2_WHY_LEN];
		int ret = decode(img, len, &h, why);
		if (ret != r->err || strcmp(why, r->why) != 0)
			fail_msg("%s: %d '%s'", r->name, ret, why);
		free(img);
	}
}

static void named_unknown_features(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	qb_put64(img + 72, (1ull << 40) | (1ull << 41));
	/* A feature table naming bit 40 only. */
	qb_put32(img + 112, QCOW2_EXT_FEATURE_TABLE);
	qb_put32(img + 116, 48);
	img[120] = 0;
	img[121] = 40;
	memcpy(img + 122, "shiny", 5);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	assert_int_equal(decode(img, len, &h, why), -CD_ENOTSUP);
	assert_string_equal(why, "Unsupported qcow2 feature(s): shiny, Unknown "
			    "incompatible feature: 20000000000");
	free(img);
}

static void extensions_are_bounded(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	/* Length past the end of the cluster. */
	qb_put32(img + 112, QCOW2_EXT_BACKING_FORMAT);
	qb_put32(img + 116, 0xffffffff);
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "Header extension too large");
	/* A backing format too long for qemu. */
	qb_put32(img + 116, 16);
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "ERROR: ext_backing_format: len=16 too large (>=16)");
	/* An extension header straddling the end of the area. */
	qb_put32(img + 116, 0);
	qb_put64(img + 8, 116); /* backing name right after: area ends at 116 */
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "Header extension too large");
	/* Crypto header with no LUKS. */
	free(img);
	img = valid(3, &len);
	qb_put32(img + 112, QCOW2_EXT_CRYPTO_HEADER);
	qb_put32(img + 116, 16);
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "CRYPTO header extension only expected with LUKS "
			    "encryption method");
	qb_put32(img + 32, 2);
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "Parameter 'encrypt.key-secret' is required for cipher");
	free(img);
}

/* Within 2^(cluster_bits + l2_bits) of 2^64 qemu's L1 count wraps: the
 * header decodes, with the L1 entries of the wrapped count; qcow2_open
 * then fails as qemu's block layer does. */
static void size_that_wraps_qemus_l1_count(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	qb_put64(img + 24, ~0ull - 511);
	assert_int_equal(decode(img, len, &h, why), 0);
	assert_true(h.size_wraps);
	assert_int_equal(h.l1_needed, 0);
	qb_put64(img + 24, 0xffffffffe0000000ull); /* 64 KiB clusters: the last that does not */
	assert_int_equal(decode(img, len, &h, why), -CD_EFBIG);
	free(img);
}

/* Opened to be described (info, BDRV_O_NO_IO): marked corrupt and AES are
 * decoded, LUKS and an external data file still refused. */
static void described_images(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	qb_put64(img + 72, QCOW2_INCOMPAT_CORRUPT);
	qb_put32(img + 32, QCOW2_CRYPT_AES);
	assert_int_equal(qcow2_header_decode(img, 65536, len, true, &h, why, sizeof(why)), 0);
	assert_true(h.incompatible & QCOW2_INCOMPAT_CORRUPT);
	assert_int_equal(h.crypt_method, QCOW2_CRYPT_AES);
	assert_int_equal(decode(img, len, &h, why), -CD_EINVAL);
	assert_string_equal(why, "qcow2: Image is corrupt; cordon refuses images marked "
			    "corrupt (repair with 'qemu-img check -r all')");
	qb_put64(img + 72, QCOW2_INCOMPAT_DATA_FILE);
	assert_int_equal(qcow2_header_decode(img, 65536, len, true, &h, why, sizeof(why)),
			 -CD_ENOTSUP);
	qb_put64(img + 72, 0);
	qb_put32(img + 32, QCOW2_CRYPT_LUKS);
	qb_put32(img + 112, QCOW2_EXT_CRYPTO_HEADER);
	qb_put32(img + 116, 16);
	assert_int_equal(qcow2_header_decode(img, 65536, len, true, &h, why, sizeof(why)),
			 -CD_ENOTSUP);
	assert_string_equal(why, "cordon cannot describe LUKS encryption headers yet");
	free(img);
}

static void data_file_name_is_shown(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	qb_put64(img + 72, QCOW2_INCOMPAT_DATA_FILE);
	qb_put32(img + 112, QCOW2_EXT_DATA_FILE);
	qb_put32(img + 116, 8);
	memcpy(img + 120, "data.raw", 8);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	assert_int_equal(decode(img, len, &h, why), -CD_ENOTSUP);
	assert_string_equal(why, "cordon refuses external data files (data_file): the "
			    "image keeps its data in 'data.raw', another file it names");
	free(img);
}

/* qemu keeps the stored name as a C string: it ends at the first NUL,
 * which past end of file is the zero padding; empty means none. */
static void backing_name_ends_at_nul(void **state)
{
	(void)state;
	struct qb b;
	qb_init(&b, 3, 16, 0, false);
	b.backing = "base";
	qb_finish(&b);
	assert_true(b.len >= 65536); /* a whole first cluster for the decoder */
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	qb_put32(b.buf + 16, 9); /* the stored length counts a NUL */
	assert_int_equal(qcow2_header_decode(b.buf, 65536, b.len, false, &h, why, sizeof(why)), 0);
	assert_int_equal(h.backing_len, 4);
	/* File size 258: past it the name reads as zeros, as qemu reads it. */
	memset(b.buf + 258, 0, 2);
	assert_int_equal(qcow2_header_decode(b.buf, 65536, 258, false, &h, why, sizeof(why)), 0);
	assert_int_equal(h.backing_len, 2);
	b.buf[256] = '\0';
	assert_int_equal(qcow2_header_decode(b.buf, 65536, b.len, false, &h, why, sizeof(why)), 0);
	assert_int_equal(h.backing_len, 0);
	free(b.buf);
}

/* The bitmaps extension, as qemu checks it at open. */
static void bitmaps_extension_checks(void **state)
{
	(void)state;
	static const struct {
		size_t off;
		uint64_t value;
		int width;
		const char *why;
	} cases[] = {
		{ 116, 16, 4, "bitmaps_ext: Invalid extension length" },
		{ 124, 1, 4, "bitmaps_ext: Reserved field is not zero" },
		{ 120, 65536, 4, "bitmaps_ext: Image has 65536 bitmaps, exceeding the QEMU "
				 "supported maximum of 65535" },
		{ 120, 0, 4, "found bitmaps extension with zero bitmaps" },
		{ 136, 65536 + 8, 8, "bitmaps_ext: invalid bitmap directory offset" },
		{ 128, 1024 * 65535 + 1, 8, "bitmaps_ext: bitmap directory size (67107841) "
					    "exceeds the maximum supported size (67107840)" },
	};
	for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *img = valid(3, &len);
		qb_put64(img + 88, QCOW2_AUTOCLEAR_BITMAPS);
		qb_put32(img + 112, QCOW2_EXT_BITMAPS);
		qb_put32(img + 116, 24);
		qb_put32(img + 120, 1);           /* one bitmap */
		qb_put64(img + 128, 64);          /* directory size */
		qb_put64(img + 136, 65536 * 3);   /* directory offset */
		struct qcow2_header h;
		char why[QCOW2_WHY_LEN];
		if (i == sizeof(cases) / sizeof(cases[0])) {
			/* valid; and without the autoclear bit, only a warning */
			assert_int_equal(decode(img, len, &h, why), 0);
			assert_int_equal(h.bitmaps_warning, 0);
			qb_put64(img + 88, 0);
			assert_int_equal(decode(img, len, &h, why), 0);
			assert_int_equal(h.bitmaps_warning, 3);
			free(img);
			break;
		}
		if (cases[i].width == 4)
			qb_put32(img + cases[i].off, (uint32_t)cases[i].value);
		else
			qb_put64(img + cases[i].off, cases[i].value);
		if (decode(img, len, &h, why) != -CD_EINVAL || strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: '%s'", i, why);
		free(img);
	}
}

/* report_unsupported_feature(): the table read until an entry's name is
 * empty, a cut-off last entry padded with zeros, bits modulo 64; the last
 * table wins, and a pass that stops at a bad extension keeps what it found. */
static void feature_names_as_qemu_finds_them(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	qb_put64(img + 72, (1ull << 5) | (1ull << 6) | (1ull << 7));
	qb_put32(img + 112, QCOW2_EXT_FEATURE_TABLE);
	qb_put32(img + 116, 48 * 2 + 10);
	img[120] = 0, img[121] = 5, memcpy(img + 122, "five", 4);
	img[168] = 0, img[169] = 64 + 6, memcpy(img + 170, "six", 3);
	img[216] = 0, img[217] = 7, memcpy(img + 218, "sevenseven", 8); /* cut: 10 of 48 */
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	assert_int_equal(decode(img, len, &h, why), -CD_ENOTSUP);
	assert_string_equal(why, "Unsupported qcow2 feature(s): five, six, sevensev");
	/* An entry with an empty name ends the table. */
	img[170] = '\0';
	assert_int_equal(decode(img, len, &h, why), -CD_ENOTSUP);
	assert_string_equal(why, "Unsupported qcow2 feature(s): five, Unknown incompatible "
			    "feature: c0");
	/* A bad extension before the table: no names at all. */
	memmove(img + 128, img + 112, 160);
	qb_put32(img + 112, QCOW2_EXT_CRYPTO_HEADER); /* no LUKS: stops the pass */
	qb_put32(img + 116, 0);
	assert_int_equal(decode(img, len, &h, why), -CD_ENOTSUP);
	assert_string_equal(why, "Unsupported qcow2 feature(s): Unknown incompatible "
			    "feature: e0");
	free(img);
}

static void short_buffers_are_safe(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = valid(3, &len);
	struct qcow2_header h;
	char why[QCOW2_WHY_LEN];
	assert_int_equal(qcow2_header_decode(img, 100, len, false, &h, why, sizeof(why)),
			 -CD_EINVAL);
	assert_int_equal(qcow2_header_decode(img, 4096, len, false, &h, why, sizeof(why)),
			 -CD_EIO);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_v3_and_v2),
		cmocka_unit_test(reads_backing_name_and_format),
		cmocka_unit_test(every_refusal),
		cmocka_unit_test(named_unknown_features),
		cmocka_unit_test(extensions_are_bounded),
		cmocka_unit_test(size_that_wraps_qemus_l1_count),
		cmocka_unit_test(described_images),
		cmocka_unit_test(data_file_name_is_shown),
		cmocka_unit_test(backing_name_ends_at_nul),
		cmocka_unit_test(bitmaps_extension_checks),
		cmocka_unit_test(feature_names_as_qemu_finds_them),
		cmocka_unit_test(short_buffers_are_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
