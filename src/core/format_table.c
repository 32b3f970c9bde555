/*
 * Every driver name qemu-img 7.2 (Debian's qemu-utils) knows, what it is to
 * qemu, and what cordon does with it: one table, so that -f, -O and probing
 * agree.  The formats come first, in qemu's driver-list order, which is the
 * order that breaks probe ties (a vdi signature beats a qcow2 magic, qed
 * and parallels beat vdi, dmg beats cloop); then protocols and filters,
 * which are never probed.  A format cordon cannot read yet has its probe
 * and no ops: such an image is refused, never read as raw.
 */
#include "format.h"

#define FMT(n, creates, probe_fn, ops_ptr) \
	{ .name = n, .kind = QEMU_FORMAT, .qemu_creates = creates, .probe = probe_fn, \
	  .ops = ops_ptr }
#define PROTOCOL(n) { .name = n, .kind = QEMU_PROTOCOL }
#define FILTER(n) { .name = n, .kind = QEMU_FILTER }

static const struct format_info table[] = {
	FMT("parallels", true, probe_parallels, NULL),
	FMT("qed", true, probe_qed, NULL),
	FMT("dmg", false, probe_dmg, NULL),
	FMT("bochs", false, probe_bochs, NULL),
	FMT("cloop", false, probe_cloop, NULL),
	FMT("vdi", true, probe_vdi, NULL),
	FMT("qcow", true, probe_qcow1, NULL),
	FMT("vpc", true, probe_vpc, NULL),
	FMT("vmdk", true, probe_vmdk, NULL),
	FMT("vhdx", true, probe_vhdx, NULL),
	FMT("raw", true, probe_raw, &format_raw),
	FMT("qcow2", true, qcow2_probe, &format_qcow2),
	FMT("luks", true, probe_luks, NULL),
	PROTOCOL("file"), PROTOCOL("host_device"), PROTOCOL("host_cdrom"),
	PROTOCOL("ftp"), PROTOCOL("ftps"), PROTOCOL("http"), PROTOCOL("https"),
	PROTOCOL("gluster"), PROTOCOL("iscsi"), PROTOCOL("iser"), PROTOCOL("nbd"),
	PROTOCOL("nfs"), PROTOCOL("null-aio"), PROTOCOL("null-co"), PROTOCOL("nvme"),
	PROTOCOL("rbd"), PROTOCOL("ssh"), PROTOCOL("vvfat"),
	FILTER("blkdebug"), FILTER("blklogwrites"), FILTER("blkverify"),
	FILTER("compress"), FILTER("copy-before-write"), FILTER("copy-on-read"),
	FILTER("preallocate"), FILTER("quorum"), FILTER("replication"),
	FILTER("snapshot-access"), FILTER("throttle"),
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

const struct format_info *format_info(const char *name)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const struct format_ops *format_by_name(const char *name)
{
	const struct format_info *info = format_info(name);
	return info ? info->ops : NULL;
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
