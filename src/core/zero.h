/*
 * Whether a buffer is all zeros, 8 bytes at a time (the guest's memcmp
 * goes byte by byte): the copy engine's zero detection and the block
 * writers' "does this block need a place" share it.
 */
#ifndef CORDON_CORE_ZERO_H
#define CORDON_CORE_ZERO_H

#include "rt.h"

typedef uint64_t __attribute__((may_alias, aligned(8))) zero_word;

static inline bool all_zero(const uint8_t *p, uint64_t len)
{
	uint64_t i = 0;
	for (; i < len && (uintptr_t)(p + i) % 8; i++)
		if (p[i])
			return false;
	for (; i + 8 <= len; i += 8)
		if (*(const zero_word *)(const void *)(p + i))
			return false;
	for (; i < len; i++)
		if (p[i])
			return false;
	return true;
}

#endif
