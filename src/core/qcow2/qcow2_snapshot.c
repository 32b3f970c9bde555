/*
 * The internal snapshot table, as far as opening an image goes: qemu reads
 * every entry at open (qcow2_read_snapshots) and refuses the image when an
 * entry carries more than 1 KiB of extra data or the table grows past
 * 64 MiB, with a hint under the error.  cordon must refuse what qemu
 * refuses: it walks the entries (40-byte headers, extra data, id and name;
 * 8-aligned) through a buffer and adds up their sizes.  Past end of file,
 * as for qemu, the table reads as zeros.  info lists them, as qemu's
 * qcow2_snapshot_list() keeps them: id and name end at a NUL and are cut
 * to 127 and 255 bytes (QEMUSnapshotInfo's arrays).
 */
#include "qcow2.h"

#include "../io.h"
#include "../result.h"

#define SNAP_HEADER 40u
/* The largest entry: header, 1 KiB of extra data, two 64 KiB names. */
#define ENTRY_MAX (SNAP_HEADER + QCOW2_MAX_SNAPSHOT_EXTRA + 2u * 65535u)
#define WALK_BUF (ENTRY_MAX + (56u << 10))
#define ID_MAX 127u   /* qemu's id_str[128] */
#define NAME_MAX 255u /* qemu's name[256] */
static int read_failed(struct image *img, int err)
{
	return core_fail(img->ctx, err, "Failed to read snapshot table: %s",
			 cd_strerror(err));
}

/* len (<= ENTRY_MAX) bytes at off. */
static int bytes_at(struct qcow2_window *w, uint64_t off, uint64_t len, const uint8_t **p)
{
	int ret = qcow2_window_at(w, off, (size_t)len, p);
	return ret < 0 ? read_failed(w->img, ret) : 0;
}

static int header_at(struct qcow2_window *w, uint64_t off, const uint8_t **h)
{
	return bytes_at(w, off, SNAP_HEADER, h);
}

int qcow2_check_snapshots(struct image *img, const struct qcow2_header *hd)
{
	uint32_t n = hd->nb_snapshots;
	if (n == 0)
		return 0;
	struct qcow2_window w;
	if (qcow2_window_init(&w, img, WALK_BUF) < 0)
		return core_fail(img->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	/* Offsets stay below BDRV_MAX_LENGTH plus one entry (at most
	 * 40 + 1024 + 2 * 65535 + 7): no overflow. */
	uint64_t off = hd->snapshots_offset, table_length = 0;
	int ret = 0;
	for (uint32_t i = 0; i < n && ret == 0; i++) {
		table_length = (table_length + 7) & ~7ull;
		off = (off + 7) & ~7ull;
		const uint8_t *h = NULL;
		ret = header_at(&w, off, &h);
		if (ret < 0)
			break;
		uint32_t extra = load_be32(h + 36);
		uint32_t names = (uint32_t)load_be16(h + 12) + load_be16(h + 14);
		if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
			ret = core_fail_hint(img->ctx, -CD_EFBIG, "You can force-remove this "
					     "extra metadata with qemu-img check -r all",
					     "Too much extra metadata in snapshot table entry %u",
					     i);
			break;
		}
		/* The rest of the entry is read up to its end, zeros past EOF. */
		if (off + SNAP_HEADER + extra + names > QCOW2_BDRV_MAX_LENGTH) {
			ret = read_failed(img, -CD_EIO);
			break;
		}
		off += SNAP_HEADER + extra + names;
		table_length += SNAP_HEADER + extra + names;
		if (table_length > QCOW2_MAX_SNAPSHOTS_SIZE ||
		    off - hd->snapshots_offset > (uint64_t)INT32_MAX) {
			char hint[CORE_HINT_MAX];
			snprintf(hint, sizeof(hint), "You can force-remove all %u overhanging "
				 "snapshots with qemu-img check -r all", n - i);
			ret = core_fail_hint(img->ctx, -CD_EFBIG, hint, "Snapshot table is too big");
		}
	}
	qcow2_window_free(&w);
	return ret;
}

