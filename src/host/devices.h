/*
 * The files a run may touch, as the host holds them: the devices the command
 * line names (inputs opened read-only before the sandbox starts, outputs
 * prepared by output.c), the child files images name (backing files and
 * extents, attached by backing_policy.c when the sandbox asks), and the
 * directories names are resolved in.  Every name that comes from an image is
 * resolved relative to one of these directory descriptors with openat2(),
 * never by open() on a path.
 *
 * Device numbers are indexes in dev[]: the command line's devices first, in
 * the order the command gives them, then children as they are attached.
 */
#ifndef CORDON_HOST_DEVICES_H
#define CORDON_HOST_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../abi/hostcall_abi.h"
#include "output.h"

/* What the sandbox may do with a device (bits of host_device.access). */
#define DEV_CAN_READ 1u  /* read, size, extent(s), copy source, open children */
#define DEV_CAN_WRITE 2u /* write, truncate, create, size, copy destination */
#define DEV_STREAM 4u    /* standard input or output: read or written in order,
			  * nothing else */

/* A directory held open (O_PATH) for resolving names beneath it. */
struct host_dir {
	int fd;
	char *real; /* its path as the kernel resolves it (no symlinks, no ..);
		    * NULL without /proc */
};

struct host_device {
	int fd;             /* -1 while closed (an output until created) */
	uint32_t access;    /* DEV_CAN_*; 0: no such device */
	uint32_t kind;      /* 0 for the command line's, else enum hc_child_kind */
	uint32_t parent;    /* a child: the image that named it */
	const char *name;   /* as the user typed it (or as an image named it,
			     * joined to that image's name), for messages */
	char *owned_name;   /* name, when this struct owns it (children) */
	int dir;            /* inputs: index in dirs[] of the directory the
			     * image is named in, where the names it holds are
			     * resolved; -1 for outputs */
	dev_t st_dev;       /* identity of the opened file: loops, in == out */
	ino_t st_ino;
	uint32_t depth;     /* backing links below the command line's image */
	uint32_t extents;   /* extent files this image has named */
	int out;            /* outputs: index in outs[]; else -1 */
	uint64_t stream_pos; /* DEV_STREAM: the offset the next request must be at */
};

#define BACKING_ALLOW_MAX 16u

struct host_devices {
	struct host_device *dev;  /* grown as children are attached */
	uint32_t count, cap;
	struct host_dir *dirs;    /* grown likewise */
	uint32_t n_dirs, dirs_cap;
	uint32_t allow[BACKING_ALLOW_MAX]; /* --backing-allow: indexes in dirs[] */
	uint32_t n_allow;
	bool backing_none;  /* --backing-allow=none: every backing file refused */
	int proc_fd;        /* /proc/self/fd (O_PATH), -1 without /proc */
	bool force_share;   /* -U: QEMU's metadata locks are not taken */
	/* Outputs: the command line's, then extra files of a multi-file one
	 * (HC_OP_ADD_OUTPUT); grown as they are added. */
	struct host_output *outs;
	uint32_t n_outs, outs_cap;
};

/* An empty table: no devices, nothing open; /proc/self/fd is held. */
void devices_init(struct host_devices *d);
/* Removes whatever outputs this run created and closes everything. */
void devices_close(struct host_devices *d);

/* A new device at the end of the table (zeroed, fd -1); its number, or -1
 * (errno ENOMEM, or E2BIG past HC_MAX_DEVICES). */
int devices_add(struct host_devices *d);
/* Opens a command-line input, as qemu-img opens one: its device number, or
 * -1 after qemu-img's message. */
int devices_add_input(struct host_devices *d, const char *path);
/* A command-line output, prepared (output_prepare): its device number, or
 * -1 after a message. */
/* Standard input (dd without if=) and output (without of=), as streams,
 * named as Proxmox's qemu-img names them in messages.  The device, or -1
 * with the message printed. */
int devices_add_stdin(struct host_devices *d);
int devices_add_stdout(struct host_devices *d);
int devices_add_output(struct host_devices *d, const char *path, const char *fmt,
		       uint64_t max_virtual);
/* The same for dd -n's target, which must exist (output_prepare_existing). */
int devices_add_existing_output(struct host_devices *d, const char *path, const char *fmt,
				uint64_t max_virtual);
/* An extra file of output device parent (HC_OP_ADD_OUTPUT), `name` as
 * the server derived it by `rule` from the parent's name
 * (src/core/output_names.h), prepared like the parent.  Its device, or -1
 * with the reason in note. */
int devices_add_derived_output(struct host_devices *d, uint32_t parent, uint32_t rule,
			       const char *name, char *note, size_t note_len);
/* The output state of device dev, or NULL when it is not an output. */
struct host_output *devices_output(struct host_devices *d, uint32_t dev);

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
