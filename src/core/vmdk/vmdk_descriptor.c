/*
 * The text descriptor, read as qemu 7.2 reads it.  qemu does not parse the
 * descriptor as VMware's grammar says: it runs strstr() over the text for
 * each key it wants and sscanf() from the start of each line for extents.
 * Images are opened or refused by what those calls find, so they are
 * reproduced here, down to glibc's sscanf rules (conversions skip white
 * space, newlines included, so one "line" may read on into the next; a
 * file name longer than 511 bytes is cut and still accepted).
 *
 * Every function reads a C string text[0..len) (text[len] is 0, and the
 * string may end earlier at a NUL, as qemu's does) and never past it.
 */
#include "vmdk.h"

/* C's isspace() in the C locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* strstr() over the C string: the needle's offset, or len when absent. */
static size_t find(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle), end = strnlen(text, len);
	for (size_t i = 0; n <= end && i <= end - n; i++)
		if (memcmp(text + i, needle, n) == 0)
			return i;
	return len;
}

bool vmdk_desc_value(const char *text, size_t len, const char *key, char *out,
		     size_t out_max)
{
	size_t end = strnlen(text, len);
	size_t at = find(text, len, key);
	if (at == len)
		return false;
	/* qemu skips the key and two characters it assumes are =" */
	size_t from = at + strlen(key) + 2;
	if (from >= end)
		return false;
	size_t to = from;
	while (to < end && text[to] != '"')
		to++;
	if (to == end || out_max < to - from + 1)
		return false;
	memcpy(out, text + from, to - from);
	out[to - from] = '\0';
	return true;
}

/* ---- glibc's sscanf, for the conversions qemu uses ---------------------- */

struct scan {
	const char *s;
	size_t pos, end; /* s[end] is where the string stops (a NUL or len) */
};

static char peek(const struct scan *sc)
{
	return sc->pos < sc->end ? sc->s[sc->pos] : '\0';
}

static void skip_space(struct scan *sc)
{
	while (is_space(peek(sc)))
		sc->pos++;
}

/* %Ns: after white space, 1..width non-space characters. */
static bool scan_word(struct scan *sc, char *out, size_t width)
{
	skip_space(sc);
	size_t n = 0;
	while (n < width && peek(sc) && !is_space(peek(sc)))
		out[n++] = sc->s[sc->pos++];
	out[n] = '\0';
	return n > 0;
}

/* %lld: after white space, a sign and decimal digits; out of range
 * saturates, as strtoll does. */
