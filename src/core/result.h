/*
 * Structured results for the host to render (HC_OP_RESULT): a command
 * describes what it found as typed records (objects, arrays, strings,
 * integers, booleans; hostcall_abi.h) and the host prints them as qemu-img
 * does, human text or JSON.  Records are gathered in one buffer from
 * core_alloc and sent whenever it fills, so a large result (a long snapshot
 * list) is several calls; the host keeps the nesting across them.
 *
 * Errors are sticky: the first failure is kept and every later call does
 * nothing, so a command checks once, at result_finish().
 */
#ifndef CORDON_CORE_RESULT_H
#define CORDON_CORE_RESULT_H

#include "core.h"

struct result_out {
	struct core_ctx *ctx;
	uint8_t *buf;
	size_t len;
	int err;
};

/* 0 or -CD_ENOMEM. */
int result_init(struct result_out *r, struct core_ctx *ctx);
/* key is NULL for array members. */
void result_begin_object(struct result_out *r, const char *key);
void result_end_object(struct result_out *r);
void result_begin_array(struct result_out *r, const char *key);
void result_end_array(struct result_out *r);
void result_string(struct result_out *r, const char *key, const char *s);
void result_string_n(struct result_out *r, const char *key, const char *s, size_t n);
void result_int(struct result_out *r, const char *key, int64_t v);
void result_uint(struct result_out *r, const char *key, uint64_t v);
void result_bool(struct result_out *r, const char *key, bool v);
/* Sends what is left and frees the buffer: 0, or the first error. */
int result_finish(struct result_out *r);

#endif
