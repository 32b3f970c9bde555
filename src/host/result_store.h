/*
 * Results a command sends the host (HC_OP_RESULT): typed records
 * (hostcall_abi.h) kept after every one of them has been checked, for the
 * host to render once the run is over (render_json.c, and each command's
 * human text).  The sandbox chooses every byte, so a record is refused as a
 * whole unless it is well-formed: known type, exact value size, a key where
 * (and only where) an object member needs one, objects and arrays closed in
 * order, nesting and total size bounded.
 */
#ifndef CORDON_HOST_RESULT_STORE_H
#define CORDON_HOST_RESULT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../abi/hostcall_abi.h"

/* Longest key: qemu's are short names ("virtual-size"). */
#define RESULT_KEY_MAX 64u
/* Longest string value: a file name, with room. */
#define RESULT_STRING_MAX 8192u

struct result_store {
	uint8_t *buf;       /* records as received, each checked */
	size_t len, cap;
	uint32_t depth;     /* open objects and arrays */
	uint8_t open[HC_MAX_RESULT_DEPTH]; /* their types, innermost last */
};

/* One record, decoded: a view into the store. */
struct result_rec {
	uint16_t type;
	const char *key;    /* NULL when the record has none */
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	int64_t i;          /* INT, UINT (as unsigned bits), BOOL */
};

void result_store_init(struct result_store *r);
void result_store_free(struct result_store *r);
/* Appends the records in data[0..len) if all of them are valid; else
 * keeps none and says why (for the violation message).  0 or -1. */
int result_store_add(struct result_store *r, const uint8_t *data, size_t len,
		     char *why, size_t why_len);
/* All objects and arrays are closed: the results are complete. */
bool result_store_complete(const struct result_store *r);
/* Walks the records: *pos starts at 0; false at the end. */
bool result_store_next(const struct result_store *r, size_t *pos, struct result_rec *rec);

#endif
