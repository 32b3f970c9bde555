/* The guest's <stdio.h>: formatting into buffers only; there are no files. */
#ifndef CORDON_GUEST_LIBC_STDIO_H
#define CORDON_GUEST_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#endif
