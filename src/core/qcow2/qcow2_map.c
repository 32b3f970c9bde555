/*
 * Virtual offset -> run: one L1 entry, one L2 entry (and, with extended L2
 * entries, the subcluster bitmaps), then runs merged while they stay of
 * one kind and, for data, contiguous in the file, so that dd needs few
 * hostcalls.  Nothing here recurses or follows a pointer twice: a table
 * that points into itself or into data cannot make it loop.
 */
#include "qcow2.h"

static enum extent_kind ext_kind(const struct image *img, enum qcow2_kind k)
{
	switch (k) {
	case QCOW2_UNALLOCATED:
		return img->backing ? EXT_BACKING : EXT_ZERO;
	case QCOW2_ZERO:
		return EXT_ZERO;
	case QCOW2_DATA:
		return EXT_RAW;
	case QCOW2_COMPRESSED:
		break;
	}
	return EXT_OTHER;
}

/* qemu's check for normal and preallocated-zero clusters. */
static int check_aligned(struct image *img, uint64_t host, uint64_t l2_off,
			 uint64_t l2_index)
{
	const struct qcow2 *q = img->priv;
	if ((host & (q->cluster_size - 1)) == 0)
		return 0;
	return qcow2_corrupt(img, "Cluster allocation offset %#llx unaligned "
			     "(L2 offset: %#llx, L2 index: %#llx)",
			     (unsigned long long)host, (unsigned long long)l2_off,
			     (unsigned long long)l2_index);
}

/* A run inside one cluster with extended L2 entries: consecutive
 * subclusters of the same state (zero, allocated, or neither). */
static int subcluster_run(struct image *img, uint64_t entry, uint64_t bitmap,
			  uint64_t in_cluster, struct qcow2_run *run)
{
	const struct qcow2 *q = img->priv;
	uint32_t sc_bits = q->cluster_bits - 5; /* 32 subclusters */
	uint32_t alloc = (uint32_t)bitmap, zero = (uint32_t)(bitmap >> 32);
	uint32_t sc = (uint32_t)(in_cluster >> sc_bits);
	uint32_t state = ((zero >> sc) & 1) << 1 | ((alloc >> sc) & 1);
	uint32_t end = sc + 1;
	while (end < QCOW2_SUBCLUSTERS &&
	       (((zero >> end) & 1) << 1 | ((alloc >> end) & 1)) == state)
		end++;
	run->len = ((uint64_t)end << sc_bits) - in_cluster;
	if (state & 2)
		run->kind = QCOW2_ZERO;
	else if (state & 1) {
		run->kind = QCOW2_DATA;
		run->host_off = (entry & QCOW2_L2E_OFFSET_MASK) + in_cluster;
	} else
		run->kind = QCOW2_UNALLOCATED;
	return 0;
}

static int classify_extended(struct image *img, uint64_t entry, uint64_t bitmap,
			     uint64_t l2_off, uint64_t l2_index,
			     uint64_t in_cluster, struct qcow2_run *run)
{
	uint64_t host = entry & QCOW2_L2E_OFFSET_MASK;
	uint32_t alloc = (uint32_t)bitmap, zero = (uint32_t)(bitmap >> 32);
	if ((alloc & zero) || (host == 0 && alloc))
		return qcow2_corrupt(img, "Invalid cluster entry found (L2 offset: "
				     "%#llx, L2 index: %#llx)",
				     (unsigned long long)l2_off,
				     (unsigned long long)l2_index);
	if (host) {
		int ret = check_aligned(img, host, l2_off, l2_index);
		if (ret < 0)
			return ret;
	}
	return subcluster_run(img, entry, bitmap, in_cluster, run);
}

