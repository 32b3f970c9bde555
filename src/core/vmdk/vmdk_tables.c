/*
 * Grain directories and grain tables (qemu's L1 and L2 tables), looked up
 * as qemu's get_cluster_offset() does.  qemu reads each directory whole at
 * open (up to 128 MiB) and keeps 16 grain tables per extent; cordon pages
 * directories and keeps 16 grain tables for the whole image, so memory does
 * not grow with what a header declares.  A read past the end of an extent
 * file gives zeros, as qemu's block layer gives them.
 */
#include "vmdk_priv.h"

#include "../endian.h"
#include "../io.h"

int vmdk_tables_init(struct core_ctx *ctx, struct vmdk *p)
{
	for (uint32_t i = 0; i < VMDK_GD_PAGES; i++) {
		p->gd[i] = (struct vmdk_gd_page){ .ext = UINT32_MAX };
		p->gd[i].e = core_alloc(ctx, VMDK_GD_PAGE * 4, 64);
		if (!p->gd[i].e)
			return -CD_ENOMEM;
	}
	for (uint32_t i = 0; i < VMDK_GT_SLOTS; i++) {
		p->gt[i] = (struct vmdk_gt_slot){ .ext = UINT32_MAX };
		p->gt[i].e = core_alloc(ctx, VMDK3_GTES * 4, 64);
		if (!p->gt[i].e)
			return -CD_ENOMEM;
	}
	return 0;
}

void vmdk_tables_free(struct core_ctx *ctx, struct vmdk *p)
{
	for (uint32_t i = 0; i < VMDK_GD_PAGES; i++) {
		core_free(ctx, p->gd[i].e);
		p->gd[i].e = NULL;
	}
	for (uint32_t i = 0; i < VMDK_GT_SLOTS; i++) {
		core_free(ctx, p->gt[i].e);
		p->gt[i].e = NULL;
	}
}

static void to_host_order(uint32_t *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		e[i] = load_le32((const uint8_t *)&e[i]);
}

/* Directory entry l1_index (< l1_size) of extent x. */
static int gd_entry(struct core_ctx *ctx, struct vmdk *p, uint32_t x, uint32_t l1_index,
		    uint32_t *entry)
{
	const struct vmdk_extent *e = &p->ext[x];
	uint32_t page = l1_index / VMDK_GD_PAGE;
	struct vmdk_gd_page *g = NULL;
	for (uint32_t i = 0; i < VMDK_GD_PAGES; i++)
		if (p->gd[i].ext == x && p->gd[i].page == page)
			g = &p->gd[i];
	if (!g) {
		g = &p->gd[p->gd_next];
		p->gd_next = (p->gd_next + 1) % VMDK_GD_PAGES;
		uint32_t first = page * VMDK_GD_PAGE;
		uint32_t n = e->l1_size - first < VMDK_GD_PAGE ? e->l1_size - first : VMDK_GD_PAGE;
		/* open checked that the whole directory is addressable */
		g->ext = UINT32_MAX;
		int ret = io_read(ctx, e->dev, e->gd_off + (uint64_t)first * 4, g->e, (uint64_t)n * 4);
		if (ret < 0)
			return ret;
		to_host_order(g->e, n);
		g->ext = x;
		g->page = page;
	}
	*entry = g->e[l1_index % VMDK_GD_PAGE];
	return 0;
}

/* The grain table at l2_offset (sectors) of extent x: qemu's cache of 16,
 * least used replaced, counts halved when one would overflow. */
static int gt_table(struct core_ctx *ctx, struct vmdk *p, uint32_t x, uint32_t l2_offset,
		    const uint32_t **table)
{
	const struct vmdk_extent *e = &p->ext[x];
	for (uint32_t i = 0; i < VMDK_GT_SLOTS; i++) {
		struct vmdk_gt_slot *s = &p->gt[i];
		if (s->ext == x && s->l2_offset == l2_offset) {
			if (++s->uses == UINT32_MAX)
				for (uint32_t j = 0; j < VMDK_GT_SLOTS; j++)
					p->gt[j].uses >>= 1;
			*table = s->e;
			return 0;
		}
	}
	struct vmdk_gt_slot *s = &p->gt[0];
	for (uint32_t i = 1; i < VMDK_GT_SLOTS; i++)
		if (p->gt[i].uses < s->uses)
			s = &p->gt[i];
	s->ext = UINT32_MAX;
	int ret = io_read(ctx, e->dev, (uint64_t)l2_offset * VMDK_SECTOR, s->e,
			  (uint64_t)e->l2_size * 4);
	if (ret < 0)
		return ret;
	to_host_order(s->e, e->l2_size);
	s->ext = x;
	s->l2_offset = l2_offset;
	s->uses = 1;
	*table = s->e;
	return 0;
}

int vmdk_grain_lookup(struct core_ctx *ctx, struct vmdk *p, uint32_t x, uint64_t sec,
		      uint64_t *sector, uint64_t *span)
{
	const struct vmdk_extent *e = &p->ext[x];
	/* open refused a zero l1_entry_sectors or cluster_sectors */
	uint64_t l1_index = sec / e->l1_entry_sectors;
	/* the rest of what this directory entry covers */
	*span = (l1_index + 1) * e->l1_entry_sectors - sec;
	if (l1_index >= e->l1_size) {
		*span = UINT64_MAX; /* the rest of the extent */
		return VMDK_GRAIN_ERROR;
	}
	uint32_t l2_offset;
	int ret = gd_entry(ctx, p, x, (uint32_t)l1_index, &l2_offset);
	if (ret < 0)
		return ret;
	if (l2_offset == 0)
		return VMDK_GRAIN_UNALLOC;
	const uint32_t *table;
	ret = gt_table(ctx, p, x, l2_offset, &table);
	if (ret < 0)
		return ret;
	uint64_t g = sec / e->cluster_sectors;
	uint32_t i = (uint32_t)(g % e->l2_size);
	uint32_t entry = table[i];
	int kind = e->zero_grain && entry == VMDK_GTE_ZEROED ? VMDK_GRAIN_ZEROED
		   : entry == 0				? VMDK_GRAIN_UNALLOC
							: VMDK_GRAIN_DATA;
	/* this grain's rest, and for holes the like entries after it in the
	 * table (qemu's tables may cover more than the directory entry says:
	 * the span stays within both) */
	uint64_t n = 1;
	if (kind != VMDK_GRAIN_DATA)
		while (i + n < e->l2_size && table[i + n] == entry)
			n++;
	uint64_t grains_span = (g + n) * e->cluster_sectors - sec;
	if (grains_span < *span)
		*span = grains_span;
	*sector = entry;
	return kind;
}
