/*
 * Backing-file policy.  A backing file name comes from inside an image, so
 * it is attacker-chosen: "/etc/shadow", "../../home/x/.ssh/id_rsa", a symlink
 * planted beside the image, a FIFO, a chain that loops or never ends.  The
 * file is opened first and judged by what was opened (its resolved path via
 * /proc/self/fd, its type and identity), so a rename between check and use
 * cannot swap it.
 */
#include "backing_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "image_lock.h"

int backing_allow_dir(struct host_devices *d, const char *dir)
{
	struct stat st;
	char *real = realpath(dir, NULL);
	if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		report_error("--backing-allow: '%s': %s", dir,
			     real ? strerror(ENOTDIR) : strerror(errno));
		free(real);
		return -1;
	}
	if (d->n_allow == BACKING_ALLOW_MAX) {
		report_error("--backing-allow: at most %u directories", BACKING_ALLOW_MAX);
		free(real);
		return -1;
	}
	d->allow[d->n_allow++] = real;
	return 0;
}

/* qemu treats "proto:..." (a colon before any slash) as a protocol, and
 * "json:{...}" as options that can name any file: plain names only. */
static bool plain_name(const char *name, size_t len)
{
	if (len == 0 || strlen(name) != len)
		return false;
	const char *colon = strchr(name, ':'), *slash = strchr(name, '/');
	return !colon || (slash && slash < colon);
}

/* The name relative to the directory of the image that names it, as qemu
 * combines them (and as its messages show them). */
static char *join(const char *base, const char *name)
{
	const char *slash = strrchr(base, '/');
	if (name[0] == '/' || !slash)
		return strdup(name);
	size_t dirlen = (size_t)(slash - base) + 1;
	char *p = malloc(dirlen + strlen(name) + 1);
	if (p) {
		memcpy(p, base, dirlen);
		strcpy(p + dirlen, name);
	}
	return p;
}

static bool inside(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The opened file's resolved path lies in the namer's directory (or below)
 * or in a --backing-allow directory. */
static bool allowed_place(const struct host_devices *d, const struct host_device *from,
			  int fd)
{
	char real[PATH_MAX];
	if (devices_real_path(fd, real) < 0)
		return false;
	if (from->real_dir && inside(from->real_dir, real))
		return true;
	for (uint32_t i = 0; i < d->n_allow; i++)
		if (inside(d->allow[i], real))
			return true;
	return false;
}

static bool in_chain(const struct host_devices *d, const struct stat *st)
{
	for (uint32_t i = 0; i < d->count; i++)
		if (d->dev[i].role == DEV_ROLE_INPUT && d->dev[i].st_dev == st->st_dev &&
		    d->dev[i].st_ino == st->st_ino)
			return true;
	return false;
}

static int64_t refuse(uint32_t *rule, uint32_t why, int err, int fd, char *path)
{
	*rule = why;
	if (fd >= 0)
		close(fd);
	free(path);
	return -err;
}

int64_t backing_attach(struct host_devices *d, uint32_t from_dev, const char *name,
		       size_t len, uint32_t *rule, char *why, size_t why_len)
{
	const struct host_device *from = &d->dev[from_dev];
	*rule = HC_BACKING_OK;
	if (!plain_name(name, len))
		return refuse(rule, HC_BACKING_BAD_NAME, EINVAL, -1, NULL);
	if (from->depth >= HC_MAX_BACKING_DEPTH || d->count >= HC_MAX_DEVICES)
		return refuse(rule, HC_BACKING_TOO_DEEP, ELOOP, -1, NULL);

	char *path = join(from->name, name);
	if (!path)
		return -ENOMEM;
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return refuse(rule, HC_BACKING_NOT_FOUND, errno, -1, path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return refuse(rule, HC_BACKING_NOT_REGULAR, EINVAL, fd, path);
	if (!allowed_place(d, from, fd))
		return refuse(rule, HC_BACKING_OUTSIDE, EACCES, fd, path);
	if (in_chain(d, &st))
		return refuse(rule, HC_BACKING_LOOP, ELOOP, fd, path);
	if (image_lock_input(fd, path, why, why_len) < 0)
		return refuse(rule, HC_BACKING_LOCKED, EAGAIN, fd, path);
	char *real_dir = devices_real_dir(fd);
	if (!real_dir)
		return refuse(rule, HC_BACKING_NOT_FOUND, errno, fd, path);

	uint32_t dev = d->count++;
	d->dev[dev] = (struct host_device){
		.fd = fd,
		.role = DEV_ROLE_INPUT,
		.name = path,
		.owned_name = path,
		.real_dir = real_dir,
		.st_dev = st.st_dev,
		.st_ino = st.st_ino,
		.depth = from->depth + 1,
	};
	return dev;
}