/* A C string qemu made of n bytes (it ends at a NUL), cut to max bytes. */
static void put_text(struct result_out *r, const char *key, const uint8_t *s, size_t n,
		     size_t max)
{
	size_t len = strnlen((const char *)s, n);
	result_string_n(r, key, (const char *)s, len < max ? len : max);
}

/* One entry (its header checked by qcow2_check_snapshots at open), in
 * SnapshotInfo's member order. */
static void list_entry(struct result_out *r, const uint8_t *e)
{
	uint32_t extra = load_be32(e + 36);
	uint16_t id_len = load_be16(e + 12), name_len = load_be16(e + 14);
	const uint8_t *x = e + SNAP_HEADER;
	uint64_t vm_state = extra >= 8 ? load_be64(x) : load_be32(e + 32);
	uint64_t icount = extra >= 24 ? load_be64(x + 16) : UINT64_MAX;
	uint64_t clock = load_be64(e + 24);
	result_begin_object(r, NULL);
	put_text(r, "id", x + extra, id_len, ID_MAX);
	put_text(r, "name", x + extra + id_len, name_len, NAME_MAX);
	result_int(r, "vm-state-size", (int64_t)vm_state);
	result_int(r, "date-sec", load_be32(e + 16));
	result_int(r, "date-nsec", load_be32(e + 20));
	result_int(r, "vm-clock-sec", (int64_t)(clock / 1000000000u));
	result_int(r, "vm-clock-nsec", (int64_t)(clock % 1000000000u));
	if (icount != UINT64_MAX)
		result_int(r, "icount", (int64_t)icount);
	result_end_object(r);
}

/* Every entry in order (open walked them: each is at most ENTRY_MAX bytes
 * and the offsets stay below BDRV_MAX_LENGTH), whole, to each() until it
 * returns non-zero: that value, 0 after the last, or -errno of a read
 * (nothing recorded). */
static int walk_entries(struct qcow2_window *w, int (*each)(void *opaque, const uint8_t *e),
			void *opaque)
{
	const struct qcow2 *q = w->img->priv;
	uint64_t off = q->h.snapshots_offset;
	int ret = 0;
	for (uint32_t i = 0; i < q->h.nb_snapshots && ret == 0; i++) {
		off = (off + 7) & ~7ull;
		const uint8_t *e = NULL;
		ret = qcow2_window_at(w, off, SNAP_HEADER, &e);
		if (ret < 0)
			break;
		uint64_t len = SNAP_HEADER + load_be32(e + 36) + load_be16(e + 12) +
			       load_be16(e + 14);
		if (len > ENTRY_MAX) /* changed since open */
			ret = -CD_EIO;
		else if ((ret = qcow2_window_at(w, off, (size_t)len, &e)) == 0)
			ret = each(opaque, e);
		off += len;
	}
	return ret;
}

static int list_one(void *opaque, const uint8_t *e)
{
	list_entry(opaque, e);
	return 0;
}

