/*
 * qcow2 writer: data clusters and L1/L2 tables as dd moves forward.  dd
 * calls write() and zero() at strictly increasing offsets in pieces of any
 * size; the cluster being filled is kept in sandbox memory until dd moves
 * past it, and then either dropped (all zeros: left unallocated, reads as
 * zeros) or appended to the file.  The layout is described in
 * qcow2_writer_priv.h; refcounts and the header come last
 * (qcow2_writer_meta.c).
 */
#include "qcow2_writer_priv.h"
#include "../io.h"

#include "../overflow.h"

/* Reads 8 bytes at a time: the guest's memcmp goes byte by byte. */
typedef uint64_t __attribute__((may_alias, aligned(8))) qw_word;

/* len without its trailing zeros, rounded up to a sector. */
static uint64_t trimmed_len(const uint8_t *p, uint64_t len)
{
	uint64_t n = len;
	while (n >= 8 && (uintptr_t)(p + n) % 8 == 0 &&
	       *(const qw_word *)(const void *)(p + n - 8) == 0)
		n -= 8;
	while (n > 0 && p[n - 1] == 0)
		n--;
	n = (n + 511) & ~(uint64_t)511;
	return n < len ? n : len;
}

/* Everything is written once, in place, and the file's final size is set
 * last: on a fresh (zeroed) file, trailing zeros can stay holes. */
int qw_pwrite(struct image_writer *w, uint64_t off, const void *buf,
	      uint64_t len)
{
	if (w->zeroed)
		len = trimmed_len(buf, len);
	return io_write(w->ctx, w->dev, off, buf, len);
}

int qw_cluster_off(uint64_t c, uint64_t *off)
{
	/* The host takes offsets up to INT64_MAX. */
	if (MUL_OVERFLOW(c, (uint64_t)QW_CLUSTER_SIZE, off) || *off > (uint64_t)INT64_MAX)
		return -CD_EFBIG;
	return 0;
}

