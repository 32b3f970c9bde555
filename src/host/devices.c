/*
 * The files of one run.  The output is written to a temporary file beside
 * the target and renamed over it only on success, so that a failed run never
 * destroys what the user had; where the target is not a regular file (a
 * block device), it is written in place as qemu-img does.
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

#include "../abi/job.h"
#include "report.h"
#include "image_lock.h"

static void devices_init(struct host_devices *d)
{
	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++)
		d->dev[i].fd = -1;
	d->count = 2;
	d->dev[CORDON_DEV_OUTPUT].role = DEV_ROLE_OUTPUT;
	d->dev[CORDON_DEV_INPUT].role = DEV_ROLE_INPUT;
	d->out.create_mode = 0644;
}

int devices_open_input(struct host_devices *d, const char *in_path)
{
	devices_init(d);
	d->dev[CORDON_DEV_INPUT].name = in_path;
	if (in_path[0] == '\0') {
		report_error("Could not open '': The 'file' block driver requires a "
			     "file name");
		return -1;
	}
	int fd = open(in_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		report_error("Could not open '%s': Could not open '%s': %s", in_path,
			     in_path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		report_error("Could not open '%s': 'file' driver requires '%s' to be a "
			     "regular file", in_path, in_path);
		close(fd);
		return -1;
	}
	struct host_device *in = &d->dev[CORDON_DEV_INPUT];
	in->fd = fd;
	in->st_dev = st.st_dev;
	in->st_ino = st.st_ino;
	in->real_dir = devices_real_dir(fd);
	if (!in->real_dir) {
		report_error("Could not open '%s': %s", in_path, strerror(errno));
		return -1;
	}
	return 0;
}

int devices_real_path(int fd, char real[PATH_MAX])
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, real, PATH_MAX - 1);
	if (n <= 0)
		return -1;
	real[n] = '\0';
	if (real[0] != '/') { /* "anon_inode:..." and the like: no path */
		errno = EINVAL;
		return -1;
	}
	return 0;
}

char *devices_real_dir(int fd)
{
	char real[PATH_MAX];
	if (devices_real_path(fd, real) < 0)
		return NULL;
	char *slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0'; /* a file in / */
	else
		*slash = '\0';
	return strdup(real);
}

/* The path to write: a symlink is followed so that, as with qemu-img, the
 * file it names is replaced rather than the link. */
static char *output_target(const char *path)
{
	struct stat lst;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		char *real = realpath(path, NULL);
		if (real)
			return real;
	}
	return strdup(path);
}

/*
 * Someone (a running QEMU) may be using the target: qemu-img would fail to
 * lock it at creation or when opening it.  Only checked here: the target is
 * replaced, not written, and a write-only descriptor cannot hold read locks.
 */
static int check_target_locks(const struct host_output *o)
{
	char why[IMAGE_LOCK_WHY_MAX];
	int fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0; /* creation reports it, in qemu-img's words */
	int ret = 0;
	if (image_lock_output_create(fd, o->path, true, why, sizeof(why)) < 0) {
		report_error("%s: error while creating output image: %s", o->path, why);
		ret = -1;
	} else if (image_lock_output_open(fd, o->path, true, why, sizeof(why)) < 0) {
		report_error("Could not open '%s': %s", o->path, why);
		ret = -1;
	}
	close(fd);
	return ret;
}

