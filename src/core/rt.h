/*
 * The whole C runtime core may use.  On the host these resolve to libc; in
 * the KVM guest to src/guest/libc.  Core includes nothing else beyond the
 * compiler's freestanding headers, so a call outside this set fails to link
 * into the guest.
 */
#ifndef CORDON_CORE_RT_H
#define CORDON_CORE_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
/* Bounded formatter: %s %c %d %i %u %x %X %p %% with l/ll/z/j modifiers. */
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#endif
