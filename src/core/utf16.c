/* UTF-16 to UTF-8 (see utf16.h). */
#include "utf16.h"

#include "errno_codes.h"

static uint32_t unit_at(const uint8_t *p, size_t i, bool be)
{
	return be ? (uint32_t)p[2 * i] << 8 | p[2 * i + 1]
		  : (uint32_t)p[2 * i + 1] << 8 | p[2 * i];
}

static int put_utf8(uint32_t cp, char *out, size_t out_len, size_t *at)
{
	uint8_t b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (out_len - *at <= n) /* room for the NUL too */
		return -CD_ENAMETOOLONG;
	memcpy(out + *at, b, n);
	*at += n;
	return 0;
}

int utf16_to_utf8(const uint8_t *p, size_t len, bool big_endian, char *out,
		  size_t out_len)
{
	if (len % 2 || out_len == 0)
		return -CD_EINVAL;
	size_t units = len / 2;
	while (units > 0 && unit_at(p, units - 1, big_endian) == 0)
		units--;
	size_t at = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t u = unit_at(p, i, big_endian), cp = u;
		if (u == 0 || (u >= 0xdc00 && u <= 0xdfff))
			return -CD_EINVAL;
		if (u >= 0xd800 && u <= 0xdbff) {
			uint32_t lo = i + 1 < units ? unit_at(p, i + 1, big_endian) : 0;
			if (lo < 0xdc00 || lo > 0xdfff)
				return -CD_EINVAL;
			cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			i++;
		}
		int ret = put_utf8(cp, out, out_len, &at);
		if (ret < 0)
			return ret;
	}
	out[at] = '\0';
	return (int)at;
}

int utf16_path_to_utf8(const uint8_t *p, size_t len, bool big_endian, char *out,
		       size_t out_len)
{
	int n = utf16_to_utf8(p, len, big_endian, out, out_len);
	if (n <= 0)
		return n < 0 ? n : -CD_EINVAL;
	for (int i = 0; i < n; i++)
		if (out[i] == '\\')
			out[i] = '/';
	return n;
}
