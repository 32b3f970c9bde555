/*
 * libFuzzer target for what `cordon info` prints (src/cli/cmd_info.c): the
 * records a sandbox sends for ImageInfo objects, kept by result_store_add()
 * and, once the store is complete, rendered as cmd_info renders them --
 * render_json() (members in QDict order) and render_info_human() (qemu's
 * bdrv_image_info_dump, snapshot table and format specific tree).
 *
 * Checks beyond "no crash, no UB":
 *  - the JSON is valid and the human text holds no terminal control, only
 *    ended lines (render_check.h);
 *  - the human text is one block per image (the top-level object, or each
 *    object a top-level array begins with), the blocks one blank line
 *    apart and each opening with qemu's four lines: no name adds a line;
 *  - rendering twice gives the same bytes;
 *  - qdict_order() gives every object's members each exactly once, in
 *    QDict order (tdb_hash() bucket, then later insertions first:
 *    recomputed here), and the object's end; result_skip_value() of every
 *    value is where its last record ends.
 *
 * Input: the records core would send, in one HC_OP_RESULT call (in calls
 * of HC_MAX_RESULT_CALL bytes when longer).  A refused call ends the run,
 * as in cordon, and nothing is rendered.  Seeds: gen_info_render.py.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/host/qdict_order.h"
#include "../src/host/render_info.h"
#include "../src/host/render_json.h"
#include "../src/host/result_store.h"
#include "render_check.h"

/* ---- the store's values, indexed apart from qdict_order.c --------------- */

struct node {
	size_t pos, end; /* the value's first record; the position after it */
	size_t next;     /* the node after it and all it holds */
	uint16_t type;
	const char *key;
	size_t key_len;
};

/* Every value (END records are not values), in record order. */
static struct node *index_values(const struct result_store *r, size_t *count)
{
	struct result_rec rec;
	size_t n = 0, pos = 0;
	while (result_store_next(r, &pos, &rec))
		n++;
	struct node *v = malloc((n ? n : 1) * sizeof(*v));
	CHECK(v);
	size_t open[HC_MAX_RESULT_DEPTH], depth = 0;
	n = 0;
	for (size_t at = 0, next = 0; result_store_next(r, &next, &rec); at = next) {
		if (rec.type == HC_REC_END_OBJECT || rec.type == HC_REC_END_ARRAY) {
			CHECK(depth > 0);
			struct node *c = &v[open[--depth]];
			CHECK(rec.type == (c->type == HC_REC_BEGIN_OBJECT ? HC_REC_END_OBJECT
									 : HC_REC_END_ARRAY));
			c->end = next;
			c->next = n;
			continue;
		}
		v[n] = (struct node){ .pos = at, .end = next, .next = n + 1, .type = rec.type,
				      .key = rec.key, .key_len = rec.key_len };
		if (rec.type == HC_REC_BEGIN_OBJECT || rec.type == HC_REC_BEGIN_ARRAY) {
			CHECK(depth < HC_MAX_RESULT_DEPTH);
			open[depth++] = n;
		}
		n++;
	}
	CHECK(depth == 0);
	*count = n;
	return v;
}

/* QEMU's tdb_hash() (qobject/qdict.c) as it is written there, over the
 * key made a C string. */
static unsigned int tdb_hash(const char *name)
{
	unsigned value, i;
	for (value = 0x238F13AF * strlen(name), i = 0; name[i]; i++)
		value = (value + (((const unsigned char *)name)[i] << (i * 5 % 24)));
	return (1103515243 * value + 12345);
}

static unsigned bucket(const struct node *m)
{
	char key[RESULT_KEY_MAX + 1];
	memcpy(key, m->key, m->key_len);
	key[m->key_len] = '\0';
	return tdb_hash(key) % 512;
}

/* The object's members from qdict_order(): a permutation of them, in the
 * order QEMU's QDict iterates (qdict_first/qdict_next: bucket by bucket,
 * each bucket's list from its head, where an insertion goes). */
