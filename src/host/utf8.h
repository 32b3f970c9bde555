/*
 * Strict UTF-8 (RFC 3629), for the host's printing of sandbox-chosen text:
 * no overlong forms (which a lax decoder could read as U+009B, a C1
 * control), no surrogates, nothing past U+10FFFF.  text_escape.c and
 * render_json.c must agree on what a character is, so both use this.
 */
#ifndef CORDON_HOST_UTF8_H
#define CORDON_HOST_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The code point of the well-formed character at s (left > 0 bytes), and
 * its length in *len; -1 and *len = 1 where there is none (a stray byte,
 * so that decoding moves on). */
static inline int32_t utf8_decode(const uint8_t *s, size_t left, size_t *len)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t need = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		    : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	*len = 1;
	if (need == 0 || need > left)
		return -1;
	uint32_t cp = need == 1 ? s[0] : s[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = need;
	return (int32_t)cp;
}

#endif
