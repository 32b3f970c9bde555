/*
 * A sliding read window over an image file, for the tables qemu reads whole
 * at open (the snapshot table, the bitmap directory): cordon walks them
 * through one fixed buffer instead, so a table of tens of MiB costs a few
 * hundred KiB of guest memory.  Past end of file the window reads zeros,
 * as qemu's reads do.
 */
#include "qcow2.h"

#include "../io.h"

int qcow2_window_init(struct qcow2_window *w, struct image *img, size_t cap)
{
	*w = (struct qcow2_window){ .img = img, .cap = cap };
	w->buf = core_alloc(img->ctx, cap, 64);
	return w->buf ? 0 : -CD_ENOMEM;
}

void qcow2_window_free(struct qcow2_window *w)
{
	core_free(w->img->ctx, w->buf);
	w->buf = NULL;
}

int qcow2_window_at(struct qcow2_window *w, uint64_t off, size_t len, const uint8_t **p)
{
	if (len > w->cap || off > QCOW2_BDRV_MAX_LENGTH - len)
		return -CD_EIO;
	if (w->len < len || off < w->off || off - w->off > w->len - len) {
		int ret = io_read(w->img->ctx, w->img->dev, off, w->buf, w->cap);
		if (ret < 0)
			return ret;
		w->off = off;
		w->len = w->cap;
	}
	*p = w->buf + (off - w->off);
	return 0;
}
