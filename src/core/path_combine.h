/*
 * qemu's path_combine() (util/cutils.c): a relative name an image holds is
 * relative to the directory of that image's name as given, so "b.raw" named
 * by "img/a.qcow2" is "img/b.raw"; an absolute name stands alone.  Core
 * (names in messages) and the host (which files to open) both join names
 * with this, so that the file opened is the file named in messages.
 */
#ifndef CORDON_CORE_PATH_COMBINE_H
#define CORDON_CORE_PATH_COMBINE_H

#include <stddef.h>

/* How many leading bytes of base come before name: through base's last
 * '/', or none when name is absolute (or base has no directory part). */
static inline size_t path_combine_prefix(const char *base, const char *name)
{
	size_t keep = 0;
	if (name[0] == '/')
		return 0;
	for (size_t i = 0; base[i]; i++)
		if (base[i] == '/')
			keep = i + 1;
	return keep;
}

#endif
