/*
 * The hostcall table: core's only way to reach anything outside itself.
 * It is passed in explicitly (no global).  Three servers implement it:
 * src/guest/hostcall_client.c (marshals into the mailbox of either sandbox),
 * tests/unit/memdev.c (in-memory devices for unit tests and fuzzers).
 *
 * Every call returns a non-negative result or a negative errno (CD_E*).
 * Buffers must come from core_alloc(): in a sandbox only the shared region
 * is visible to the host.
 */
#ifndef CORDON_CORE_HOSTCALL_H
#define CORDON_CORE_HOSTCALL_H

#include "rt.h"

struct hostcalls {
	void *ctx;
	/* Bytes read; short only at end of file. */
	int64_t (*read)(void *ctx, uint32_t dev, uint64_t off, void *buf,
			uint64_t len);
	int64_t (*write)(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			 uint64_t len);
	/* Host-side copy between devices; bytes copied, short at end of file. */
	int64_t (*copy)(void *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
			uint64_t dst_off, uint64_t len);
	int64_t (*size)(void *ctx, uint32_t dev);
	/* Sets the output's size (after create). */
	int64_t (*truncate)(void *ctx, uint32_t dev, uint64_t size);
	/* Length (<= len, > 0) of the run at off that is all data (*is_data = 1)
	 * or all hole (0).  At or past end of file: a hole of len. */
	int64_t (*extent)(void *ctx, uint32_t dev, uint64_t off, uint64_t len,
			  int *is_data);
	/* Asks the host to attach the backing file `name` (as written in the
	 * image on device from_dev; relative names are relative to that
	 * image's directory).  Returns the new input device, or -errno and a
	 * host note in *note saying why (see hostcall_abi.h: the reason stays
	 * with the host, core can only have it printed). */
	int64_t (*open_backing)(void *ctx, uint32_t from_dev, const char *name,
				size_t len, uint32_t *note);
	/* Takes QEMU's locks of `kind` (enum hc_lock_kind) on an input; 0, or
	 * -errno and the note explaining the conflict. */
	int64_t (*lock)(void *ctx, uint32_t dev, uint32_t kind, uint32_t *note);
	/* Creates the output, declaring its virtual size (the host caps what
	 * may be written from it); 0, or -errno and a note with the cause. */
	int64_t (*create)(void *ctx, uint32_t dev, uint64_t size, uint32_t *note);
	/* One line of text for the user, without the program-name prefix,
	 * followed by host note `note` (0: none). */
	void (*message)(void *ctx, uint32_t level, const char *text,
			size_t len, uint32_t note);
};

#endif
