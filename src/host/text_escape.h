/*
 * Text the sandbox chose, made safe to print: a line from core, a backing
 * file name an image holds.  Every byte a terminal could take as a control
 * -- C0 (< 0x20, newline included), DEL, and C1 both as single bytes
 * (0x80-0x9f: CSI is 0x9b on an 8-bit terminal) and as their UTF-8
 * encodings (0xc2 0x80-0x9f) -- is written as \xNN, so one message is one
 * line and cannot move the cursor, set a title or forge another line.
 * Well-formed UTF-8 characters other than U+0080..U+009F are printed as
 * they are (names in any script read as in qemu-img's messages); a byte in
 * 0x80..0x9f that is not inside one, or inside an overlong form, is a C1
 * control to an 8-bit terminal and is escaped.
 */
#ifndef CORDON_HOST_TEXT_ESCAPE_H
#define CORDON_HOST_TEXT_ESCAPE_H

#include <stddef.h>

/* Worst case: every byte becomes four. */
#define TEXT_ESCAPE_SIZE(len) (4 * (len) + 1)

/* Writes the escaped form of src[0..len) into dst (NUL-terminated, cut at
 * size - 1 bytes, never inside an escape); returns its length. */
size_t text_escape(char *dst, size_t size, const char *src, size_t len);

#endif
