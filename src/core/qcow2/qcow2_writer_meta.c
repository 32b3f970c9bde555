/*
 * qcow2 writer, last steps: the refcount table and blocks, then the header.
 * Every cluster of the file is in use exactly once (header, L1, L2 tables,
 * data, and the refcount structures themselves), so the refcounts are "1 for
 * clusters 0..total-1" and only their own size has to be solved for.
 */
#include "qcow2_writer_priv.h"

#include "../overflow.h"

#define QW_MAGIC 0x514649fbu /* "QFI\xfb" */
#define QW_VERSION 3u
#define QW_EXT_END 0u
#define QW_EXT_FEATURE_TABLE 0x6803f857u
#define QW_FEATURE_NAME_LEN 46u

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* The refcount blocks must count themselves and the table that lists them:
 * grow both until they cover everything (a few rounds at most: each block
 * covers 32768 clusters). */
int qw_solve_refs(uint64_t used, struct qw_refs *r)
{
	uint64_t blocks = 0, table = 0, total;
	for (;;) {
		if (ADD_OVERFLOW(used, blocks, &total) ||
		    ADD_OVERFLOW(total, table, &total))
			return -CD_EFBIG;
		uint64_t nb = div_up(total, QW_REFS_PER_BLOCK);
		uint64_t nt = div_up(nb, QW_ENTRIES_PER_CLUSTER);
		if (nb == blocks && nt == table)
			break;
		blocks = nb;
		table = nt;
	}
	uint64_t end_off;
	/* refcount_table_clusters is 32 bits in the header. */
	if (qw_cluster_off(total, &end_off) < 0 || table > UINT32_MAX)
		return -CD_EFBIG;
	*r = (struct qw_refs){ .total = total, .table_start = used,
			       .table_n = table, .blocks_n = blocks };
	return 0;
}

/* The refcount table: entry i points at block i, in chunks of one batch. */
static int write_ref_table(struct image_writer *w, struct qw_state *s,
			   const struct qw_refs *r)
{
	const uint64_t per_chunk = QW_BATCH_BYTES / 8;
	uint64_t entries = r->table_n * QW_ENTRIES_PER_CLUSTER, off;
	for (uint64_t first = 0; first < entries; first += per_chunk) {
		uint64_t n = entries - first < per_chunk ? entries - first : per_chunk;
		memset(s->batch, 0, (size_t)n * 8);
		for (uint64_t i = 0; i < n && first + i < r->blocks_n; i++) {
			uint64_t block = r->table_start + r->table_n + first + i;
			store_be64(s->batch + i * 8, block * QW_CLUSTER_SIZE);
		}
		int ret = qw_cluster_off(r->table_start, &off);
		if (ret == 0)
			ret = qw_pwrite(w, off + first * 8, s->batch, n * 8);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The refcount blocks: 1 for every cluster below total, 0 after. */
static int write_ref_blocks(struct image_writer *w, struct qw_state *s,
			    const struct qw_refs *r)
{
	const uint64_t per_chunk = QW_BATCH_BYTES / 2;
	uint64_t entries = r->blocks_n * QW_REFS_PER_BLOCK, off;
	for (uint64_t first = 0; first < entries; first += per_chunk) {
		uint64_t n = entries - first < per_chunk ? entries - first : per_chunk;
		for (uint64_t i = 0; i < n; i++)
			store_be16(s->batch + i * 2, first + i < r->total ? 1 : 0);
		int ret = qw_cluster_off(r->table_start + r->table_n, &off);
		if (ret == 0)
			ret = qw_pwrite(w, off + first * 2, s->batch, n * 2);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The feature name table qemu writes into every v3 header, so that tools
 * can name feature bits they do not know. */
static const struct {
	uint8_t type, bit;
	const char *name;
} qw_features[] = {
	{ 0, 0, "dirty bit" },
	{ 0, 1, "corrupt bit" },
	{ 0, 2, "external data file" },
	{ 0, 3, "compression type" },
	{ 0, 4, "extended L2 entries" },
	{ 1, 0, "lazy refcounts" },
	{ 2, 0, "bitmaps" },
	{ 2, 1, "raw external data" },
};

#define QW_N_FEATURES (sizeof(qw_features) / sizeof(qw_features[0]))

static void encode_extensions(uint8_t *p)
{
	store_be32(p, QW_EXT_FEATURE_TABLE);
	store_be32(p + 4, (uint32_t)(QW_N_FEATURES * 48));
	p += 8;
	for (size_t i = 0; i < QW_N_FEATURES; i++, p += 48) {
		p[0] = qw_features[i].type;
		p[1] = qw_features[i].bit;
		memcpy(p + 2, qw_features[i].name, strlen(qw_features[i].name));
	}
	store_be32(p, QW_EXT_END); /* and a zero length: already zeros */
}

/* The version 3 header qemu-img creates: no backing file, no encryption,
 * no snapshots, no feature bits, zlib compression type. */
static void encode_header(uint8_t *p, const struct image_writer *w,
			  const struct qw_state *s, const struct qw_refs *r)
{
	memset(p, 0, QW_CLUSTER_SIZE);
	store_be32(p + 0, QW_MAGIC);
	store_be32(p + 4, QW_VERSION);
	store_be32(p + 20, QW_CLUSTER_BITS);
	store_be64(p + 24, w->size);
	store_be32(p + 36, (uint32_t)s->l1_size);
	/* qemu leaves the offset 0 when there is no L1 table at all. */
	store_be64(p + 40, s->l1_size ? QW_CLUSTER_SIZE : 0);
	store_be64(p + 48, r->table_start * QW_CLUSTER_SIZE);
	store_be32(p + 56, (uint32_t)r->table_n);
	store_be32(p + 96, QW_REFCOUNT_ORDER);
	store_be32(p + 100, QW_HEADER_LEN);
	encode_extensions(p + QW_HEADER_LEN);
}

_Static_assert(QW_HEADER_LEN + 8 + QW_N_FEATURES * 48 + 8 <= QW_CLUSTER_SIZE,
	       "the header and its extensions fit in cluster 0");

int qw_write_metadata(struct image_writer *w, struct qw_state *s)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	struct qw_refs r;
	int ret = qw_solve_refs(s->next_host, &r);
	if (ret == 0)
		ret = write_ref_table(w, s, &r);
	if (ret == 0)
		ret = write_ref_blocks(w, s, &r);
	if (ret < 0)
		return ret;
	/* The header goes last: until it is written the file is no image. */
	encode_header(s->batch, w, s, &r);
	ret = qw_pwrite(w, 0, s->batch, QW_CLUSTER_SIZE);
	if (ret < 0)
		return ret;
	int64_t t = hc->truncate(hc->ctx, w->dev, r.total * QW_CLUSTER_SIZE);
	return t < 0 ? (int)t : 0;
}
