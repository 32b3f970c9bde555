/*
 * The files of one run: the input as the user named it, the directories
 * names are resolved in, and the table the hostcall server checks every
 * request against.  The output's life is output.c's.
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
#include "host_confine.h"
#include "report.h"

void devices_init(struct host_devices *d)
{
	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++) {
		d->dev[i].fd = -1;
		d->dev[i].dir = -1;
	}
	d->proc_fd = -1;
	output_init(&d->out);
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
	if (d->n_dirs == HOST_DIRS_MAX) {
		close(dir_fd);
		errno = EMFILE;
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

int devices_open_input(struct host_devices *d, const char *in_path)
{
	devices_init(d);
	d->count = 2;
	d->dev[CORDON_DEV_OUTPUT].role = DEV_ROLE_OUTPUT;
	d->dev[CORDON_DEV_INPUT].role = DEV_ROLE_INPUT;
	d->dev[CORDON_DEV_INPUT].name = in_path;
	/* Backing names are resolved through it; without /proc they are
	 * refused (backing_policy.c), everything else works. */
	d->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
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
	in->dir = open_name_dir(d, in_path);
	if (in->dir < 0) {
		report_error("Could not open '%s': %s", in_path, strerror(errno));
		return -1;
	}
	return 0;
}

void devices_close(struct host_devices *d)
{
	output_abort(&d->out);
	output_close(&d->out);
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++) {
		/* The output's descriptor belongs to d->out. */
		if (d->dev[i].fd >= 0 && d->dev[i].role != DEV_ROLE_OUTPUT)
			close(d->dev[i].fd);
		d->dev[i].fd = -1;
		free(d->dev[i].owned_name);
		d->dev[i].owned_name = NULL;
	}
	for (uint32_t i = 0; i < d->n_dirs; i++) {
		close(d->dirs[i].fd);
		free(d->dirs[i].real);
	}
	d->n_dirs = d->n_allow = 0;
	if (d->proc_fd >= 0)
		close(d->proc_fd);
	d->proc_fd = -1;
}

int devices_confine(const struct host_devices *d, pid_t child)
{
	/* Backing files come from the input's directory and the allowed ones
	 * (and below those: the policy is finer, this is the fence). */
	int read_dirs[1 + BACKING_ALLOW_MAX];
	uint32_t n = 0;
	int in_dir = d->dev[CORDON_DEV_INPUT].dir;
	if (in_dir >= 0 && !d->backing_none)
		read_dirs[n++] = d->dirs[in_dir].fd;
	for (uint32_t i = 0; i < d->n_allow; i++)
		read_dirs[n++] = d->dirs[d->allow[i]].fd;
	struct confine_plan plan = {
		.proc_fd = d->proc_fd,
		.out_dir_fd = d->out.dir_fd,
		.out_device_fd = d->out.place_fd,
		.child = child,
		.read_dirs = read_dirs,
		.n_read_dirs = n,
	};
	return host_confine(&plan);
}
