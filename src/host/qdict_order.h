/*
 * The order in which QEMU prints an object's members: its QDict's
 * (qobject/qdict.c), which qemu-img's JSON and human output both iterate.
 * A QDict is 512 buckets by tdb_hash(key) % 512, walked from the first
 * bucket; a member inserted later goes first in its bucket.  Core sends
 * members in QEMU's insertion order (the QAPI schema's), so the host can
 * print them as QEMU does without knowing any command's keys.
 */
#ifndef CORDON_HOST_QDICT_ORDER_H
#define CORDON_HOST_QDICT_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "result_store.h"

/* QEMU's tdb_hash() of a key (n bytes, as strlen would count them). */
uint32_t qdict_hash(const char *key, size_t n);

/* The position after the value whose first record is at pos (past the
 * END of an object or array). */
size_t result_skip_value(const struct result_store *r, size_t pos);

/* The members of the object whose BEGIN record is at pos: their
 * positions in QDict order in a malloc'd array (*n of them; NULL when
 * there are none or memory ran out: then *n is 0 and the caller walks
 * them in record order), and *end the position after the object. */
size_t *qdict_order(const struct result_store *r, size_t pos, size_t *n, size_t *end);

#endif
