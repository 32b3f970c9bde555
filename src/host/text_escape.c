/* Escaping sandbox-chosen text for the terminal (see text_escape.h). */
#include "text_escape.h"

#include <stdbool.h>
#include <stdio.h>

#include "utf8.h"

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

size_t text_escape(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;
	if (size == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		size_t seq;
		int32_t cp = utf8_decode(s + i, len - i, &seq);
		/* C1 as a character (U+0080..U+009F) or as a stray byte. */
		bool escape = seq == 1 ? is_control(s[i]) : cp >= 0x80 && cp <= 0x9f;
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
