/*
 * First-fit allocator over one region.  Every block starts with a 64-byte
 * header, so user pointers are 64-byte aligned; larger alignments (I/O
 * buffers want 4096) split off the gap in front as a free block.  The free
 * list is sorted by address so that free() can coalesce neighbours.
 */
#include "region_alloc.h"

#include "../core/rt.h"

#define HDR 64u
#define MIN_BLOCK (2u * HDR)
#define MAX_ALIGN (1u << 21)
#define MAGIC_USED 0x75736564626c6b21ull
#define MAGIC_FREE 0x66726565626c6b21ull

struct blk {
	size_t size; /* whole block, header included, multiple of HDR */
	struct blk *next;
	uint64_t magic;
};
_Static_assert(sizeof(struct blk) <= HDR, "header fits its slot");

static uintptr_t align_up(uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void region_alloc_init(struct region_alloc *a, void *base, size_t size)
{
	uintptr_t start = align_up((uintptr_t)base, HDR);
	uintptr_t end = ((uintptr_t)base + size) & ~(uintptr_t)(HDR - 1);
	a->base = (uint8_t *)start;
	a->size = end > start ? end - start : 0;
	a->in_use = 0;
	a->free_list = NULL;
	if (a->size >= MIN_BLOCK) {
		struct blk *b = (struct blk *)start;
		b->size = a->size;
		b->next = NULL;
		b->magic = MAGIC_FREE;
		a->free_list = b;
	}
}

static struct blk *make_free(uintptr_t at, size_t size, struct blk *next)
{
	struct blk *b = (struct blk *)at;
	b->size = size;
	b->next = next;
	b->magic = MAGIC_FREE;
	return b;
}

/* Where a block of `need` bytes aligned for the user can start inside b,
 * or 0 if it does not fit. */
static uintptr_t fit(const struct blk *b, size_t need, size_t align)
{
	uintptr_t start = (uintptr_t)b, end = start + b->size;
	uintptr_t hstart = align_up(start + HDR, align) - HDR;
	if (hstart != start && hstart - start < MIN_BLOCK)
		hstart += align; /* the gap must be able to hold a free block */
	if (hstart > end || end - hstart < need)
		return 0;
	return hstart;
}

void *region_alloc(void *ctx, size_t size, size_t align)
{
	struct region_alloc *a = ctx;
	if (align == 0 || (align & (align - 1)) != 0 || align > MAX_ALIGN)
		return NULL;
	if (align < HDR)
		align = HDR;
	if (size > a->size)
		return NULL;
	size_t need = align_up(size, HDR) + HDR;

	struct blk **link = (struct blk **)&a->free_list;
	for (struct blk *b = *link; b; link = &b->next, b = b->next) {
		uintptr_t hstart = fit(b, need, align);
		if (!hstart)
			continue;
		uintptr_t start = (uintptr_t)b, end = start + b->size;
		struct blk *rest = b->next;
		size_t used = need;
		if (end - (hstart + need) >= MIN_BLOCK)
			rest = make_free(hstart + need, end - hstart - need, rest);
		else
			used = end - hstart; /* too small to stand alone */
		if (hstart != start)
			*link = make_free(start, hstart - start, rest);
		else
			*link = rest;
		struct blk *u = (struct blk *)hstart;
		u->size = used;
		u->next = NULL;
		u->magic = MAGIC_USED;
		a->in_use += used;
		return (void *)(hstart + HDR);
	}
	return NULL;
}

void region_free(void *ctx, void *ptr)
{
	struct region_alloc *a = ctx;
	if (!ptr)
		return;
	uintptr_t h = (uintptr_t)ptr - HDR;
	if (h < (uintptr_t)a->base || h >= (uintptr_t)a->base + a->size)
		return; /* not ours: ignore rather than corrupt the list */
	struct blk *b = (struct blk *)h;
	if (b->magic != MAGIC_USED)
		return; /* double free or stray pointer */
	a->in_use -= b->size;
	b->magic = MAGIC_FREE;

	struct blk *prev = NULL, *next = a->free_list;
	while (next && (uintptr_t)next < h) {
		prev = next;
		next = next->next;
	}
	b->next = next;
	if (next && h + b->size == (uintptr_t)next) {
		b->size += next->size;
		b->next = next->next;
		next->magic = 0;
	}
	if (prev && (uintptr_t)prev + prev->size == h) {
		prev->size += b->size;
		prev->next = b->next;
		b->magic = 0;
	} else if (prev) {
		prev->next = b;
	} else {
		a->free_list = b;
	}
}
