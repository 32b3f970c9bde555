/*
 * QEMU's image locks (block/file-posix.c, QEMU 7.2), taken and respected on
 * file descriptors the host holds.  No image bytes are read.
 *
 * Every user of an image file holds OFD read locks on single bytes:
 * byte 100+i says "I use permission i", byte 200+i "I do not let anyone
 * else have permission i".  Opening tests the other side of each: a
 * permission it wants against 200+i, a permission it refuses to share
 * against 100+i.  See docs/locking.md for which bytes each opener takes.
 *
 * On a conflict the functions return -1 and put QEMU's text into `why`:
 * "Failed to get shared \"write\" lock" and, on a second line, the hint
 * "Is another process using the image [NAME]?".  The caller adds its
 * context in front ("Could not open 'x': ..."), as qemu-img does.
 */
#ifndef CORDON_HOST_IMAGE_LOCK_H
#define CORDON_HOST_IMAGE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

/* QEMU's BLK_PERM_* bits; the bit index is the lock byte's offset. */
enum image_perm {
	IMAGE_PERM_CONSISTENT_READ = 1u << 0,
	IMAGE_PERM_WRITE = 1u << 1,
	IMAGE_PERM_WRITE_UNCHANGED = 1u << 2,
	IMAGE_PERM_RESIZE = 1u << 3,
	IMAGE_PERM_ALL = 0xfu,
};

#define IMAGE_LOCK_PERM_BASE 100
#define IMAGE_LOCK_SHARED_BASE 200

/* Room for `why`: the message, and the hint with a name up to PATH_MAX. */
#define IMAGE_LOCK_WHY_MAX 4352

/*
 * Any file read as an image or backing file, whatever its format: consistent
 * read (byte 100), sharing everything.  Fails only if someone refuses to
 * share consistent read (byte 200) -- with or without -U, as qemu-img.
 */
int image_lock_input(int fd, const char *name, char *why, size_t why_len);

/*
 * Once the file is known to hold a format with metadata (qcow2, vmdk...,
 * not raw): nobody else may write or resize it (bytes 201, 203; refused if
 * 101 or 103 are held).  With force_share (-U) nothing is done.
 */
int image_lock_metadata(int fd, const char *name, bool force_share,
			char *why, size_t why_len);

/*
 * The output, in qemu-img's two steps.  create: raw_co_create (write and
 * resize, resize not shared; on failure qemu-img says "NAME: error while
 * creating output image: WHY").  open: then opened read-write (consistent
 * read and write; "Could not open 'NAME': WHY"), which drops the create
 * step's bytes.  check_only tests for conflicts without locking: for an
 * existing target that a temporary file will replace (an O_WRONLY fd
 * cannot hold read locks).
 */
int image_lock_output_create(int fd, const char *name, bool check_only,
			     char *why, size_t why_len);
int image_lock_output_open(int fd, const char *name, bool check_only,
			   char *why, size_t why_len);

#endif
