/* Checking and keeping result records (see result_store.h). */
#include "result_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void result_store_init(struct result_store *r)
{
	memset(r, 0, sizeof(*r));
}

void result_store_free(struct result_store *r)
{
	free(r->buf);
	result_store_init(r);
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

static size_t value_size(uint16_t type)
{
	switch (type) {
	case HC_REC_INT:
	case HC_REC_UINT: return 8;
	case HC_REC_BOOL: return 1;
	default: return 0;
	}
}

/* Decodes the record at data[pos..len) without judging where it stands. */
static int decode(const uint8_t *data, size_t len, size_t pos, struct result_rec *rec,
		  size_t *next, const char **why)
{
	struct hc_record h;
	if (len - pos < sizeof(h)) {
		*why = "a record header is cut short";
		return -1;
	}
	memcpy(&h, data + pos, sizeof(h));
	size_t body = (size_t)HC_RECORD_BODY(h.key_len, h.value_len);
	if (h.key_len > RESULT_KEY_MAX || h.value_len > RESULT_STRING_MAX ||
	    body > len - pos - sizeof(h)) {
		*why = "a record is longer than its buffer or its limits";
		return -1;
	}
	*rec = (struct result_rec){
		.type = h.type,
		.key = h.key_len ? (const char *)data + pos + sizeof(h) : NULL,
		.key_len = h.key_len,
		.value = data + pos + sizeof(h) + h.key_len,
		.value_len = h.value_len,
	};
	if (rec->value_len == 8)
		for (int b = 7; b >= 0; b--)
			rec->i = (int64_t)((uint64_t)rec->i << 8 | rec->value[b]);
	else if (rec->value_len == 1)
		rec->i = rec->value[0];
	*next = pos + sizeof(h) + body;
	return 0;
}

/* The record is of a known type with the value size its type has. */
static const char *check_value(const struct result_rec *rec)
{
	if (rec->type < HC_REC_BEGIN_OBJECT || rec->type > HC_REC_BOOL)
		return "a record of unknown type";
	if (rec->type != HC_REC_STRING && rec->value_len != value_size(rec->type))
		return "a record's value has the wrong size";
	if (rec->type == HC_REC_BOOL && rec->i > 1)
		return "a boolean that is neither 0 nor 1";
	if (rec->type == HC_REC_STRING && memchr(rec->value, '\0', rec->value_len))
		return "a string holding NUL";
	for (size_t i = 0; i < rec->key_len; i++)
		if (!key_char(rec->key[i]))
			return "a key with a character other than [A-Za-z0-9._-]";
	return NULL;
}

/* Where the record stands: members of objects have keys, array members
 * and END records do not; an END closes what is open. */
static const char *check_place(uint8_t *open, uint32_t *depth, const struct result_rec *rec)
{
	uint8_t in = *depth ? open[*depth - 1] : 0;
	bool is_end = rec->type == HC_REC_END_OBJECT || rec->type == HC_REC_END_ARRAY;
	bool needs_key = !is_end && in == HC_REC_BEGIN_OBJECT;
	if ((rec->key != NULL) != needs_key)
		return needs_key ? "an object member without a key" : "a key where none belongs";
	if (is_end) {
		uint8_t want = rec->type == HC_REC_END_OBJECT ? HC_REC_BEGIN_OBJECT
							      : HC_REC_BEGIN_ARRAY;
		if (in != want)
			return "an end that closes nothing of its kind";
		(*depth)--;
	} else if (rec->type == HC_REC_BEGIN_OBJECT || rec->type == HC_REC_BEGIN_ARRAY) {
		if (*depth == HC_MAX_RESULT_DEPTH)
			return "objects and arrays nested too deep";
		open[(*depth)++] = (uint8_t)rec->type;
	}
	return NULL;
}

int result_store_add(struct result_store *r, const uint8_t *data, size_t len,
		     char *why, size_t why_len)
{
	uint8_t open[HC_MAX_RESULT_DEPTH];
	uint32_t depth = r->depth;
	memcpy(open, r->open, sizeof(open));
	const char *bad = NULL;
	if (len > HC_MAX_RESULT_CALL || len > HC_MAX_RESULT_BYTES - r->len)
		bad = "more results than a run may send";
	for (size_t pos = 0, next; !bad && pos < len; pos = next) {
		struct result_rec rec;
		if (decode(data, len, pos, &rec, &next, &bad) == 0 && !(bad = check_value(&rec)))
			bad = check_place(open, &depth, &rec);
	}
	if (bad) {
		snprintf(why, why_len, "result with %s", bad);
		return -1;
	}
	if (len == 0)
		return 0;
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4096;
		while (cap < r->len + len)
			cap *= 2;
		uint8_t *nb = realloc(r->buf, cap);
		if (!nb) {
			snprintf(why, why_len, "result: out of memory");
			return -1;
		}
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->depth = depth;
	memcpy(r->open, open, sizeof(open));
	return 0;
}

bool result_store_complete(const struct result_store *r)
{
	return r->depth == 0;
}

bool result_store_next(const struct result_store *r, size_t *pos, struct result_rec *rec)
{
	const char *why;
	size_t next;
	if (*pos >= r->len || decode(r->buf, r->len, *pos, rec, &next, &why) < 0)
		return false;
	*pos = next;
	return true;
}
