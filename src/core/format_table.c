/*
 * Every driver name qemu-img 7.2 (Debian's qemu-utils) knows, what it is to
 * qemu, and what cordon does with it: one table, so that -f, -O and probing
 * agree.  The formats come first, in qemu's driver-list order, which is the
 * order that breaks probe ties (a vdi signature beats a qcow2 magic, qed
 * and parallels beat vdi, dmg beats cloop); then protocols and filters,
 * which are never probed.  A format cordon cannot read yet has its probe
 * and no ops: such an image is refused, never read as raw.
 *
 * Drivers Debian ships in qemu-block-extra (curl's ftp/ftps/http/https,
 * gluster, iscsi/iser, nfs, rbd, ssh) are not in qemu-utils: qemu-img
 * without that package calls them unknown, and so does cordon.
 */
#include "format.h"

#define FMT(n, creates, probe_fn, ops_ptr) \
	{ .name = n, .kind = QEMU_FORMAT, .qemu_creates = creates, .probe = probe_fn, \
	  .ops = ops_ptr }
/* A driver qemu refuses a plain file name with, in these words. */
#define NO(n, kind_, why, ...) \
	{ .name = n, .kind = kind_, .plain = PLAIN_REFUSED, .qemu_error = why, __VA_ARGS__ }

static const struct format_info table[] = {
	FMT("parallels", true, probe_parallels, NULL),
	FMT("qed", true, probe_qed, NULL),
	FMT("dmg", false, probe_dmg, NULL),
	FMT("bochs", false, probe_bochs, NULL),
	FMT("cloop", false, probe_cloop, NULL),
	FMT("vdi", true, probe_vdi, NULL),
	FMT("qcow", true, probe_qcow1, NULL),
	FMT("vpc", true, probe_vpc, &format_vpc),
	FMT("vmdk", true, probe_vmdk, &format_vmdk),
	FMT("vhdx", true, probe_vhdx, &format_vhdx),
	FMT("raw", true, probe_raw, &format_raw),
	FMT("qcow2", true, qcow2_probe, &format_qcow2),
	FMT("luks", true, probe_luks, NULL),

	/* Protocols: how qemu reaches bytes. */
	{ .name = "file", .kind = QEMU_PROTOCOL, .qemu_creates = true, .ops = &format_raw,
	  .plain = PLAIN_REGULAR },
	{ .name = "host_device", .kind = QEMU_PROTOCOL, .ops = &format_raw,
	  .plain = PLAIN_DEVICE, .create_by_opening = true },
	{ .name = "host_cdrom", .kind = QEMU_PROTOCOL, .plain = PLAIN_DEVICE_NOT,
	  .create_by_opening = true },
	NO("nbd", QEMU_PROTOCOL, "File name string for NBD must start with 'nbd:'",
	   .prefix = "nbd:", .create_by_opening = true),
	NO("nvme", QEMU_PROTOCOL, "'device' option is required", .prefix = "nvme:",
	   .create_by_opening = true),
	NO("null-aio", QEMU_PROTOCOL,
	   "The only allowed filename for this driver is 'null-aio://'",
	   .prefix = "null-aio:"),
	NO("null-co", QEMU_PROTOCOL, "The only allowed filename for this driver is 'null-co://'",
	   .prefix = "null-co:"),
	NO("vvfat", QEMU_PROTOCOL, "File name string must start with 'fat:'", .prefix = "fat:"),

	/* Filters: drivers over another node. */
	{ .name = "blkdebug", .kind = QEMU_FILTER, .plain = PLAIN_PASS, .prefix = "blkdebug:" },
	NO("blklogwrites", QEMU_FILTER, "A block device must be specified for \"log\""),
	NO("blkverify", QEMU_FILTER, "A block device must be specified for \"raw\"",
	   .prefix = "blkverify:"),
	NO("compress", QEMU_FILTER, "Compression is not supported for underlying format: file"),
	NO("copy-before-write", QEMU_FILTER, "Parameter 'target' is missing"),
	NO("copy-on-read", QEMU_FILTER, "Block node is read-only"),
	{ .name = "preallocate", .kind = QEMU_FILTER, .plain = PLAIN_PASS },
	NO("quorum", QEMU_FILTER, "Number of provided children must be 1 or more"),
	NO("replication", QEMU_FILTER, "Missing the option mode"),
	{ .name = "snapshot-access", .kind = QEMU_FILTER, .plain = PLAIN_NO_READS },
	NO("throttle", QEMU_FILTER, "Please specify a throttle group"),
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

const struct format_info *format_info(const char *name)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const struct format_info *format_probe(const uint8_t *head, size_t len,
				       const char *filename)
{
	const struct format_info *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < TABLE_LEN; i++) {
		if (!table[i].probe)
			continue;
		int score = table[i].probe(head, len, filename);
		if (score > best_score) {
			best_score = score;
			best = &table[i];
		}
	}
	return best ? best : format_info("raw");
}
