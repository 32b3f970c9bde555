/*
 * The internal snapshot table, as far as opening an image goes: qemu reads
 * every entry at open (qcow2_read_snapshots) and refuses the image when an
 * entry carries more than 1 KiB of extra data or the table grows past
 * 64 MiB, with a hint under the error.  cordon reads no snapshot yet, but
 * must refuse what qemu refuses: it walks the entries' headers (40 bytes
 * each, 8-aligned) through a buffer and adds up their sizes.  Past end of
 * file, as for qemu, the table reads as zeros.
 */
#include "qcow2.h"

#include "../io.h"

#define SNAP_HEADER 40u
#define WALK_BUF (64u << 10)
/* qemu's BDRV_MAX_LENGTH: no read may reach past it (-EIO). */
#define BDRV_MAX_LENGTH ((uint64_t)INT64_MAX & ~((1ull << 30) - 1))

struct walk {
	struct image *img;
	uint8_t *buf;
	uint64_t buf_off, buf_len; /* the file bytes buf holds */
};

static int read_failed(struct walk *w, int err)
{
	return core_fail(w->img->ctx, err, "Failed to read snapshot table: %s",
			 cd_strerror(err));
}

/* The 40-byte header at off, from the buffer or a fresh read. */
static int header_at(struct walk *w, uint64_t off, const uint8_t **h)
{
	if (off > BDRV_MAX_LENGTH - SNAP_HEADER)
		return read_failed(w, -CD_EIO);
	if (w->buf_len < SNAP_HEADER || off < w->buf_off ||
	    off - w->buf_off > w->buf_len - SNAP_HEADER) {
		int ret = io_read(w->img->ctx, w->img->dev, off, w->buf, WALK_BUF);
		if (ret < 0)
			return read_failed(w, ret);
		w->buf_off = off;
		w->buf_len = WALK_BUF;
	}
	*h = w->buf + (off - w->buf_off);
	return 0;
}

int qcow2_check_snapshots(struct image *img, const struct qcow2_header *hd)
{
	uint32_t n = hd->nb_snapshots;
	if (n == 0)
		return 0;
	struct walk w = { .img = img, .buf = core_alloc(img->ctx, WALK_BUF, 64) };
	if (!w.buf)
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
		if (off + SNAP_HEADER + extra + names > BDRV_MAX_LENGTH) {
			ret = read_failed(&w, -CD_EIO);
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
	core_free(img->ctx, w.buf);
	return ret;
}