int qcow2_list_snapshots(struct image *img, struct result_out *r)
{
	const struct qcow2 *q = img->priv;
	if (q->h.nb_snapshots == 0)
		return 0;
	struct qcow2_window w;
	if (qcow2_window_init(&w, img, WALK_BUF) < 0)
		return core_fail(img->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	result_begin_array(r, "snapshots");
	int ret = walk_entries(&w, list_one, r);
	result_end_array(r);
	qcow2_window_free(&w);
	return ret < 0 ? read_failed(img, ret) : 0;
}

/* ---- -l: reading a snapshot instead of the active layer ------------------ */

/* A field of n bytes as qemu keeps it (a C string: up to its first NUL)
 * against s. */
static bool same_text(const uint8_t *field, size_t n, const char *s)
{
	size_t len = strnlen((const char *)field, n);
	return len == strlen(s) && memcmp(field, s, len) == 0;
}

struct wanted {
	const char *id, *name;
	uint64_t l1_offset;
	uint32_t l1_size;
};

/* qemu's find_snapshot_by_id_and_name(): 1 for the first entry that
 * matches what is asked (id, name, or both), its L1 table kept. */
static int match_one(void *opaque, const uint8_t *e)
{
	struct wanted *want = opaque;
	uint32_t extra = load_be32(e + 36);
	uint16_t id_len = load_be16(e + 12), name_len = load_be16(e + 14);
	const uint8_t *e_id = e + SNAP_HEADER + extra, *e_name = e_id + id_len;
	if ((want->id && !same_text(e_id, id_len, want->id)) ||
	    (want->name && !same_text(e_name, name_len, want->name)))
		return 0;
	want->l1_offset = load_be64(e);
	want->l1_size = load_be32(e + 8);
	return 1;
}

/* 1 found (its L1 table in *want), 0 not, or -errno with why said. */
static int find_snapshot(struct image *img, struct wanted *want, char *why, size_t why_len)
{
	struct qcow2_window w;
	if (qcow2_window_init(&w, img, WALK_BUF) < 0) {
		snprintf(why, why_len, "%s", cd_strerror(CD_ENOMEM));
		return -CD_ENOMEM;
	}
	int ret = walk_entries(&w, match_one, want);
	qcow2_window_free(&w);
	if (ret < 0)
		snprintf(why, why_len, "Failed to read snapshot table: %s", cd_strerror(ret));
	return ret;
}

int qcow2_load_snapshot(struct image *img, const char *id, const char *name, char *why,
			size_t why_len)
{
	struct qcow2 *q = img->priv;
	struct wanted want = { .id = id, .name = name };
	int ret = find_snapshot(img, &want, why, why_len);
	uint64_t l1_offset = want.l1_offset;
	uint32_t l1_size = want.l1_size;
	if (ret < 0)
		return ret;
	if (ret == 0) {
		snprintf(why, why_len, "Can't find snapshot");
		return -CD_ENOENT;
	}
	/* qcow2_validate_table(), as qemu checks the snapshot's L1 table. */
	uint64_t bytes = (uint64_t)l1_size * 8;
	if (l1_size > QCOW2_MAX_L1_BYTES / 8) {
		snprintf(why, why_len, "Snapshot L1 table too large");
		return -CD_EFBIG;
	}
	if ((uint64_t)INT64_MAX - bytes < l1_offset || l1_offset % q->cluster_size) {
		snprintf(why, why_len, "Snapshot L1 table offset invalid");
		return -CD_EINVAL;
	}
	if (l1_offset > QCOW2_BDRV_MAX_LENGTH - bytes) {
		snprintf(why, why_len, "Failed to read l1 table for snapshot");
		return -CD_EIO;
	}
	/* The virtual size stays (qemu does not change it): the entries it
	 * needs, zeros (unallocated) past the snapshot's table, whose own
	 * entries past the size are not read.  Past end of file the table
	 * reads as zeros, as qemu reads it. */
	uint64_t n = q->h.l1_needed, have = l1_size < n ? l1_size : n;
	uint64_t *l1 = core_alloc(img->ctx, (size_t)(n ? n : 1) * 8, 64);
	if (!l1) {
		snprintf(why, why_len, "%s", cd_strerror(CD_ENOMEM));
		return -CD_ENOMEM;
	}
	memset(l1, 0, (size_t)(n ? n : 1) * 8);
	ret = have ? io_read(img->ctx, img->dev, l1_offset, l1, have * 8) : 0;
	if (ret < 0) {
		snprintf(why, why_len, "Failed to read l1 table for snapshot");
		core_free(img->ctx, l1);
		return ret;
	}
	for (uint64_t i = 0; i < have && ret == 0; i++) {
		l1[i] = load_be64((const uint8_t *)&l1[i]);
		ret = qcow2_l1_entry_problem(q, l1_offset, i, l1[i], why, why_len);
	}
	if (ret < 0) {
		core_free(img->ctx, l1);
		return ret;
	}
	core_free(img->ctx, q->l1);
	q->l1 = l1;
	return 0;
}
