/*
 * Results as JSON, exactly as qemu-img prints them (--output=json): QEMU's
 * JSON writer in pretty mode (qobject/json-writer.c).  Four spaces per level;
 * a member is `"key": value`; members and elements are separated by ",\n";
 * a container's end goes on a line of its own, also when it is empty
 * ("{\n}").  Strings are written with \" \\ \b \f \n \r \t, everything else
 * below 0x20 or above 0x7e as \uXXXX (uppercase, surrogate pairs past the
 * BMP), and malformed UTF-8 as \uFFFD.  An object's members are printed
 * in its QDict's order (qdict_order.h), an array's elements as sent.
 */
#include "render_json.h"

#include <inttypes.h>
#include <stdlib.h>

#include "qdict_order.h"
#include "utf8.h"

struct writer {
	FILE *f;
	int depth;
	bool need_comma;
};

static void newline(struct writer *w)
{
	fprintf(w->f, "\n%*s", 4 * w->depth, "");
}

static void quoted(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0, len; i < n; i += len) {
		int32_t cp = utf8_decode(s + i, n - i, &len);
		switch (cp) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (cp < 0)
				cp = 0xfffd;
			if (cp > 0xffff)
				fprintf(f, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
					0xdc00 + ((cp - 0x10000) & 0x3ff));
			else if (cp < 0x20 || cp >= 0x7f)
				fprintf(f, "\\u%04X", (unsigned)cp);
			else
				fputc(cp, f);
		}
	}
	fputc('"', f);
}

/* Before a member or element: the comma and line, and the key. */
static void before(struct writer *w, const struct result_rec *rec)
{
	if (w->need_comma) {
		fputc(',', w->f);
		newline(w);
	} else if (w->depth > 0) {
		newline(w);
	}
	w->need_comma = true;
	if (rec->key) {
		quoted(w->f, (const uint8_t *)rec->key, rec->key_len);
		fputs(": ", w->f);
	}
}

static void scalar(struct writer *w, const struct result_rec *rec)
{
	before(w, rec);
	switch (rec->type) {
	case HC_REC_STRING:
		quoted(w->f, rec->value, rec->value_len);
		break;
	case HC_REC_INT:
		fprintf(w->f, "%" PRId64, rec->i);
		break;
	case HC_REC_UINT:
		fprintf(w->f, "%" PRIu64, (uint64_t)rec->i);
		break;
	case HC_REC_BOOL:
		fputs(rec->i ? "true" : "false", w->f);
		break;
	}
}

static size_t value(struct writer *w, const struct result_store *r, size_t pos);

/* The members or elements of the container at pos, after its BEGIN. */
static size_t contents(struct writer *w, const struct result_store *r, size_t pos,
		       bool object)
{
	size_t n = 0, end = 0, at = pos;
	size_t *order = object ? qdict_order(r, pos, &n, &end) : NULL;
	if (order) {
		for (size_t i = 0; i < n; i++)
			value(w, r, order[i]);
		free(order);
		return end;
	}
	struct result_rec rec;
	result_store_next(r, &at, &rec); /* the BEGIN */
	for (;;) {
		size_t here = at;
		if (!result_store_next(r, &here, &rec) ||
		    rec.type == HC_REC_END_OBJECT || rec.type == HC_REC_END_ARRAY)
			return here;
		at = value(w, r, at);
	}
}

/* Writes the value whose first record is at pos; returns the position
 * after it.  The store bounds the nesting (HC_MAX_RESULT_DEPTH). */
static size_t value(struct writer *w, const struct result_store *r, size_t pos)
{
	struct result_rec rec;
	size_t at = pos;
	if (!result_store_next(r, &at, &rec))
		return at;
	if (rec.type != HC_REC_BEGIN_OBJECT && rec.type != HC_REC_BEGIN_ARRAY) {
		scalar(w, &rec);
		return at;
	}
	bool object = rec.type == HC_REC_BEGIN_OBJECT;
	before(w, &rec);
	fputc(object ? '{' : '[', w->f);
	w->depth++;
	w->need_comma = false;
	at = contents(w, r, pos, object);
	w->depth--;
	newline(w);
	fputc(object ? '}' : ']', w->f);
	w->need_comma = true;
	return at;
}

void render_json(FILE *f, const struct result_store *r)
{
	struct writer w = { .f = f };
	size_t pos = 0, next;
	struct result_rec rec;
	while (next = pos, result_store_next(r, &next, &rec)) {
		pos = value(&w, r, pos);
		/* qemu-img prints each top-level value on its own line. */
		fputc('\n', f);
		w.need_comma = false;
	}
}
