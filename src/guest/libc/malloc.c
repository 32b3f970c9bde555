/*
 * malloc over the sandbox's heap, for third-party code that calls it.
 * The guest owns one heap (the region after its image, managed by
 * region_alloc); whoever sets that up registers it here, so there is never
 * a second allocator competing for the same memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MALLOC_ALIGN 16 /* what C requires of malloc for any object type */

static void *heap_ctx;
static void *(*heap_alloc)(void *ctx, size_t size, size_t align);
static void (*heap_release)(void *ctx, void *ptr);

void libc_set_heap(void *ctx, void *(*alloc)(void *ctx, size_t size, size_t align),
		   void (*release)(void *ctx, void *ptr))
{
	heap_ctx = ctx;
	heap_alloc = alloc;
	heap_release = release;
}

void *malloc(size_t size)
{
	if (!heap_alloc || size == 0)
		return NULL;
	return heap_alloc(heap_ctx, size, MALLOC_ALIGN);
}

void *calloc(size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	void *p = malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

void free(void *ptr)
{
	if (ptr && heap_release)
		heap_release(heap_ctx, ptr);
}
