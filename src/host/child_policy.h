/*
 * Which child files a sandbox may have: backing files and a VMDK
 * descriptor's extent files.  The sandbox names a file (as written in an
 * image: any bytes at all); the host decides, without ever open()ing an
 * unchecked path:
 *
 *   - the name is joined to the naming image's directory as qemu does, and
 *     the result must lie in that directory itself (not below it), or below
 *     a --backing-allow directory;
 *   - no component the name adds may start with '.' (".ssh/id_rsa",
 *     "../.." past the image's directory), none may be in /proc, /sys, /dev;
 *   - it is resolved with openat2(O_PATH, RESOLVE_BENEATH |
 *     RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) relative to that directory's
 *     descriptor, so no symlink or mount leads out of it, and nothing is
 *     opened (no FIFO, device or FUSE open) before its type is known;
 *   - it must be a regular file, not an output; a backing file also not
 *     already in the chain and at most HC_MAX_BACKING_DEPTH links deep; an
 *     image names at most HC_MAX_EXTENT_FILES extent files.  Only then is
 *     that very inode reopened read-only.
 *
 * A refusal gives the sandbox one error, -EACCES, whatever the reason; the
 * reason (qemu-img's words, or the rule) goes into a note for the user.
 */
#ifndef CORDON_HOST_CHILD_POLICY_H
#define CORDON_HOST_CHILD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "devices.h"

/* Adds a directory images may name files in, and below it; -1 with a
 * message if it is not a directory. */
int backing_allow_dir(struct host_devices *d, const char *dir);

/*
 * Attaches `name` (len bytes from the sandbox) as a new readable device, a
 * child of kind `kind` (enum hc_child_kind) of the image on from_dev, which
 * must be readable.  Returns the device number, or -1 with the reason in
 * note (NUL-terminated, printable: sandbox-chosen bytes escaped).  The file
 * gets QEMU's read lock like any input.
 */
int64_t child_attach(struct host_devices *d, uint32_t from_dev, uint32_t kind,
		     const char *name, size_t len, char *note, size_t note_len);

#endif
