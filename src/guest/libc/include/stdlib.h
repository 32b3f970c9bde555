/*
 * The guest's <stdlib.h>.  malloc and friends serve third-party decoders
 * (zlib, libzstd) that want them; they allocate from whatever heap the
 * sandbox registered with libc_set_heap() (normally core's region
 * allocator) and return NULL before that.
 */
#ifndef CORDON_GUEST_LIBC_STDLIB_H
#define CORDON_GUEST_LIBC_STDLIB_H

#include <stddef.h>

void libc_set_heap(void *ctx, void *(*alloc)(void *ctx, size_t size, size_t align),
		   void (*release)(void *ctx, void *ptr));
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void free(void *ptr);
/* Stops the guest with a fault (abort.c). */
__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void __stack_chk_fail(void);

#endif
