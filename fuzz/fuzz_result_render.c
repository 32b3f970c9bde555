/*
 * libFuzzer target for what the host does with a sandbox's results and
 * progress reports: result_store_add() over calls of fuzzer-chosen length
 * (each refused whole or kept), render_json() of what was kept, and
 * progress_report() over fuzzer-chosen (done, total) pairs.
 *
 * Checks beyond "no crash, no UB": a refused call leaves the store as it
 * was; the store stays within its limits; a complete store renders as a
 * sequence of valid JSON values (checked by an independent parser below)
 * and as qemu's human tree in printable lines,
 * one per line, in printable ASCII only; every progress line is qemu's
 * "    (N.NN/100%)\r" with N never above 100.
 *
 * Input: a sequence of chunks, each [kind:1][len:2 LE][len bytes]; kind
 * even = result call, odd = progress report (16 bytes: done, total).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/host/progress.h"
#include "../src/host/render_human.h"
#include "../src/host/render_json.h"
#include "../src/host/result_store.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ---- an independent JSON checker (RFC 8259 subset qemu emits) ---------- */

struct parser {
	const char *p, *end;
	int depth;
};

static bool ws(struct parser *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n'))
		s->p++;
	return true;
}

static bool lit(struct parser *s, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool hex4(const char *p)
{
	for (int i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'F')))
			return false;
	return true;
}

static bool string(struct parser *s)
{
	if (!lit(s, "\""))
		return false;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\') {
			s->p++;
			if (s->p >= s->end)
				return false;
			if (*s->p == 'u') {
				if (s->end - s->p < 5 || !hex4(s->p + 1))
					return false;
				s->p += 5;
				continue;
			}
			if (!strchr("\"\\bfnrt", *s->p))
				return false;
		}
		s->p++;
	}
	return lit(s, "\"");
}

static bool number(struct parser *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	const char *start = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	size_t n = (size_t)(s->p - start);
	return n > 0 && (n == 1 || *start != '0');
}

static bool value(struct parser *s);

/* The container's end, if it comes next. */
static bool closes(struct parser *s, char close)
{
	ws(s);
	if (s->p >= s->end || *s->p != close)
		return false;
	s->p++;
	s->depth--;
	return true;
}

static bool members(struct parser *s, char close, bool keyed)
{
	if (++s->depth > 64)
		return false;
	if (closes(s, close))
		return true;
	for (;;) {
		ws(s);
		if (keyed && !(string(s) && lit(s, ": ")))
			return false;
		if (!value(s))
			return false;
		if (closes(s, close))
			return true;
		if (!lit(s, ","))
			return false;
	}
}

static bool value(struct parser *s)
{
	ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{': s->p++; return members(s, '}', true);
	case '[': s->p++; return members(s, ']', false);
	case '"': return string(s);
	case 't': return lit(s, "true");
	case 'f': return lit(s, "false");
	default: return number(s);
	}
}

static void check_json(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
	struct parser s = { text, text + len, 0 };
	while (s.p < s.end) {
		CHECK(value(&s));
		CHECK(lit(&s, "\n"));
	}
}

static void check_progress(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		if (*p == '\n') {
			CHECK(p + 1 == end);
			break;
		}
		CHECK(end - p >= 5 && memcmp(p, "    (", 5) == 0);
		char *after;
		double v = strtod(p + 5, &after);
		CHECK(v >= 0 && v <= 100);
		CHECK(end - after >= 7 && memcmp(after - 3, ".", 1) == 0);
		CHECK(memcmp(after, "/100%)\r", 7) == 0);
		p = after + 7;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result_store store;
	result_store_init(&store);
	char *ptext = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&ptext, &plen);
	CHECK(pf);
	struct progress prog;
	progress_init(&prog, pf, 1.0f);

	while (size >= 3) {
		uint8_t kind = data[0];
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		data += 3, size -= 3;
		if (len > size)
			len = size;
		if (kind & 1) {
			uint64_t v[2] = { 0, 0 };
			memcpy(v, data, len < sizeof(v) ? len : sizeof(v));
			/* Small totals as well as huge ones. */
			if (kind & 2)
				v[0] %= 1000, v[1] %= 1000;
			uint64_t before = prog.done;
			int ret = progress_report(&prog, v[0], v[1]);
			CHECK(ret == 0 || prog.done == before);
			CHECK(ret == -1 || (v[0] <= v[1] && v[0] >= before));
		} else {
			size_t old_len = store.len;
			uint32_t old_depth = store.depth;
			char why[160];
			if (result_store_add(&store, data, len, why, sizeof(why)) < 0) {
				CHECK(store.len == old_len && store.depth == old_depth);
				CHECK(why[0] != '\0');
			}
			CHECK(store.len <= HC_MAX_RESULT_BYTES);
			CHECK(store.depth <= HC_MAX_RESULT_DEPTH);
		}
		data += len, size -= len;
	}
	progress_end(&prog);
	fclose(pf);
	check_progress(ptext, plen);
	free(ptext);

	if (result_store_complete(&store)) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		CHECK(f);
		render_json(f, &store);
		fclose(f);
		check_json(text, len);
		free(text);
		/* The human tree of every top-level value: printable lines. */
		f = open_memstream(&text, &len);
		CHECK(f);
		for (size_t pos = 0; pos < store.len;) {
			size_t before = pos;
			struct result_rec rec;
			if (!render_human_tree(f, &store, &pos, 0))
				CHECK(result_store_next(&store, &pos, &rec));
			CHECK(pos > before);
		}
		fclose(f);
		for (size_t i = 0; i < len; i++)
			CHECK(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f) ||
			      (text[i] & 0x80));
		CHECK(len == 0 || text[len - 1] == '\n');
		free(text);
	}
	result_store_free(&store);
	return 0;
}
