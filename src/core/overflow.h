/* Overflow-checked arithmetic over the compiler builtins: true on overflow. */
#ifndef CORDON_CORE_OVERFLOW_H
#define CORDON_CORE_OVERFLOW_H

#define ADD_OVERFLOW(a, b, r) __builtin_add_overflow((a), (b), (r))
#define MUL_OVERFLOW(a, b, r) __builtin_mul_overflow((a), (b), (r))
#define SUB_OVERFLOW(a, b, r) __builtin_sub_overflow((a), (b), (r))

/* Round up to a power-of-two alignment; false when it would overflow. */
static inline bool round_up_u64(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t t;
	if (ADD_OVERFLOW(v, align - 1, &t))
		return false;
	*out = t & ~(align - 1);
	return true;
}

#endif
