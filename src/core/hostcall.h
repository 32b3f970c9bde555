/*
 * The hostcall table: core's only way to reach anything outside itself.
 * It is passed in explicitly (no global).  Three servers implement it:
 * src/guest/hostcall_client.c (marshals into the mailbox of either sandbox),
 * tests/unit/memdev.c (in-memory devices for unit tests and fuzzers).
 *
 * Every call returns a non-negative result or a negative errno (CD_E*).
 * Buffers must come from core_alloc(): in a sandbox only the shared region
 * is visible to the host.  Devices are numbered as the job says
 * (src/abi/job.h), children after them.
 */
#ifndef CORDON_CORE_HOSTCALL_H
#define CORDON_CORE_HOSTCALL_H

#include "../abi/hostcall_abi.h"
#include "rt.h"

struct hostcalls {
	void *ctx;
	/* Bytes read; short only at end of file. */
	int64_t (*read)(void *ctx, uint32_t dev, uint64_t off, void *buf,
			uint64_t len);
	int64_t (*write)(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			 uint64_t len);
	/* As write, but the host may still be writing when it returns
	 * (HC_WRITE_BEHIND): buf stays unchanged until the next write_behind
	 * or settle returns.  A failure of the write before is told here
	 * (*earlier set; this one is not made) or by settle.  Use io.h's
	 * window, not this. */
	int64_t (*write_behind)(void *ctx, uint32_t dev, uint64_t off, const void *buf,
				uint64_t len, bool *earlier);
	/* Waits for the write behind: 0, or its -errno. */
	int64_t (*settle)(void *ctx);
	/* Host-side copy between devices; bytes copied, short at end of file
	 * (flags: HC_COPY_*, hostcall_abi.h). */
	int64_t (*copy)(void *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
			uint64_t dst_off, uint64_t len, uint32_t flags);
	int64_t (*size)(void *ctx, uint32_t dev);
	/* Bytes the device's file has allocated (qemu-img info's disk size:
	 * the host's fstat, never the image's word), or -errno. */
	int64_t (*allocated)(void *ctx, uint32_t dev);
	/* Creates an output, declaring its virtual size (the host caps what
	 * may be written from it); 0, or -errno and a note with the cause. */
	int64_t (*create)(void *ctx, uint32_t dev, uint64_t size, uint32_t *note);
	/* Sets an output's size (after create). */
	int64_t (*truncate)(void *ctx, uint32_t dev, uint64_t size);
	/* Data/hole runs of [off, off+len): up to max of them into runs, in
	 * order from off (at or past end of file: holes); how many. */
	int64_t (*extents)(void *ctx, uint32_t dev, uint64_t off, uint64_t len,
			   struct hc_extent *runs, uint32_t max);
	/* Asks the host to attach the file `name` that the image on from_dev
	 * holds, as a child of kind `kind` (enum hc_child_kind; relative names
	 * are relative to that image's directory).  Returns the new device, or
	 * -errno and a host note in *note saying why (hostcall_abi.h: the
	 * reason stays with the host, core can only have it printed). */
	int64_t (*open_child)(void *ctx, uint32_t from_dev, uint32_t kind,
			      const char *name, size_t len, uint32_t *note);
	/* Takes QEMU's locks of `kind` (enum hc_lock_kind) on an input; 0, or
	 * -errno and the note explaining the conflict. */
	int64_t (*lock)(void *ctx, uint32_t dev, uint32_t kind, uint32_t *note);
	/* An extra file for output dev (a VMDK extent), named by rule (enum
	 * hc_output_name) and index: its device, or -errno and a note. */
	int64_t (*add_output)(void *ctx, uint32_t dev, uint32_t rule, uint32_t index,
			      uint32_t *note);
	/* The device's display name into buf (at most len bytes, no NUL);
	 * returns its whole length, and the file's type (enum hc_file_type)
	 * in *type. */
	int64_t (*dev_info)(void *ctx, uint32_t dev, char *buf, size_t len,
			    uint32_t *type);
	/* Result records (hostcall_abi.h) for the host to render; 0. */
	int64_t (*result)(void *ctx, const void *records, size_t len);
	/* done of total units of work; 0. */
	int64_t (*progress)(void *ctx, uint64_t done, uint64_t total);
	/* One line of text for the user, without the program-name prefix,
	 * followed by host note `note` (0: none). */
	void (*message)(void *ctx, uint32_t level, const char *text,
			size_t len, uint32_t note);
};

#endif