int devices_prepare_output(struct host_devices *d, const char *out_path)
{
	struct host_output *o = &d->out;
	d->dev[CORDON_DEV_OUTPUT].name = out_path;
	o->path = out_path;
	o->target = output_target(out_path);
	if (!o->target) {
		report_error("%s: %s", out_path, strerror(errno));
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	o->create_mode = 0644 & ~mask;

	struct stat st;
	if (stat(o->target, &st) < 0) {
		o->is_regular = true; /* created fresh; a bad path fails at creation */
		return 0;
	}
	const struct host_device *in = &d->dev[CORDON_DEV_INPUT];
	if (st.st_dev == in->st_dev && st.st_ino == in->st_ino) {
		report_error("'%s' is the input image '%s'; refusing to overwrite it",
			     out_path, d->dev[CORDON_DEV_INPUT].name);
		return -1;
	}
	o->existed = true;
	o->is_regular = S_ISREG(st.st_mode);
	o->mode = st.st_mode & 07777;
	o->uid = st.st_uid;
	o->gid = st.st_gid;
	/* qemu-img opens the target for writing; renaming over it would not
	 * need that permission, so check it the same way. */
	if (access(o->target, W_OK) < 0) {
		o->deny_errno = errno;
		return 0;
	}
	return check_target_locks(o);
}

static int create_temp(struct host_output *o)
{
	size_t n = strlen(o->target);
	const char *slash = strrchr(o->target, '/');
	size_t dirlen = slash ? (size_t)(slash - o->target) + 1 : 0;
	o->tmp_path = malloc(n + 32);
	if (!o->tmp_path)
		return -ENOMEM;
	snprintf(o->tmp_path, n + 32, "%.*s.cordon-tmp-XXXXXX", (int)dirlen, o->target);
	int fd = mkostemp(o->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		free(o->tmp_path);
		o->tmp_path = NULL;
		return -err;
	}
	if (o->existed) {
		fchmod(fd, o->mode);
		if (geteuid() == 0 && fchown(fd, o->uid, o->gid) < 0)
			(void)0; /* best effort, as cp does */
	} else {
		fchmod(fd, o->create_mode);
	}
	return fd;
}

int devices_create_output(struct host_devices *d)
{
	struct host_output *o = &d->out;
	struct host_device *out = &d->dev[CORDON_DEV_OUTPUT];
	if (out->fd >= 0)
		return 0;
	if (o->deny_errno)
		return -o->deny_errno;
	int fd;
	if (o->is_regular)
		fd = create_temp(o);
	else
		fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	/* Hold what qemu-img holds on an open output; the temporary file
	 * carries the locks to the target when it is renamed over it.  A
	 * device written in place was checked in devices_prepare_output. */
	char why[IMAGE_LOCK_WHY_MAX];
	if (o->is_regular && image_lock_output_open(fd, o->path, false, why, sizeof(why)) < 0) {
		close(fd);
		return -EAGAIN;
	}
	out->fd = fd;
	return 0;
}

int devices_commit_output(struct host_devices *d)
{
	struct host_output *o = &d->out;
	int fd = d->dev[CORDON_DEV_OUTPUT].fd;
	if (fd < 0)
		return 0;
	/* qemu-img flushes on close; a rename must not publish unwritten data. */
	if (fdatasync(fd) < 0 && errno != EINVAL) {
		report_error("error while writing to output image file: %s", strerror(errno));
		return -1;
	}
	if (o->tmp_path && rename(o->tmp_path, o->target) < 0) {
		report_error("%s: error while creating output image: Could not create "
			     "'%s': %s", o->path, o->path, strerror(errno));
		return -1;
	}
	free(o->tmp_path);
	o->tmp_path = NULL;
	return 0;
}

void devices_abort_output(struct host_devices *d)
{
	struct host_output *o = &d->out;
	if (o->tmp_path) {
		unlink(o->tmp_path);
		free(o->tmp_path);
		o->tmp_path = NULL;
	}
}

void devices_close(struct host_devices *d)
{
	devices_abort_output(d);
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++) {
		if (d->dev[i].fd >= 0)
			close(d->dev[i].fd);
		d->dev[i].fd = -1;
		free(d->dev[i].owned_name);
		free(d->dev[i].real_dir);
		d->dev[i].owned_name = d->dev[i].real_dir = NULL;
	}
	for (uint32_t i = 0; i < d->n_allow; i++)
		free(d->allow[i]);
	d->n_allow = 0;
	free(d->out.target);
	d->out.target = NULL;
}
