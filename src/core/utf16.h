/*
 * UTF-16 names stored in images (VHD parent names and locators, later
 * VHDX's), converted to the UTF-8 the host's path rules take.  Strict: a
 * lone surrogate or an embedded NUL is an error, never passed on.
 */
#ifndef CORDON_CORE_UTF16_H
#define CORDON_CORE_UTF16_H

#include "rt.h"

/*
 * Converts len bytes of UTF-16 (big- or little-endian; a trailing run of
 * NUL code units ends the text) to NUL-terminated UTF-8 in out.  Returns
 * the UTF-8 length, or -CD_EINVAL (not well-formed, odd length, a NUL
 * inside) or -CD_ENAMETOOLONG (does not fit out_len with its NUL).
 */
int utf16_to_utf8(const uint8_t *p, size_t len, bool big_endian, char *out,
		  size_t out_len);

/* A Windows path stored as UTF-16 (VHD locators and parent names, VHDX
 * parent locators): as utf16_to_utf8, with '\\' made '/'; an empty name is
 * -CD_EINVAL. */
int utf16_path_to_utf8(const uint8_t *p, size_t len, bool big_endian, char *out,
		       size_t out_len);

#endif
