/*
 * The files a run may touch, as the host holds them: inputs opened
 * read-only before the sandbox starts (backing files when the sandbox names
 * them, under backing_policy.c), the output prepared by output.c, and the
 * directories names are resolved in.  Every name that comes from an image is
 * resolved relative to one of these directory descriptors with openat2(),
 * never by open() on a path.
 */
#ifndef CORDON_HOST_DEVICES_H
#define CORDON_HOST_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../abi/hostcall_abi.h"
#include "output.h"

enum dev_role {
	DEV_ROLE_NONE = 0,
	DEV_ROLE_INPUT,  /* read, size, extent, copy source */
	DEV_ROLE_OUTPUT, /* write, truncate, size, copy destination */
};

/* A directory held open (O_PATH) for resolving names beneath it. */
struct host_dir {
	int fd;
	char *real; /* its path as the kernel resolves it (no symlinks, no ..);
		    * NULL without /proc */
};

struct host_device {
	int fd;             /* -1 while closed (the output until created) */
	enum dev_role role;
	const char *name;   /* as the user typed it (or as an image named it,
			     * joined to that image's name), for messages */
	char *owned_name;   /* name, when this struct owns it (backing files) */
	int dir;            /* inputs: index in dirs[] of the directory the
			     * image is named in, where the names it holds are
			     * resolved; -1 for the output */
	dev_t st_dev;       /* identity of the opened file: loops, in == out */
	ino_t st_ino;
	uint32_t depth;     /* 0 for the input, n for its n-th backing file */
};

#define BACKING_ALLOW_MAX 16u
#define HOST_DIRS_MAX (HC_MAX_DEVICES + BACKING_ALLOW_MAX)

struct host_devices {
	struct host_device dev[HC_MAX_DEVICES];
	uint32_t count;
	struct host_dir dirs[HOST_DIRS_MAX];
	uint32_t n_dirs;
	uint32_t allow[BACKING_ALLOW_MAX]; /* --backing-allow: indexes in dirs[] */
	uint32_t n_allow;
	bool backing_none;  /* --backing-allow=none: every backing file refused */
	int proc_fd;        /* /proc/self/fd (O_PATH), -1 without /proc */
	bool force_share;   /* -U: QEMU's metadata locks are not taken */
	struct host_output out;
};

/* An empty table: no devices, nothing open. */
void devices_init(struct host_devices *d);
/* Sets up dev[CORDON_DEV_OUTPUT] (prepared later, created by the sandbox's
 * create hostcall) and dev[CORDON_DEV_INPUT] (opened now).  On failure
 * prints qemu-img's message and returns -1. */
int devices_open_input(struct host_devices *d, const char *in_path);
/* Removes whatever output this run created and closes everything. */
void devices_close(struct host_devices *d);

/* Holds dir_fd (taken over) as a directory; its index, or -1 (closed). */
int devices_add_dir(struct host_devices *d, int dir_fd);
/* Opens path as a directory to resolve names in (O_PATH); its index, or
 * -1 with errno set. */
int devices_open_dir(struct host_devices *d, const char *path);

/* Confines this process (host_confine.h) to what the rest of the run needs
 * of these files; child is the process sandbox's, or 0.  0 or -errno. */
int devices_confine(const struct host_devices *d, pid_t child);

/* The resolved path of what fd has open, via /proc/self/fd: "..",
 * symlinks and renames since are all accounted for.  0, or -1 with errno. */
int devices_real_path(const struct host_devices *d, int fd, char real[PATH_MAX]);

#endif
