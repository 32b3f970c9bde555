/* Reading a fuzzer's input as a stream of numbers, for every target. */
#ifndef CORDON_FUZZ_FUZZ_INPUT_H
#define CORDON_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The next k (<= 8) bytes as a big-endian number; fewer at the end of the
 * input, and 0 once it is used up. */
static inline uint64_t fuzz_take(const uint8_t **p, size_t *n, size_t k)
{
	uint64_t v = 0;
	for (size_t i = 0; i < k && *n > 0; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return v;
}

#endif
