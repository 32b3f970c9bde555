/* qemu's dump_qobject() over result records (see render_human.h). */
#include "render_human.h"

#include <inttypes.h>
#include <stdlib.h>

#include "qdict_order.h"
#include "text_escape.h"

static void escaped(FILE *f, const char *s, size_t n)
{
	char *out = malloc(TEXT_ESCAPE_SIZE(n));
	if (!out)
		return;
	text_escape(out, TEXT_ESCAPE_SIZE(n), s, n);
	fputs(out, f);
	free(out);
}

static bool is_begin(const struct result_rec *rec)
{
	return rec->type == HC_REC_BEGIN_OBJECT || rec->type == HC_REC_BEGIN_ARRAY;
}

static void scalar(FILE *f, const struct result_rec *rec)
{
	switch (rec->type) {
	case HC_REC_STRING:
		escaped(f, (const char *)rec->value, rec->value_len);
		break;
	case HC_REC_INT:
		fprintf(f, "%" PRId64, rec->i);
		break;
	case HC_REC_UINT:
		fprintf(f, "%" PRIu64, (uint64_t)rec->i);
		break;
	case HC_REC_BOOL:
		fputs(rec->i ? "true" : "false", f);
		break;
	}
}

/* The key with its dashes as spaces. */
static void key(FILE *f, const struct result_rec *rec)
{
	char k[RESULT_KEY_MAX + 1];
	size_t n = rec->key_len < RESULT_KEY_MAX ? rec->key_len : RESULT_KEY_MAX;
	for (size_t i = 0; i < n; i++)
		k[i] = rec->key[i] == '-' ? ' ' : rec->key[i];
	k[n] = '\0';
	fputs(k, f);
}

/* One member ("key: value" or "key:" and its contents below) or element
 * ("[i]: ..."), at pos; returns the position after it. */
static size_t member(FILE *f, const struct result_store *r, size_t pos, int indent,
		     bool in_object, int i)
{
	struct result_rec rec;
	size_t at = pos;
	result_store_next(r, &at, &rec);
	fprintf(f, "%*s", indent * 4, "");
	if (in_object)
		key(f, &rec);
	else
		fprintf(f, "[%i]", i);
	if (is_begin(&rec)) {
		fputs(":\n", f);
		at = pos;
		render_human_tree(f, r, &at, indent + 1);
	} else {
		fputs(": ", f);
		scalar(f, &rec);
		fputc('\n', f);
	}
	return at;
}

/* The store checked the nesting (at most HC_MAX_RESULT_DEPTH deep), so the
 * recursion is bounded. */
bool render_human_tree(FILE *f, const struct result_store *r, size_t *pos, int indent)
{
	struct result_rec open;
	size_t at = *pos;
	if (!result_store_next(r, &at, &open) || !is_begin(&open))
		return false;
	bool in_object = open.type == HC_REC_BEGIN_OBJECT;
	size_t n = 0, end = 0;
	size_t *order = in_object ? qdict_order(r, *pos, &n, &end) : NULL;
	if (order) {
		for (size_t i = 0; i < n; i++)
			member(f, r, order[i], indent, true, (int)i);
		free(order);
		*pos = end;
		return true;
	}
	struct result_rec rec;
	for (int i = 0;; i++) {
		size_t here = at;
		if (!result_store_next(r, &here, &rec) ||
		    rec.type == HC_REC_END_OBJECT || rec.type == HC_REC_END_ARRAY) {
			at = here;
			break;
		}
		at = member(f, r, at, indent, in_object, i);
	}
	*pos = at;
	return true;
}

void render_human_text(FILE *f, const char *s, size_t n)
{
	escaped(f, s, n);
}
