/*
 * A bounded cache of L2 tables, least recently used out.  A whole-image dd
 * walks the L1 table in order, so every table is read once; the cache only
 * has to be large enough that a backing chain's layers, or windows that go
 * back and forth, do not evict each other.  Tables are validated (aligned,
 * inside the file) when the L1 table is loaded, so a load is a full read.
 */
#include "qcow2.h"

int qcow2_cache_init(struct core_ctx *ctx, struct qcow2 *q)
{
	struct qcow2_cache *c = &q->cache;
	uint64_t by_bytes = QCOW2_CACHE_MAX_BYTES / q->cluster_size;
	memset(c, 0, sizeof(*c));
	c->n = by_bytes < QCOW2_CACHE_MAX_ENTRIES ? (uint32_t)by_bytes
						  : QCOW2_CACHE_MAX_ENTRIES;
	(void)ctx; /* tables are allocated on first use */
	return 0;
}

void qcow2_cache_free(struct core_ctx *ctx, struct qcow2 *q)
{
	for (uint32_t i = 0; i < q->cache.n; i++) {
		core_free(ctx, q->cache.e[i].table);
		q->cache.e[i].table = NULL;
	}
}

static int load(struct image *img, struct qcow2_cache_entry *e, uint64_t off)
{
	struct qcow2 *q = img->priv;
	const struct hostcalls *hc = img->ctx->env->hc;
	if (!e->table) {
		e->table = core_alloc(img->ctx, (size_t)q->cluster_size, 64);
		if (!e->table)
			return core_fail(img->ctx, -CD_ENOMEM, "qcow2: cannot allocate "
					 "an L2 table: %s", cd_strerror(CD_ENOMEM));
	}
	e->offset = 0; /* not valid until fully read */
	int64_t n = hc->read(hc->ctx, img->dev, off, e->table, q->cluster_size);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != q->cluster_size) /* the file shrank under us */
		return qcow2_corrupt(img, "L2 table at 0x%llx extends past end "
				     "of file", (unsigned long long)off);
	e->offset = off;
	q->cache.loads++;
	return 0;
}

int qcow2_cache_get(struct image *img, uint64_t off, const uint8_t **table)
{
	struct qcow2 *q = img->priv;
	struct qcow2_cache *c = &q->cache;
	struct qcow2_cache_entry *victim = &c->e[0];
	for (uint32_t i = 0; i < c->n; i++) {
		struct qcow2_cache_entry *e = &c->e[i];
		if (e->offset == off && e->table) {
			e->last_use = ++c->clock;
			*table = e->table;
			return 0;
		}
		if (e->last_use < victim->last_use)
			victim = e;
	}
	int ret = load(img, victim, off);
	if (ret < 0)
		return ret;
	victim->last_use = ++c->clock;
	*table = victim->table;
	return 0;
}