static bool scan_int64(struct scan *sc, int64_t *out)
{
	skip_space(sc);
	bool neg = false;
	if (peek(sc) == '+' || peek(sc) == '-') {
		neg = peek(sc) == '-';
		sc->pos++;
	}
	if (!is_digit(peek(sc)))
		return false;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	bool over = false;
	while (is_digit(peek(sc))) {
		uint64_t d = (uint64_t)(sc->s[sc->pos++] - '0');
		if (v > (limit - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		v = limit;
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return true;
}

/* %511[^\n\r"]: no white space skipped, 1..511 characters. */
static bool scan_fname(struct scan *sc, char *out, size_t *out_len)
{
	size_t n = 0;
	for (char c = peek(sc); n < VMDK_FNAME_MAX && c && c != '\n' && c != '\r' && c != '"';
	     c = peek(sc))
		out[n++] = sc->s[sc->pos++];
	out[n] = '\0';
	*out_len = n;
	return n > 0;
}

static bool scan_char(struct scan *sc, char c)
{
	if (peek(sc) != c)
		return false;
	sc->pos++;
	return true;
}

bool vmdk_desc_cid(const char *text, size_t len, bool parent, uint32_t *cid)
{
	const char *key = parent ? "parentCID" : "CID";
	size_t at = find(text, len, key);
	if (at == len)
		return false;
	/* sizeof(key): one character past it, which may be past the string's
	 * NUL (qemu's sscanf then reads the rest of its buffer) */
	struct scan sc = { .s = text, .pos = at + strlen(key) + 1, .end = len };
	if (sc.pos >= len)
		return false;
	sc.end = sc.pos + strnlen(text + sc.pos, len - sc.pos);
	skip_space(&sc);
	bool neg = false;
	if (peek(&sc) == '+' || peek(&sc) == '-') {
		neg = peek(&sc) == '-';
		sc.pos++;
	}
	bool digits = false;
	if (peek(&sc) == '0') {
		digits = true;
		sc.pos++;
		if (peek(&sc) == 'x' || peek(&sc) == 'X')
			sc.pos++;
	}
	uint64_t v = 0;
	bool over = false;
	for (int d; (d = hex_value(peek(&sc))) >= 0; sc.pos++) {
		digits = true;
		if (v >> 60)
			over = true;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return false;
	/* strtoul, then the store into an unsigned int */
	if (over)
		v = UINT64_MAX;
	else if (neg)
		v = (uint64_t)0 - v;
	*cid = (uint32_t)v;
	return true;
}

int vmdk_desc_parent_hint(const char *buf, size_t buf_len, const char **name,
			  size_t *name_len)
{
	static const char key[] = "parentFileNameHint";
	size_t at = find(buf, buf_len, key);
	if (at == buf_len)
		return 0;
	/* sizeof(key) + 1: the key, '=' and '"', unchecked */
	size_t from = at + sizeof(key) + 1, to = from;
	while (to < buf_len && buf[to] && buf[to] != '"')
		to++;
	if (to >= buf_len || buf[to] != '"' || to - from > VMDK_HINT_MAX)
		return -1;
	*name = buf + from;
	*name_len = to - from;
	return 1;
}

size_t vmdk_desc_next_line(const char *text, size_t end, size_t pos)
{
	while (pos < end)
		if (text[pos++] == '\n')
			return pos;
	return end;
}

size_t vmdk_desc_skip_space(const char *text, size_t end, size_t pos)
{
	while (pos < end && is_space(text[pos]))
		pos++;
	return pos;
}

static bool type_is(const char *t, const char *name)
{
	return strcmp(t, name) == 0;
}

enum vmdk_line vmdk_desc_extent_line(const char *text, size_t end, size_t pos,
				     struct vmdk_desc_extent *e)
{
	char access[11], type[11];
	struct scan sc = { .s = text, .pos = pos, .end = end };
	int64_t sectors = 0, flat_offset = -1;
	int matches = 0;

	/* sscanf(p, "%10s %lld %10s \"%511[^\n\r\"]\" %lld", ...) */
	if (scan_word(&sc, access, 10)) {
		matches++;
		if (scan_int64(&sc, &sectors)) {
			matches++;
			if (scan_word(&sc, type, 10)) {
				matches++;
				skip_space(&sc);
				if (scan_char(&sc, '"') && scan_fname(&sc, e->fname, &e->fname_len)) {
					matches++;
					if (scan_char(&sc, '"') && scan_int64(&sc, &flat_offset))
						matches++;
				}
			}
		}
	}
	size_t next = vmdk_desc_next_line(text, end, pos);
	e->line_len = next - pos - (next > pos && text[next - 1] == '\n');

	if (matches < 4 || strcmp(access, "RW") != 0)
		return VMDK_LINE_SKIP;
	if (type_is(type, "FLAT")) {
		if (matches != 5 || flat_offset < 0)
			return VMDK_LINE_INVALID;
	} else if (type_is(type, "VMFS")) {
		if (matches != 4)
			return VMDK_LINE_INVALID;
		flat_offset = 0;
	} else if (matches != 4) {
		return VMDK_LINE_INVALID;
	}
	if (sectors <= 0)
		return VMDK_LINE_SKIP;
	if (type_is(type, "FLAT"))
		e->type = VMDK_EXT_FLAT;
	else if (type_is(type, "SPARSE"))
		e->type = VMDK_EXT_SPARSE;
	else if (type_is(type, "VMFS"))
		e->type = VMDK_EXT_VMFS;
	else if (type_is(type, "VMFSSPARSE"))
		e->type = VMDK_EXT_VMFSSPARSE;
	else if (type_is(type, "SESPARSE"))
		e->type = VMDK_EXT_SESPARSE;
	else
		return VMDK_LINE_SKIP;
	e->sectors = sectors;
	e->flat_offset = flat_offset;
	return VMDK_LINE_EXTENT;
}
