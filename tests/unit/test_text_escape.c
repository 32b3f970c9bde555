/* Escaping sandbox-chosen text (src/host/text_escape.c): what a terminal
 * could take as a control is written as \xNN, everything else stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/host/text_escape.h"

static void check(const char *in, size_t len, const char *want)
{
	char out[256];
	size_t n = text_escape(out, sizeof(out), in, len);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void controls_are_escaped(void **state)
{
	(void)state;
	check("plain text, 'quoted' / path", 27, "plain text, 'quoted' / path");
	check("a\nb", 3, "a\\x0ab");
	check("\x1b[2J\r\t\x7f", 7, "\\x1b[2J\\x0d\\x09\\x7f");
	check("nul\0byte", 8, "nul\\x00byte");
	/* C1: as single bytes (8-bit terminals) and as UTF-8 (U+009B). */
	check("\x9b" "31m", 4, "\\x9b31m");
	check("\xc2\x9b" "31m", 5, "\\xc2\\x9b31m");
	check("\xc2\x9d" "0;title\x07", 10, "\\xc2\\x9d0;title\\x07");
}

static void other_utf8_stays(void **state)
{
	(void)state;
	check("caf\xc3\xa9", 5, "caf\xc3\xa9");
	/* Characters whose bytes include 0x80-0x9f are still characters. */
	check("\xe2\x82\xac \xe6\x97\xa5 \xd1\x80", 10, "\xe2\x82\xac \xe6\x97\xa5 \xd1\x80");
	/* An overlong U+009B, and a truncated character: stray bytes. */
	check("\xe0\x82\x9b", 3, "\xe0\\x82\\x9b");
	check("\xe6\x97", 2, "\xe6\\x97");
	check("\xc2\xa0nbsp", 6, "\xc2\xa0nbsp"); /* U+00A0 is not a control */
	check("\xc2", 1, "\xc2");                 /* a lone lead byte */
}

static void output_is_cut_whole(void **state)
{
	(void)state;
	char out[8];
	/* Room for "ab" and one escape, not half of the second. */
	assert_int_equal(text_escape(out, sizeof(out), "ab\n\n", 4), 6);
	assert_string_equal(out, "ab\\x0a");
	assert_int_equal(text_escape(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(controls_are_escaped),
		cmocka_unit_test(other_utf8_stays),
		cmocka_unit_test(output_is_cut_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
