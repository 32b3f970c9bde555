/*
 * Checks of what the host renders from result records, shared by the
 * targets that render them (fuzz_result_render, fuzz_info_render), each
 * written apart from the renderers so that a renderer's mistake cannot be
 * repeated by its check:
 *
 *   check_json()   a sequence of valid JSON values, one a line (the RFC
 *                  8259 subset qemu's JSON writer emits), ASCII only
 *   check_human()  text a terminal cannot take for a control (see
 *                  src/host/text_escape.h for the policy it holds to)
 */
#ifndef CORDON_FUZZ_RENDER_CHECK_H
#define CORDON_FUZZ_RENDER_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef CHECK
#define CHECK(c) do { if (!(c)) abort(); } while (0)
#endif

/* ---- an independent JSON checker --------------------------------------- */

struct json_parser {
	const char *p, *end;
	int depth;
};

static inline void json_ws(struct json_parser *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n'))
		s->p++;
}

static inline bool json_lit(struct json_parser *s, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	s->p += n;
	return true;
}

static inline bool json_hex4(const char *p)
{
	for (int i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'F')))
			return false;
	return true;
}

static inline bool json_string(struct json_parser *s)
{
	if (!json_lit(s, "\""))
		return false;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\') {
			s->p++;
			if (s->p >= s->end)
				return false;
			if (*s->p == 'u') {
				if (s->end - s->p < 5 || !json_hex4(s->p + 1))
					return false;
				s->p += 5;
				continue;
			}
			if (!strchr("\"\\bfnrt", *s->p))
				return false;
		}
		s->p++;
	}
	return json_lit(s, "\"");
}

static inline bool json_number(struct json_parser *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	const char *start = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	size_t n = (size_t)(s->p - start);
	return n > 0 && (n == 1 || *start != '0');
}

static inline bool json_value(struct json_parser *s);

/* The container's end, if it comes next. */
static inline bool json_closes(struct json_parser *s, char close)
{
	json_ws(s);
	if (s->p >= s->end || *s->p != close)
		return false;
	s->p++;
	s->depth--;
	return true;
}

static inline bool json_members(struct json_parser *s, char close, bool keyed)
{
	if (++s->depth > 64)
		return false;
	if (json_closes(s, close))
		return true;
	for (;;) {
		json_ws(s);
		if (keyed && !(json_string(s) && json_lit(s, ": ")))
			return false;
		if (!json_value(s))
			return false;
		if (json_closes(s, close))
			return true;
		if (!json_lit(s, ","))
			return false;
	}
}

static inline bool json_value(struct json_parser *s)
{
	json_ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{': s->p++; return json_members(s, '}', true);
	case '[': s->p++; return json_members(s, ']', false);
	case '"': return json_string(s);
	case 't': return json_lit(s, "true");
	case 'f': return json_lit(s, "false");
	default: return json_number(s);
	}
}

static inline void check_json(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
	struct json_parser s = { text, text + len, 0 };
	while (s.p < s.end) {
		CHECK(json_value(&s));
		CHECK(json_lit(&s, "\n"));
	}
}

/* ---- human text --------------------------------------------------------- */

/* The length of the well-formed UTF-8 character at s (RFC 3629's table of
 * byte ranges, not a decoder's arithmetic), 0 where none starts. */
static inline size_t utf8_char_len(const unsigned char *s, size_t left)
{
	static const struct { unsigned char lo[4], hi[4]; size_t n; } forms[] = {
		{ { 0xc2, 0x80 }, { 0xdf, 0xbf }, 2 },
		{ { 0xe0, 0xa0, 0x80 }, { 0xe0, 0xbf, 0xbf }, 3 },
		{ { 0xe1, 0x80, 0x80 }, { 0xec, 0xbf, 0xbf }, 3 },
		{ { 0xed, 0x80, 0x80 }, { 0xed, 0x9f, 0xbf }, 3 },
		{ { 0xee, 0x80, 0x80 }, { 0xef, 0xbf, 0xbf }, 3 },
		{ { 0xf0, 0x90, 0x80, 0x80 }, { 0xf0, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf1, 0x80, 0x80, 0x80 }, { 0xf3, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf4, 0x80, 0x80, 0x80 }, { 0xf4, 0x8f, 0xbf, 0xbf }, 4 },
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		size_t k = 0;
		while (k < forms[f].n && k < left && s[k] >= forms[f].lo[k] &&
		       s[k] <= forms[f].hi[k])
			k++;
		if (k == forms[f].n)
			return k;
	}
	return 0;
}

/*
 * Lines, the last one ended, holding no terminal control: no C0 byte but
 * the newline, no DEL, no C1 -- neither as a character (U+0080..U+009F,
 * "\xc2\x80".."\xc2\x9f") nor as a byte 0x80..0x9f outside a well-formed
 * character, as an 8-bit terminal would take it.  Names may hold any
 * other byte: well-formed characters print as they are, and so do stray
 * bytes 0xa0..0xff, which no terminal takes for a control.
 */
static inline void check_human(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		size_t n = s[i] >= 0x80 ? utf8_char_len(s + i, len - i) : 0;
		if (n == 0) {
			CHECK(s[i] == '\n' || (s[i] >= 0x20 && s[i] != 0x7f &&
						!(s[i] >= 0x80 && s[i] <= 0x9f)));
			i++;
			continue;
		}
		CHECK(!(s[i] == 0xc2 && s[i + 1] <= 0x9f));
		i += n;
	}
	CHECK(len == 0 || text[len - 1] == '\n');
}

#endif
