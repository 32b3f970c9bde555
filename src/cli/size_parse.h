/*
 * Sizes on the command line, exactly as qemu-img 7.2 reads them:
 * size_parse() is QEMU's qemu_strtosz(value, NULL, &res) (util/cutils.c
 * do_strtosz, default suffix 'B', unit 1024) and cvtnum_full()/cvtnum() are
 * qemu-img's wrappers that print its messages.
 */
#ifndef CORDON_CLI_SIZE_PARSE_H
#define CORDON_CLI_SIZE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Pure: no output, no globals (beyond errno, which it saves and restores).
 * Returns 0 and sets *result, or -EINVAL (not a size, trailing characters)
 * or -ERANGE (does not fit 64 bits).  *warn_hex is set when QEMU would have
 * printed its "multiplier suffix on hex numbers" warning, which it does even
 * when the parse then fails.
 */
int size_parse(const char *value, uint64_t *result, bool *warn_hex);

/*
 * qemu-img's cvtnum_full(): the value, or a negative errno after printing
 * "Invalid <name> specified. ..." (and the hex warning when due).
 */
int64_t cvtnum_full(const char *name, const char *value, int64_t min,
		    int64_t max);

/* cvtnum_full(name, value, 0, INT64_MAX) */
int64_t cvtnum(const char *name, const char *value);

#endif