static int classify(struct image *img, uint64_t entry, uint64_t bitmap,
		    uint64_t l2_off, uint64_t l2_index, uint64_t in_cluster,
		    struct qcow2_run *run)
{
	const struct qcow2 *q = img->priv;
	run->len = q->cluster_size - in_cluster;
	if (entry & QCOW2_L2E_COMPRESSED) {
		run->kind = QCOW2_COMPRESSED;
		run->entry = entry;
		return 0;
	}
	if (entry & QCOW2_L2E_RESERVED_MASK)
		return qcow2_corrupt(img, "L2 table at 0x%llx: entry %llu has "
				     "reserved bits set (0x%llx)",
				     (unsigned long long)l2_off,
				     (unsigned long long)l2_index,
				     (unsigned long long)entry);
	if (q->h.extended_l2)
		return classify_extended(img, entry, bitmap, l2_off, l2_index,
					 in_cluster, run);
	uint64_t host = entry & QCOW2_L2E_OFFSET_MASK;
	if (entry & QCOW2_L2E_ZERO) {
		if (q->h.version < 3)
			return qcow2_corrupt(img, "Zero cluster entry found in "
					     "pre-v3 image (L2 offset: %#llx, L2 "
					     "index: %#llx)",
					     (unsigned long long)l2_off,
					     (unsigned long long)l2_index);
		run->kind = QCOW2_ZERO;
		return host ? check_aligned(img, host, l2_off, l2_index) : 0;
	}
	if (host == 0) {
		run->kind = QCOW2_UNALLOCATED;
		return 0;
	}
	run->kind = QCOW2_DATA;
	run->host_off = host + in_cluster;
	return check_aligned(img, host, l2_off, l2_index);
}

/* Data the file does not hold reads as zeros, as in qemu. */
static void clip_to_file(const struct qcow2 *q, struct qcow2_run *run)
{
	if (run->kind != QCOW2_DATA)
		return;
	if (run->host_off >= q->file_size)
		run->kind = QCOW2_ZERO;
	else if (run->len > q->file_size - run->host_off)
		run->len = q->file_size - run->host_off;
}

int qcow2_lookup(struct image *img, uint64_t off, struct qcow2_run *run)
{
	const struct qcow2 *q = img->priv;
	uint32_t span_bits = q->cluster_bits + q->l2_bits;
	uint64_t l1_index = off >> span_bits;
	if (l1_index >= q->h.l1_needed)
		return -CD_EIO; /* off >= size: a caller broke its contract */
	uint64_t l2_off = q->l1[l1_index] & QCOW2_L1E_OFFSET_MASK;
	if (l2_off == 0) {
		run->kind = QCOW2_UNALLOCATED;
		run->len = ((l1_index + 1) << span_bits) - off;
		return 0;
	}
	const uint8_t *table;
	int ret = qcow2_cache_get(img, l2_off, &table);
	if (ret < 0)
		return ret;
	uint64_t l2_index = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
	const uint8_t *p = table + l2_index * q->entry_bytes;
	uint64_t bitmap = q->h.extended_l2 ? load_be64(p + 8) : 0;
	ret = classify(img, load_be64(p), bitmap, l2_off, l2_index,
		       off & (q->cluster_size - 1), run);
	if (ret == 0)
		clip_to_file(q, run);
	return ret;
}

int64_t qcow2_map(struct image *img, uint64_t off, uint64_t len,
		  struct extent *ext)
{
	if (off >= img->size)
		return -CD_EINVAL;
	if (len > img->size - off)
		len = img->size - off;
	struct qcow2_run run;
	uint64_t done = 0;
	while (done < len) {
		int ret = qcow2_lookup(img, off + done, &run);
		if (ret < 0)
			return ret;
		enum extent_kind kind = ext_kind(img, run.kind);
		if (done == 0) {
			ext->kind = kind;
			ext->dev = img->dev;
			ext->dev_off = run.host_off;
		} else if (kind != ext->kind ||
			   (kind == EXT_RAW && run.host_off != ext->dev_off + done)) {
			break;
		}
		done += run.len < len - done ? run.len : len - done;
	}
	if (ext->kind != EXT_RAW)
		ext->dev_off = 0;
	return (int64_t)done;
}
