/*
 * The output file of a run.  Everything about the target is decided before
 * the sandbox starts, with the kernel's own verdicts: the target is opened
 * the way qemu-img opens it (so permissions, fs.protected_symlinks and
 * fs.protected_regular answer as they would for qemu-img), and for a
 * regular file a temporary file is created beside the file the name really
 * leads to.  The sandbox then creates the output (HC_OP_CREATE) with its
 * virtual size; only then may it be written, and never past the size that
 * virtual size and the output format allow.  On success the temporary file
 * is renamed over the target; on failure, or on SIGINT/SIGTERM/SIGHUP, it
 * is removed: an existing file is never destroyed by a failed run.
 *
 * A failure found while preparing (no such directory, permission denied) is
 * kept and reported when the sandbox creates the output, so that errors come
 * in qemu-img's order: input first.
 */
#ifndef CORDON_HOST_OUTPUT_H
#define CORDON_HOST_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum output_kind {
	OUTPUT_REPLACE,  /* a regular file, new or existing: temporary + rename */
	OUTPUT_IN_PLACE, /* a block or character device: written in place */
	OUTPUT_FIFO,     /* a FIFO: qemu-img opens it, then cannot resize it */
};

#define OUTPUT_TMP_NAME_MAX 32

struct host_output {
	const char *path;       /* of= as typed (or derived from it), for messages */
	char *owned_path;       /* path, when this struct owns it */
	const char *fmt;        /* the output format the job asks for */
	uint64_t max_virtual;   /* the largest virtual size the job can produce */
	enum output_kind kind;
	int prep_errno;         /* why it cannot be created (reported at create) */
	int dir_fd;             /* REPLACE: O_PATH of the directory it lands in */
	char *base;             /* REPLACE: its name in that directory */
	char tmp[OUTPUT_TMP_NAME_MAX]; /* REPLACE: the temporary's name, "" if none */
	int tmp_slot;           /* its entry in host_signals' table, or -1 */
	int fd;                 /* the file written (temporary or device), or -1 */
	int place_fd;           /* IN_PLACE: O_PATH of the device, opened at create */
	bool created;           /* the sandbox has created it */
	uint64_t cap;           /* once created: no byte at or past this */
	dev_t st_dev;           /* identity of the file being written */
	ino_t st_ino;
	bool existed;           /* the target existed before the run */
	bool must_exist;        /* dd -n (Proxmox): written in place, never made */
	bool no_flush;          /* cache mode unsafe: no fdatasync at commit, no
				 * early writeback (convert's default, as qemu) */
	mode_t mode;            /* the old file's permissions, kept */
	uid_t uid;
	gid_t gid;
};

struct host_devices;

void output_init(struct host_output *o);
/*
 * Looks at `path` before the run: refuses (message printed, -1) only what
 * qemu-img could not start with either -- the input itself as the output, a
 * target a running QEMU holds locked.  Anything else that will fail is kept
 * for output_create.  For a regular target the temporary file is created
 * here, removed again by output_abort.
 */
int output_prepare(struct host_devices *d, struct host_output *o, const char *path,
		   const char *fmt, uint64_t max_virtual);
/* dd -n: the target must exist, and is written in place (a regular file as
 * a device is), never truncated or renamed over.  As output_prepare(). */
int output_prepare_existing(struct host_devices *d, struct host_output *o, const char *path,
			    const char *fmt, uint64_t max_virtual);
/*
 * The sandbox creates output device dev with virtual size `size`: 0, or
 * -errno with qemu-img's words for the cause in note.  Sets its cap.
 */
int output_create(struct host_devices *d, uint32_t dev, uint64_t size, char *note,
		  size_t note_len);
/* Success: flush and move into place.  -1 on failure (message printed). */
int output_commit(struct host_output *o);
/* Failure: remove what this run created; an existing target is untouched. */
void output_abort(struct host_output *o);
void output_close(struct host_output *o);

#endif
