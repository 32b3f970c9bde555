/*
 * Which backing files a sandbox may have.  The sandbox names a file (as
 * written in an image header); the host decides, never trusting the name:
 * by default only regular files inside the directory of the image that
 * names them (after resolving "..", and symlinks, of the file actually
 * opened), or inside a --backing-allow directory; at most
 * HC_MAX_BACKING_DEPTH links; never a file already in the chain.
 */
#ifndef CORDON_HOST_BACKING_POLICY_H
#define CORDON_HOST_BACKING_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "devices.h"

/* Adds a directory images may name files in (resolved now); -1 with a
 * message if it is not a directory. */
int backing_allow_dir(struct host_devices *d, const char *dir);

/*
 * Attaches `name` (len bytes, from the sandbox: any bytes at all) as a new
 * input device for the image on from_dev.  Returns the device number, or
 * -errno with *rule set (enum hc_backing_rule); for HC_BACKING_LOCKED, qemu's
 * explanation is in why.  The file gets QEMU's read lock like any input.
 */
int64_t backing_attach(struct host_devices *d, uint32_t from_dev,
		       const char *name, size_t len, uint32_t *rule,
		       char *why, size_t why_len);

#endif
