/* QDict member order over result records (see qdict_order.h). */
#include "qdict_order.h"

#include <stdlib.h>

#define QDICT_BUCKETS 512u

uint32_t qdict_hash(const char *key, size_t n)
{
	uint32_t v = 0x238F13AFu * (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		v += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
	return 1103515243u * v + 12345u;
}

static int is_begin(uint16_t type)
{
	return type == HC_REC_BEGIN_OBJECT || type == HC_REC_BEGIN_ARRAY;
}

static int is_end(uint16_t type)
{
	return type == HC_REC_END_OBJECT || type == HC_REC_END_ARRAY;
}

size_t result_skip_value(const struct result_store *r, size_t pos)
{
	struct result_rec rec;
	size_t depth = 0;
	while (result_store_next(r, &pos, &rec)) {
		if (is_begin(rec.type))
			depth++;
		else if (is_end(rec.type) && depth)
			depth--;
		if (depth == 0)
			break;
	}
	return pos;
}

struct member {
	size_t pos;
	uint32_t bucket;
	size_t index; /* insertion order */
};

static int by_qdict(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	/* later insertions first */
	return a->index > b->index ? -1 : a->index < b->index;
}

size_t *qdict_order(const struct result_store *r, size_t pos, size_t *n, size_t *end)
{
	struct result_rec rec;
	size_t count = 0, at = pos;
	result_store_next(r, &at, &rec); /* the BEGIN */
	size_t first = at;
	for (;;) {
		size_t here = at;
		if (!result_store_next(r, &here, &rec) || is_end(rec.type)) {
			*end = here;
			break;
		}
		at = result_skip_value(r, at);
		count++;
	}
	*n = 0;
	if (count == 0)
		return NULL;
	struct member *m = malloc(count * sizeof(*m));
	size_t *out = malloc(count * sizeof(*out));
	if (!m || !out) {
		free(m);
		free(out);
		return NULL;
	}
	at = first;
	for (size_t i = 0; i < count; i++) {
		size_t here = at;
		result_store_next(r, &here, &rec);
		m[i] = (struct member){ .pos = at, .index = i,
					.bucket = qdict_hash(rec.key ? rec.key : "", rec.key_len) %
						  QDICT_BUCKETS };
		at = result_skip_value(r, at);
	}
	qsort(m, count, sizeof(*m), by_qdict);
	for (size_t i = 0; i < count; i++)
		out[i] = m[i].pos;
	free(m);
	*n = count;
	return out;
}