static bool cluster_is_zero(const uint8_t *p)
{
	const qw_word *q = (const qw_word *)(const void *)p;
	for (size_t i = 0; i < QW_CLUSTER_SIZE / 8; i += 8) {
		uint64_t acc = q[i] | q[i + 1] | q[i + 2] | q[i + 3] |
			       q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static int alloc_host(struct qw_state *s, uint64_t *c)
{
	uint64_t off;
	int ret = qw_cluster_off(s->next_host, &off);
	if (ret < 0)
		return ret;
	*c = s->next_host++;
	return 0;
}

static int flush_batch(struct image_writer *w, struct qw_state *s)
{
	if (s->batch_n == 0)
		return 0;
	uint64_t off;
	int ret = qw_cluster_off(s->batch_host, &off);
	if (ret == 0)
		ret = qw_pwrite(w, off, s->batch,
				(uint64_t)s->batch_n * QW_CLUSTER_SIZE);
	s->batch_n = 0;
	return ret;
}

/* Writes the L1 window out (when it holds entries, or when the device is
 * not known to be zeros) and moves the window on to win. */
static int l1_advance(struct image_writer *w, struct qw_state *s, uint64_t win)
{
	while (s->l1_win < win) {
		if (s->l1_dirty || !w->zeroed) {
			uint64_t off;
			int ret = qw_cluster_off(1 + s->l1_win, &off);
			if (ret == 0)
				ret = qw_pwrite(w, off, s->l1buf, QW_CLUSTER_SIZE);
			if (ret < 0)
				return ret;
			memset(s->l1buf, 0, QW_CLUSTER_SIZE);
			s->l1_dirty = false;
		}
		s->l1_win++;
	}
	return 0;
}

static int set_l1(struct image_writer *w, struct qw_state *s, uint64_t index,
		  uint64_t entry)
{
	int ret = l1_advance(w, s, index / QW_ENTRIES_PER_CLUSTER);
	if (ret < 0)
		return ret;
	store_be64(s->l1buf + (index % QW_ENTRIES_PER_CLUSTER) * 8, entry);
	s->l1_dirty = true;
	return 0;
}

/* dd has moved past the range of the active L2 table: append it after the
 * data it maps and point the L1 entry at it. */
static int finish_l2(struct image_writer *w, struct qw_state *s)
{
	if (!s->l2_active)
		return 0;
	s->l2_active = false;
	uint64_t c, off;
	int ret = flush_batch(w, s);
	if (ret == 0)
		ret = alloc_host(s, &c);
	if (ret == 0)
		ret = qw_cluster_off(c, &off);
	if (ret == 0)
		ret = qw_pwrite(w, off, s->l2, QW_CLUSTER_SIZE);
	if (ret == 0)
		ret = set_l1(w, s, s->l2_index, off | QW_OFLAG_COPIED);
	return ret;
}

static uint8_t *slot(struct qw_state *s)
{
	return s->batch + (size_t)s->batch_n * QW_CLUSTER_SIZE;
}

/* The slot is complete (or dd moved past it): drop it if all zeros and
 * the output may be sparse, else give it the next host cluster and an L2
 * entry. */
static int commit_slot(struct image_writer *w, struct qw_state *s)
{
	if (!s->slot_active)
		return 0;
	s->slot_active = false;
	if (w->sparse && cluster_is_zero(slot(s)))
		return 0;
	if (!s->l2_active) {
		memset(s->l2, 0, QW_CLUSTER_SIZE);
		s->l2_active = true;
		s->l2_index = s->slot_vc / QW_ENTRIES_PER_CLUSTER;
	}
	uint64_t c, off;
	int ret = alloc_host(s, &c);
	if (ret == 0)
		ret = qw_cluster_off(c, &off);
	if (ret < 0)
		return ret;
	if (s->batch_n == 0)
		s->batch_host = c;
	s->batch_n++;
	store_be64(s->l2 + (s->slot_vc % QW_ENTRIES_PER_CLUSTER) * 8,
		off | QW_OFLAG_COPIED);
	return s->batch_n == QW_BATCH_CLUSTERS ? flush_batch(w, s) : 0;
}

/* Starts filling virtual cluster vc.  An L2 table for an earlier range is
 * complete now: writes never go back.  The slot is cleared unless the
 * caller is about to fill all of it. */
static int start_slot(struct image_writer *w, struct qw_state *s, uint64_t vc,
		      bool clear)
{
	if (s->l2_active && vc / QW_ENTRIES_PER_CLUSTER != s->l2_index) {
		int ret = finish_l2(w, s);
		if (ret < 0)
			return ret;
	}
	if (clear)
		memset(slot(s), 0, QW_CLUSTER_SIZE);
	s->slot_active = true;
	s->slot_vc = vc;
	return 0;
}

/* Holds dd to its contract: in the image, at or after the last call. */
static int check_range(struct image_writer *w, const struct qw_state *s,
		       uint64_t off, uint64_t len, uint64_t *end)
{
	if (!s || off < s->pos || ADD_OVERFLOW(off, len, end) || *end > w->size)
		return -CD_EINVAL;
	return 0;
}

static void qw_release(struct image_writer *w)
{
	struct qw_state *s = w->priv;
	if (!s)
		return;
	core_free(w->ctx, s->batch);
	core_free(w->ctx, s->l2);
	core_free(w->ctx, s->l1buf);
	core_free(w->ctx, s);
	w->priv = NULL;
}

/* A failed call frees the writer at once; abort() after it is harmless. */
static int release_on_error(struct image_writer *w, int ret)
{
	if (ret < 0)
		qw_release(w);
	return ret;
}

static int do_write(struct image_writer *w, struct qw_state *s, uint64_t off,
		    const uint8_t *p, uint64_t len)
{
	while (len > 0) {
		uint64_t vc = off / QW_CLUSTER_SIZE, in = off % QW_CLUSTER_SIZE;
		uint64_t n = QW_CLUSTER_SIZE - in < len ? QW_CLUSTER_SIZE - in : len;
		int ret = 0;
		if (s->slot_active && s->slot_vc != vc)
			ret = commit_slot(w, s);
		if (ret == 0 && !s->slot_active)
			ret = start_slot(w, s, vc, n != QW_CLUSTER_SIZE);
		if (ret < 0)
			return ret;
		memcpy(slot(s) + in, p, (size_t)n);
		if (in + n == QW_CLUSTER_SIZE && (ret = commit_slot(w, s)) < 0)
			return ret;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int qw_write(struct image_writer *w, uint64_t off, const void *buf,
		    uint64_t len)
{
	struct qw_state *s = w->priv;
	uint64_t end;
	int ret = check_range(w, s, off, len, &end);
	if (ret == 0)
		ret = do_write(w, s, off, buf, len);
	if (ret == 0)
		s->pos = end;
	return release_on_error(w, ret);
}

/* Unallocated clusters read as zeros, and the slot was zeroed when it was
 * started, so a zero run only has to close the slot when it covers the
 * slot's end. */
static int qw_zero(struct image_writer *w, uint64_t off, uint64_t len)
{
	struct qw_state *s = w->priv;
	uint64_t end;
	int ret = check_range(w, s, off, len, &end);
	if (ret == 0 && s->slot_active && end / QW_CLUSTER_SIZE != s->slot_vc)
		ret = commit_slot(w, s);
	if (ret == 0)
		s->pos = end;
	return release_on_error(w, ret);
}

static int qw_finish(struct image_writer *w)
{
	struct qw_state *s = w->priv;
	if (!s)
		return -CD_EINVAL;
	int ret = commit_slot(w, s);
	if (ret == 0)
		ret = finish_l2(w, s);
	if (ret == 0)
		ret = flush_batch(w, s);
	if (ret == 0)
		ret = l1_advance(w, s, s->l1_clusters);
	if (ret == 0)
		ret = qw_write_metadata(w, s);
	qw_release(w);
	return ret;
}

/* L1 entries for the virtual size; -EFBIG past qemu's limit. */
static int l1_geometry(uint64_t size, struct qw_state *s)
{
	s->l1_size = size / QW_L2_SPAN + (size % QW_L2_SPAN != 0);
	if (s->l1_size > QW_MAX_L1_ENTRIES)
		return -CD_EFBIG;
	s->l1_clusters = (s->l1_size + QW_ENTRIES_PER_CLUSTER - 1) /
			 QW_ENTRIES_PER_CLUSTER;
	s->next_host = 1 + s->l1_clusters; /* after the header and the L1 */
	return 0;
}

static int qw_alloc_buffers(struct image_writer *w, struct qw_state *s)
{
	/* The slot follows batch_n < QW_BATCH_CLUSTERS committed clusters. */
	s->batch = core_alloc(w->ctx, QW_BATCH_BYTES, 4096);
	s->l2 = core_alloc(w->ctx, QW_CLUSTER_SIZE, 4096);
	s->l1buf = core_alloc(w->ctx, QW_CLUSTER_SIZE, 4096);
	if (!s->batch || !s->l2 || !s->l1buf)
		return -CD_ENOMEM;
	memset(s->l1buf, 0, QW_CLUSTER_SIZE);
	return 0;
}

static int qw_create(struct image_writer *w, const struct writer_opts *o)
{
	int ret = writer_check_opts(w, "qcow2", o, 0);
	if (ret < 0)
		return ret;
	/* Zero runs the copy engine can leave out: a sector's worth. */
	w->zero_unit = 512;
	struct qw_state *s = core_alloc(w->ctx, sizeof(*s), 8);
	if (!s)
		return -CD_ENOMEM;
	*s = (struct qw_state){ 0 };
	w->priv = s;
	ret = l1_geometry(w->size, s);
	if (ret == 0)
		ret = qw_alloc_buffers(w, s);
	uint64_t initial;
	if (ret == 0)
		ret = qw_cluster_off(s->next_host, &initial);
	if (ret == 0)
		ret = writer_create_output(w);
	if (ret == 0) {
		/* Creates the output now, so errors come in qemu-img's order. */
		const struct hostcalls *hc = w->ctx->env->hc;
		int64_t r = hc->truncate(hc->ctx, w->dev, initial);
		ret = r < 0 ? (int)r : 0;
	}
	return release_on_error(w, ret);
}

const struct writer_ops qcow2_writer_ops = {
	.create = qw_create,
	.abort = qw_release,
	.write = qw_write,
	/* No host-side copy: data must pass through the writer so that zero
	 * clusters are found; dd then reads through its bounce buffer. */
	.copy = NULL,
	.zero = qw_zero,
	.finish = qw_finish,
};
