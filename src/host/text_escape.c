/* Escaping sandbox-chosen text for the terminal (see text_escape.h). */
#include "text_escape.h"

#include <stdbool.h>
#include <stdio.h>

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

/*
 * The length of the well-formed UTF-8 character at s, or 1 where there is
 * none (a stray byte).  Strict, as RFC 3629: no overlong forms (which a
 * lax decoder could read as U+009B), no surrogates, nothing past U+10FFFF.
 */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 1;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n > left || s[1] < lo || s[1] > hi)
		return 1;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

size_t text_escape(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;
	if (size == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		size_t seq = utf8_len(s + i, len - i);
		/* C1 as a character (U+0080..U+009F) or as a stray byte. */
		bool escape = seq == 1 ? is_control(s[i]) : s[i] == 0xc2 && s[i + 1] <= 0x9f;
		size_t need = escape ? 4 * seq : seq;
		if (n + need >= size)
			break;
		for (size_t k = 0; k < seq; k++, i++) {
			if (escape) {
				snprintf(dst + n, 5, "\\x%02x", s[i]);
				n += 4;
			} else {
				dst[n++] = (char)s[i];
			}
		}
	}
	dst[n] = '\0';
	return n;
}
