/*
 * The files of one run: the inputs and outputs as the user named them, the
 * directories names are resolved in, and the table the hostcall server
 * checks every request against.  An output's life is output.c's, a child
 * file's admission backing_policy.c's.
 */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_confine.h"
#include "report.h"

void devices_init(struct host_devices *d)
{
	memset(d, 0, sizeof(*d));
	d->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Room for one more entry of size `size` in *v (count used, cap held). */
static int reserve(void **v, uint32_t count, uint32_t *cap, size_t size)
{
	if (count < *cap)
		return 0;
	uint32_t ncap = *cap ? 2 * *cap : 8;
	void *nv = realloc(*v, (size_t)ncap * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

int devices_add(struct host_devices *d)
{
	if (d->count >= HC_MAX_DEVICES) {
		errno = E2BIG;
		return -1;
	}
	if (reserve((void **)&d->dev, d->count, &d->cap, sizeof(*d->dev)) < 0)
		return -1;
	d->dev[d->count] = (struct host_device){ .fd = -1, .dir = -1, .out = -1 };
	return (int)d->count++;
}

int devices_real_path(const struct host_devices *d, int fd, char real[PATH_MAX])
{
	char num[16];
	if (d->proc_fd < 0) {
		errno = ENOENT;
		return -1;
	}
	snprintf(num, sizeof(num), "%d", fd);
	ssize_t n = readlinkat(d->proc_fd, num, real, PATH_MAX - 1);
	if (n <= 0)
		return -1;
	real[n] = '\0';
	if (real[0] != '/') { /* "anon_inode:..." and the like: no path */
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Without /proc a directory has no known path: nothing may be resolved
 * beneath it, so backing files are refused, and nothing else needs it. */
int devices_add_dir(struct host_devices *d, int dir_fd)
{
	char real[PATH_MAX];
	char *copy = NULL;
	if (d->n_dirs >= HC_MAX_DEVICES + BACKING_ALLOW_MAX ||
	    reserve((void **)&d->dirs, d->n_dirs, &d->dirs_cap, sizeof(*d->dirs)) < 0) {
		close(dir_fd);
		errno = ENOMEM;
		return -1;
	}
	if (d->proc_fd >= 0) {
		if (devices_real_path(d, dir_fd, real) < 0 || !(copy = strdup(real))) {
			close(dir_fd);
			return -1;
		}
	}
	d->dirs[d->n_dirs] = (struct host_dir){ .fd = dir_fd, .real = copy };
	return (int)d->n_dirs++;
}

int devices_open_dir(struct host_devices *d, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -1 : devices_add_dir(d, fd);
}

/* The directory part of the name as typed ("." for a bare name): where
 * qemu resolves the names the image holds (path_combine). */
static int open_name_dir(struct host_devices *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return devices_open_dir(d, ".");
	if (slash == path)
		return devices_open_dir(d, "/");
	char *dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	int idx = devices_open_dir(d, dir);
	free(dir);
	return idx;
}

int devices_add_input(struct host_devices *d, const char *path)
{
	if (path[0] == '\0') {
		report_error("Could not open '': The 'file' block driver requires a "
			     "file name");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		report_error("Could not open '%s': Could not open '%s': %s", path, path,
			     strerror(errno));
		return -1;
	}
	/* What qemu-img's 'file' and 'host_device' drivers take; a character
	 * device (/dev/zero) reads as an empty image, as in qemu. */
	struct stat st;
	if (fstat(fd, &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) {
		report_error("Could not open '%s': 'file' driver requires '%s' to be a "
			     "regular file", path, path);
		close(fd);
		return -1;
	}
	int dir = open_name_dir(d, path);
	int dev = dir < 0 ? -1 : devices_add(d);
	if (dev < 0) {
		report_error("Could not open '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	d->dev[dev] = (struct host_device){
		.fd = fd, .access = DEV_CAN_READ, .name = path, .dir = dir,
		.st_dev = st.st_dev, .st_ino = st.st_ino, .out = -1,
	};
	return dev;
}

/* A duplicate of fd 0 or 1, so that closing the devices leaves the
 * process's own standard streams alone. */
static int add_stream(struct host_devices *d, int fd, uint32_t access, const char *name)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int dev = dup_fd < 0 ? -1 : devices_add(d);
	if (dev < 0) {
		report_error("%s: %s", name, strerror(errno));
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	d->dev[dev] = (struct host_device){
		.fd = dup_fd, .access = access | DEV_STREAM, .name = name, .dir = -1,
		.out = -1,
	};
	return dev;
}

int devices_add_stdin(struct host_devices *d)
{
	/* Proxmox's qemu-img prints its NULL name with glibc's "(null)". */
	return add_stream(d, STDIN_FILENO, DEV_CAN_READ, "(null)");
}

int devices_add_stdout(struct host_devices *d)
{
	return add_stream(d, STDOUT_FILENO, DEV_CAN_WRITE, "(null)");
}

/* A new output state and its device (not yet prepared). */
static int new_output(struct host_devices *d, const char *path, struct host_output **out)
{
	if (d->n_outs > HC_MAX_EXTENT_FILES ||
	    reserve((void **)&d->outs, d->n_outs, &d->outs_cap, sizeof(*d->outs)) < 0) {
		errno = ENOMEM;
		return -1;
	}
	int dev = devices_add(d);
	if (dev < 0)
		return -1;
	*out = &d->outs[d->n_outs];
	output_init(*out);
	d->dev[dev] = (struct host_device){
		.fd = -1, .access = DEV_CAN_WRITE, .name = path, .dir = -1,
		.out = (int)d->n_outs++,
	};
	return dev;
}

/* Both kinds of command-line output: prepared for creation, or (dd -n)
 * as a file that exists. */
static int add_output(struct host_devices *d, const char *path, const char *fmt,
		      uint64_t max_virtual, bool existing)
{
	struct host_output *o;
	int dev = new_output(d, path, &o);
	if (dev < 0) {
		report_error("%s: %s", path, strerror(errno));
		return -1;
	}
	int ret = existing ? output_prepare_existing(d, o, path, fmt, max_virtual)
			   : output_prepare(d, o, path, fmt, max_virtual);
	return ret < 0 ? -1 : dev;
}

int devices_add_output(struct host_devices *d, const char *path, const char *fmt,
		       uint64_t max_virtual)
{
	return add_output(d, path, fmt, max_virtual, false);
}

int devices_add_existing_output(struct host_devices *d, const char *path, const char *fmt,
				uint64_t max_virtual)
{
	return add_output(d, path, fmt, max_virtual, true);
}

/* What an extra file is written as, for its cap: flat extents are raw. */
static const char *derived_fmt(uint32_t rule, const char *parent_fmt)
{
	return rule == HC_NAME_SPLIT_SPARSE ? parent_fmt : "raw";
}

int devices_add_derived_output(struct host_devices *d, uint32_t parent, uint32_t rule,
			       const char *name, char *note, size_t note_len)
{
	char *path = strdup(name);
	struct host_output *o;
	int dev = path ? new_output(d, path, &o) : -1;
	if (dev < 0) {
		free(path);
		snprintf(note, note_len, "Could not create '%s': %s", name, strerror(errno));
		return -1;
	}
	/* Read after new_output(): the table may have moved. */
	const struct host_output *p = devices_output(d, parent);
	o->owned_path = path;
	if (output_prepare(d, o, path, derived_fmt(rule, p->fmt), p->max_virtual) < 0) {
		snprintf(note, note_len, "Could not create '%s': it is an input", path);
		return -1;
	}
	o->no_flush = p->no_flush; /* an extent file is written as its descriptor */
	return dev;
}

struct host_output *devices_output(struct host_devices *d, uint32_t dev)
{
	if (dev >= d->count || d->dev[dev].out < 0)
		return NULL;
	return &d->outs[d->dev[dev].out];
}

void devices_close(struct host_devices *d)
{
	for (uint32_t i = 0; i < d->n_outs; i++) {
		output_abort(&d->outs[i]);
		output_close(&d->outs[i]);
	}
	for (uint32_t i = 0; i < d->count; i++) {
		/* An output's descriptor belongs to its host_output. */
		if (d->dev[i].fd >= 0 && d->dev[i].out < 0)
			close(d->dev[i].fd);
		free(d->dev[i].owned_name);
	}
	for (uint32_t i = 0; i < d->n_dirs; i++) {
		close(d->dirs[i].fd);
		free(d->dirs[i].real);
	}
	free(d->dev);
	free(d->dirs);
	free(d->outs);
	if (d->proc_fd >= 0)
		close(d->proc_fd);
	memset(d, 0, sizeof(*d));
	d->proc_fd = -1;
}

int devices_confine(const struct host_devices *d, pid_t child)
{
	/* Child files come from the inputs' directories and the allowed ones
	 * (and below those: the policy is finer, this is the fence). */
	int read_dirs[64 + BACKING_ALLOW_MAX];
	uint32_t n = 0;
	for (uint32_t i = 0; i < d->count && n < 64 && !d->backing_none; i++)
		if (d->dev[i].kind == 0 && d->dev[i].dir >= 0)
			read_dirs[n++] = d->dirs[d->dev[i].dir].fd;
	for (uint32_t i = 0; i < d->n_allow; i++)
		read_dirs[n++] = d->dirs[d->allow[i]].fd;
	/* One output directory: an output's extent files are named beside it. */
	const struct host_output *o = d->n_outs ? &d->outs[0] : NULL;
	struct confine_plan plan = {
		.proc_fd = d->proc_fd,
		.out_dir_fd = o ? o->dir_fd : -1,
		.out_device_fd = o ? o->place_fd : -1,
		.child = child,
		.read_dirs = read_dirs,
		.n_read_dirs = n,
	};
	return host_confine(&plan);
}
