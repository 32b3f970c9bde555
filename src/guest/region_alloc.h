/*
 * A bounded allocator over one region of memory: first-fit over a free list
 * of aligned blocks, coalescing on free.  Used by both sandboxes so that
 * every buffer core allocates lies inside memory the host can serve.
 */
#ifndef CORDON_GUEST_REGION_ALLOC_H
#define CORDON_GUEST_REGION_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct region_alloc {
	uint8_t *base;
	size_t size;
	void *free_list;
	size_t in_use;
};

void region_alloc_init(struct region_alloc *a, void *base, size_t size);
/* core_alloc-compatible: ctx is the struct region_alloc. */
void *region_alloc(void *ctx, size_t size, size_t align);
void region_free(void *ctx, void *ptr);

#endif
