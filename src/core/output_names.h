/*
 * The names of the extra files of a multi-file output, as qemu makes them
 * (block/vmdk.c, vmdk_co_create_opts_cb): of= is split into its directory
 * (through the last '/', '\\' or ':'), a prefix (the base name up to its last
 * '.') and a postfix (from that '.' on); extent n of a split image is
 * prefix-sNNN or prefix-fNNN (sparse or flat extents), the one flat extent
 * of a monolithicFlat image prefix-flat, each followed by the postfix.  The
 * host names the files it creates with this, and core writes the same names
 * into the image's descriptor: one rule for both.
 */
#ifndef CORDON_CORE_OUTPUT_NAMES_H
#define CORDON_CORE_OUTPUT_NAMES_H

#include "../abi/hostcall_abi.h"
#include "rt.h"

/* Where base's directory part ends (0: none) and where its postfix starts
 * (its length: none). */
static inline void output_name_parts(const char *base, size_t *dir_len, size_t *dot)
{
	size_t n = strlen(base), d = 0;
	for (size_t i = n; i > 0; i--)
		if (base[i - 1] == '/') {
			d = i;
			break;
		}
	for (size_t i = n; d == 0 && i > 0; i--)
		if (base[i - 1] == '\\') {
			d = i;
			break;
		}
	for (size_t i = n; d == 0 && i > 0; i--)
		if (base[i - 1] == ':') {
			d = i;
			break;
		}
	*dir_len = d;
	*dot = n;
	for (size_t i = n; i > d; i--)
		if (base[i - 1] == '.') {
			*dot = i - 1;
			break;
		}
}

/* The name of extra file `index` (1-based) of kind `rule` (enum
 * hc_output_name) for the output named base, without (with_dir false) or
 * with its directory.  Returns what snprintf returns. */
static inline int output_name(char *dst, size_t size, const char *base, uint32_t rule,
			      uint32_t index, int with_dir)
{
	size_t dir, dot;
	output_name_parts(base, &dir, &dot);
	const char *from = with_dir ? base : base + dir;
	int keep = (int)(dot - (with_dir ? 0 : dir));
	if (rule == HC_NAME_FLAT)
		return snprintf(dst, size, "%.*s-flat%s", keep, from, base + dot);
	return snprintf(dst, size, "%.*s-%c%03u%s", keep, from,
			rule == HC_NAME_SPLIT_FLAT ? 'f' : 's', index, base + dot);
}

#endif
