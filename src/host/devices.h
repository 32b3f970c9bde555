/*
 * The files a run may touch, as the host holds them.  Inputs are opened
 * read-only before the sandbox starts; the output is created on the first
 * truncate hostcall (so that errors come in qemu-img's order) as a temporary
 * file beside the target, renamed over it only when the run succeeds.
 */
#ifndef CORDON_HOST_DEVICES_H
#define CORDON_HOST_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../abi/hostcall_abi.h"

enum dev_role {
	DEV_ROLE_NONE = 0,
	DEV_ROLE_INPUT,  /* read, size, extent, copy source */
	DEV_ROLE_OUTPUT, /* write, truncate, size, copy destination */
};

struct host_device {
	int fd;             /* -1 while closed (the output until created) */
	enum dev_role role;
	const char *name;   /* as the user typed it (or as an image named it,
			     * joined to that image's directory), for messages */
	char *owned_name;   /* name, when this struct owns it (backing files) */
	char *real_dir;     /* resolved directory of the opened file: where
			     * the files it names may be (inputs only) */
	dev_t st_dev;       /* identity of the opened file: loops, in == out */
	ino_t st_ino;
	uint32_t depth;     /* 0 for the input, n for its n-th backing file */
};

#define BACKING_ALLOW_MAX 16u

struct host_output {
	const char *path;   /* the user's of= */
	char *target;       /* path written: of= with a final symlink followed */
	char *tmp_path;     /* temporary file we created, NULL if writing in place */
	bool is_regular;    /* target is (or will be) a regular file */
	bool existed;       /* target existed before the run */
	int deny_errno;     /* the target exists but may not be written */
	mode_t mode;        /* to give the new file the old one's permissions */
	mode_t create_mode; /* a new file's mode: 0644 less the umask, as qemu */
	uid_t uid;
	gid_t gid;
};

struct host_devices {
	struct host_device dev[HC_MAX_DEVICES];
	uint32_t count;
	char *allow[BACKING_ALLOW_MAX]; /* --backing-allow, resolved */
	uint32_t n_allow;
	bool force_share;   /* -U: QEMU's metadata locks are not taken */
	struct host_output out;
};

/* Sets up dev[CORDON_DEV_OUTPUT] (not yet created) and dev[CORDON_DEV_INPUT]
 * (opened now).  On failure prints qemu-img's message and returns -1. */
int devices_open_input(struct host_devices *d, const char *in_path);
/* Checks the output target (same file as input, writability); does not create. */
int devices_prepare_output(struct host_devices *d, const char *out_path);
/* Creates the output on first use; -errno on failure. */
int devices_create_output(struct host_devices *d);
/* Success: flush and move the temporary file into place.  -1 on failure
 * (message printed). */
int devices_commit_output(struct host_devices *d);
/* Failure: remove what this run created; leave an existing target alone. */
void devices_abort_output(struct host_devices *d);
void devices_close(struct host_devices *d);

/* The resolved path of what fd has open (via /proc/self/fd: "..", symlinks
 * and renames since are all accounted for); 0, or -1 with errno set. */
int devices_real_path(int fd, char real[PATH_MAX]);
/* Its directory, malloc'd, or NULL with errno set. */
char *devices_real_dir(int fd);

#endif