static void check_order(const struct result_store *r, const struct node *v, size_t o)
{
	size_t want = 0;
	for (size_t c = o + 1; c < v[o].next; c = v[c].next)
		want++;
	/* The members in record order (so by position), and whether seen. */
	const struct node **member = malloc((want ? want : 1) * sizeof(*member));
	bool *seen = calloc(want ? want : 1, sizeof(*seen));
	CHECK(member && seen);
	want = 0;
	for (size_t c = o + 1; c < v[o].next; c = v[c].next)
		member[want++] = &v[c];
	size_t n = 0, end = 0;
	size_t *order = qdict_order(r, v[o].pos, &n, &end);
	CHECK(end == v[o].end);
	CHECK(n == want && (order != NULL) == (want > 0));
	unsigned prev_bucket = 0;
	size_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = want;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (member[mid]->pos <= order[i])
				lo = mid;
			else
				hi = mid;
		}
		CHECK(member[lo]->pos == order[i] && !seen[lo]);
		seen[lo] = true;
		unsigned b = bucket(member[lo]);
		CHECK(i == 0 || prev_bucket < b || (prev_bucket == b && prev > lo));
		prev_bucket = b, prev = lo;
	}
	free(order);
	free(seen);
	free(member);
}

static void check_structure(const struct result_store *r, const struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(result_skip_value(r, v[i].pos) == v[i].end);
		if (v[i].type == HC_REC_BEGIN_OBJECT)
			check_order(r, v, i);
	}
}

/* How many images render_info_human() describes: the top-level object, or
 * the objects a top-level array begins with. */
static size_t images(const struct node *v, size_t n)
{
	if (n == 0 || v[0].type == HC_REC_BEGIN_OBJECT)
		return n > 0;
	size_t count = 0;
	if (v[0].type == HC_REC_BEGIN_ARRAY)
		for (size_t c = 1; c < v[0].next && v[c].type == HC_REC_BEGIN_OBJECT; c = v[c].next)
			count++;
	return count;
}

/* ---- rendering ------------------------------------------------------------ */

typedef void render_fn(FILE *f, const struct result_store *r);

static char *render(render_fn *fn, const struct result_store *r, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	CHECK(f);
	fn(f, r);
	CHECK(fclose(f) == 0);
	return text;
}

/* The same store rendered again: the same bytes (nothing kept between
 * runs, nothing read that changes). */
static char *render_twice(render_fn *fn, const struct result_store *r, size_t *len)
{
	size_t again_len;
	char *text = render(fn, r, len), *again = render(fn, r, &again_len);
	CHECK(again_len == *len && memcmp(again, text, *len) == 0);
	free(again);
	return text;
}

/* One block per image, the blocks apart by one blank line, each opening
 * with bdrv_image_info_dump's first four lines (the names on them end no
 * line: check_human() saw every newline escaped in them). */
static void check_blocks(const char *text, size_t len, size_t want)
{
	static const char *const opening[] = { "image: ", "file format: ", "virtual size: ",
					       "disk size: " };
	size_t blocks = 0, line = 0; /* lines so far in this block */
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl);
		size_t n = (size_t)(nl - p);
		if (n == 0) {
			CHECK(line >= 4);
			line = 0;
		} else {
			if (line == 0)
				blocks++;
			if (line < 4)
				CHECK(n >= strlen(opening[line]) &&
				      memcmp(p, opening[line], strlen(opening[line])) == 0);
			line++;
		}
		p = nl + 1;
	}
	CHECK(len == 0 || line >= 4);
	CHECK(blocks == want);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	tzset(); /* as cmd_info does before the run: snapshot dates are local */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result_store store;
	result_store_init(&store);
	bool kept = true;
	for (size_t at = 0; at < size && kept;) {
		size_t n = size - at < HC_MAX_RESULT_CALL ? size - at : HC_MAX_RESULT_CALL;
		char why[160];
		kept = result_store_add(&store, data + at, n, why, sizeof(why)) == 0;
		at += n;
	}
	if (kept && result_store_complete(&store)) {
		size_t n, len;
		struct node *v = index_values(&store, &n);
		check_structure(&store, v, n);
		char *text = render_twice(render_json, &store, &len);
		check_json(text, len);
		free(text);
		text = render_twice(render_info_human, &store, &len);
		check_human(text, len);
		check_blocks(text, len, images(v, n));
		free(text);
		free(v);
	}
	result_store_free(&store);
	return 0;
}
