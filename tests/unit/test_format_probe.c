/*
 * The format table and qemu's probes (src/core/format_table.c, probe.c):
 * every name fits the job, each probe's edges as qemu 7.2 draws them, and
 * ties broken in qemu's driver order.  The integration tests hold the same
 * cases against qemu-img itself (test_dd_format_names.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/abi/job.h"
#include "../../src/core/format.h"

#define HEAD 512

static const char *probe_name(const uint8_t *h, const char *filename)
{
	return format_probe(h, HEAD, filename)->name;
}

static void put(uint8_t *h, size_t off, const void *v, size_t n)
{
	memcpy(h + off, v, n);
}

static void names_fit_the_job(void **state)
{
	(void)state;
	static const char *const names[] = {
		"raw", "qcow2", "vpc", "vhdx", "vmdk", "vdi", "qed", "parallels", "qcow",
		"luks", "bochs", "cloop", "dmg", "file", "host_device", "host_cdrom", "nbd",
		"nvme", "null-co", "null-aio", "vvfat", "blkdebug", "blklogwrites",
		"blkverify", "compress", "copy-before-write", "copy-on-read",
		"preallocate", "quorum", "replication", "snapshot-access", "throttle",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct format_info *info = format_info(names[i]);
		assert_non_null(info);
		assert_true(strlen(info->name) < CORDON_FMT_NAME_MAX);
		/* a driver qemu refuses a plain file with says why */
		assert_true(info->plain != PLAIN_REFUSED || info->qemu_error);
		assert_true((info->kind == QEMU_FORMAT) == (info->plain == PLAIN_FORMAT));
	}
	/* qemu-block-extra's drivers are not qemu-utils' */
	assert_null(format_info("ssh"));
	assert_null(format_info("http"));
	assert_null(format_info(""));
}

static void each_probe_at_its_edges(void **state)
{
	(void)state;
	uint8_t h[HEAD];
	memset(h, 0, sizeof(h));
	assert_string_equal(probe_name(h, "x"), "raw");

	put(h, 0, "conectix", 8);
	assert_string_equal(probe_name(h, "x"), "vpc");
	memset(h, 0, sizeof(h));
	put(h, 0, "vhdxfile", 8);
	assert_string_equal(probe_name(h, "x"), "vhdx");

	/* qcow2 is version 2 and above of the magic (qemu refuses 4 only
	 * when it opens it); version 1 is qcow */
	memset(h, 0, sizeof(h));
	put(h, 0, "QFI\xfb\0\0\0\3", 8);
	assert_string_equal(probe_name(h, "x"), "qcow2");
	put(h, 0, "QFI\xfb\0\0\0\1", 8);
	assert_string_equal(probe_name(h, "x"), "qcow");
	put(h, 0, "QFI\xfb\0\0\0\4", 8);
	assert_string_equal(probe_name(h, "x"), "qcow2");
	put(h, 0, "QFI\xfb\0\0\0\0", 8);
	assert_string_equal(probe_name(h, "x"), "raw");

	/* LUKS version 1 only */
	memset(h, 0, sizeof(h));
	put(h, 0, "LUKS\xba\xbe\0\1", 8);
	assert_string_equal(probe_name(h, "x"), "luks");
	put(h, 0, "LUKS\xba\xbe\0\2", 8);
	assert_string_equal(probe_name(h, "x"), "raw");

	/* parallels: either signature, version 2 */
	memset(h, 0, sizeof(h));
	put(h, 0, "WithoutFreeSpace\2", 17);
	assert_string_equal(probe_name(h, "x"), "parallels");
	put(h, 0, "WithouFreSpacExt\3", 17);
	assert_string_equal(probe_name(h, "x"), "raw");

	/* bochs: three C strings and a known version */
	memset(h, 0, sizeof(h));
	put(h, 0, "Bochs Virtual HD Image", 23);
	put(h, 32, "Redolog", 8);
	put(h, 48, "Growing", 8);
	put(h, 64, "\0\0\1\0", 4);
	assert_string_equal(probe_name(h, "x"), "bochs");
	put(h, 48, "Growing!", 8);
	assert_string_equal(probe_name(h, "x"), "raw");
}

static void vmdk_descriptors_as_qemu_reads_them(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool vmdk;
	} cases[] = {
		{ "version=1\n", true },
		{ "version=3\r\n", true },
		{ "# Disk DescriptorFile\nversion=1\n", true },
		{ "#\n   \r\n  \nversion=2\n", true },
		{ "version=4\n", false },
		{ "version=1", false },       /* no line end before the padding */
		{ "\tversion=1\n", false },    /* a tab is not a blank */
		{ "\nversion=1\n", false },    /* nor an empty line */
		{ "  \r\r\nversion=1\n", false }, /* one CR at most */
		{ "CID=1\nversion=1\n", false }, /* version must come first */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t h[HEAD];
		memset(h, 0, sizeof(h));
		put(h, 0, cases[i].text, strlen(cases[i].text));
		const char *got = probe_name(h, "x");
		if (strcmp(got, cases[i].vmdk ? "vmdk" : "raw") != 0)
			fail_msg("case %zu (%s): probed as %s", i, cases[i].text, got);
	}
	uint8_t h[HEAD] = { 'K', 'D', 'M', 'V' };
	assert_string_equal(probe_name(h, "x"), "vmdk");
	put(h, 0, "COWD", 4);
	assert_string_equal(probe_name(h, "x"), "vmdk");
}

/* Equal scores: the first in qemu's driver list wins. */
static void ties_go_to_qemus_driver_order(void **state)
{
	(void)state;
	uint8_t h[HEAD];
	memset(h, 0, sizeof(h));
	put(h, 0, "QFI\xfb\0\0\0\3", 8);
	put(h, 64, "\x7f\x10\xda\xbe", 4); /* the vdi signature */
	assert_string_equal(probe_name(h, "x"), "vdi");
	put(h, 0, "QED\0", 4);
	assert_string_equal(probe_name(h, "x"), "qed");

	/* cloop scores 2, as does a ".dmg" name, which comes first */
	static const char cloop[] = "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && "
				    "mount -r -t iso9660 /dev/cloop $1\n";
	memset(h, 0, sizeof(h));
	put(h, 0, cloop, sizeof(cloop) - 1);
	assert_string_equal(probe_name(h, "x"), "cloop");
	assert_string_equal(probe_name(h, "a.dmg"), "dmg");
	memset(h, 0, sizeof(h));
	assert_string_equal(probe_name(h, "a.dmg"), "dmg");
	assert_string_equal(probe_name(h, ".dmg"), "raw"); /* qemu wants more than it */
	assert_string_equal(probe_name(h, "a.DMG"), "raw");
	/* a qcow2 magic beats a .dmg name: 100 over 2 */
	put(h, 0, "QFI\xfb\0\0\0\2", 8);
	assert_string_equal(probe_name(h, "a.dmg"), "qcow2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_fit_the_job),
		cmocka_unit_test(each_probe_at_its_edges),
		cmocka_unit_test(vmdk_descriptors_as_qemu_reads_them),
		cmocka_unit_test(ties_go_to_qemus_driver_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
