/*
 * The output of a run (see output.h).  A regular target is replaced by a
 * temporary file renamed over it, in the directory the name really leads to
 * (through symlinks, with the kernel deciding whether a link may be
 * followed); a device is written in place; a FIFO fails as in qemu-img.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "host_signals.h"
#include "image_lock.h"
#include "output_cap.h"
#include "report.h"

/* The kernel's limit on symlinks followed in one lookup. */
#define SYMLINK_HOPS_MAX 40

void output_init(struct host_output *o)
{
	*o = (struct host_output){ .dir_fd = -1, .fd = -1, .place_fd = -1, .tmp_slot = -1 };
}

static mode_t new_file_mode(void)
{
	mode_t mask = umask(0);
	umask(mask);
	return 0644 & ~mask; /* qemu-img creates images 0644 less the umask */
}

/* A name nobody else uses, ".cordon-tmp-" and six random letters. */
static void temp_name(char name[OUTPUT_TMP_NAME_MAX])
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6] = { 0 };
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() >> 3);
	int n = snprintf(name, OUTPUT_TMP_NAME_MAX, ".cordon-tmp-");
	for (size_t i = 0; i < sizeof(r); i++)
		name[n++] = letters[r[i] % (sizeof(letters) - 1)];
	name[n] = '\0';
}

/* The temporary file in dir_fd; its name is tracked for the signal handler
 * from the moment it exists. */
static void create_temp(struct host_output *o, mode_t mode)
{
	sigset_t saved;
	host_signals_block(&saved);
	int fd = -1;
	for (int tries = 0; tries < 100 && fd < 0; tries++) {
		temp_name(o->tmp);
		fd = openat(o->dir_fd, o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
			    0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		o->prep_errno = errno;
		o->tmp[0] = '\0';
	} else {
		o->tmp_slot = host_signals_track(o->dir_fd, o->tmp);
	}
	host_signals_restore(&saved);
	if (fd < 0)
		return;
	fchmod(fd, mode);
	if (o->existed && geteuid() == 0 && fchown(fd, o->uid, o->gid) < 0)
		(void)0; /* best effort, as cp does */
	struct stat st;
	if (fstat(fd, &st) == 0) {
		o->st_dev = st.st_dev;
		o->st_ino = st.st_ino;
	}
	o->fd = fd;
}

/* A regular file will be (re)placed at target: its directory, its name in
 * it, and the temporary file beside it. */
static void prepare_replace(struct host_output *o, const char *target, mode_t mode)
{
	const char *slash = strrchr(target, '/');
	const char *base = slash ? slash + 1 : target;
	o->kind = OUTPUT_REPLACE;
	if (*base == '\0') { /* "dir/": open(O_CREAT) says the same */
		o->prep_errno = EISDIR;
		return;
	}
	char *dir = slash == target ? strdup("/")
		  : slash ? strndup(target, (size_t)(slash - target)) : strdup(".");
	o->base = strdup(base);
	if (!dir || !o->base) {
		free(dir);
		o->prep_errno = ENOMEM;
		return;
	}
	o->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (o->dir_fd < 0) {
		o->prep_errno = errno;
		return;
	}
	create_temp(o, mode);
}

/*
 * Someone (a running QEMU) may be using the target: qemu-img would fail to
 * lock it at creation or when opening it.  Only checked: the target is
 * replaced, not written.
 */
static int check_target_locks(const struct host_output *o, int fd)
{
	char why[IMAGE_LOCK_WHY_MAX];
	if (image_lock_output_create(fd, o->path, true, why, sizeof(why)) < 0) {
		report_error("%s: error while creating output image: %s", o->path, why);
		return -1;
	}
	if (image_lock_output_open(fd, o->path, true, why, sizeof(why)) < 0) {
		report_error("Could not open '%s': %s", o->path, why);
		return -1;
	}
	return 0;
}

/* The command-line input st is, or NULL. */
static const struct host_device *input_of(const struct host_devices *d,
					  const struct stat *st)
{
	for (uint32_t i = 0; i < d->count; i++)
		if ((d->dev[i].access & DEV_CAN_READ) && d->dev[i].kind == 0 &&
		    st->st_dev == d->dev[i].st_dev && st->st_ino == d->dev[i].st_ino)
			return &d->dev[i];
	return NULL;
}

static int refuse_input(const struct host_device *in, const struct host_output *o)
{
	report_error("'%s' is the input image '%s'; refusing to overwrite it", o->path,
		     in->name);
	return -1;
}

/* An existing regular file, reached by `path` (perhaps through links). */
static int prepare_regular(struct host_devices *d, struct host_output *o,
			   const char *path)
{
	/* qemu-img's own open of its output: whatever the kernel answers it
	 * (permissions, fs.protected_regular, fs.protected_symlinks) is what
	 * qemu-img would get.  No O_TRUNC: nothing is changed. */
	int fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		o->prep_errno = errno;
		return 0;
	}
	struct stat st;
	char real[PATH_MAX];
	int ret = 0;
	const struct host_device *in = NULL;
	if (fstat(fd, &st) < 0 || devices_real_path(d, fd, real) < 0)
		o->prep_errno = errno ? errno : EIO;
	else if ((in = input_of(d, &st)))
		ret = refuse_input(in, o);
	else if (check_target_locks(o, fd) < 0)
		ret = -1;
	close(fd);
	if (ret < 0 || o->prep_errno)
		return ret;
	o->existed = true;
	o->mode = st.st_mode & 07777;
	o->uid = st.st_uid;
	o->gid = st.st_gid;
	prepare_replace(o, real, o->mode);
	return 0;
}

/* Something exists at path (after links): what kind of output it makes. */
static int prepare_existing(struct host_devices *d, struct host_output *o,
			    const char *path, const struct stat *st)
{
	const struct host_device *in = input_of(d, st);
	if (in)
		return refuse_input(in, o);
	if (S_ISREG(st->st_mode))
		return prepare_regular(d, o, path);
	if (S_ISDIR(st->st_mode)) {
		o->prep_errno = EISDIR;
	} else if (S_ISFIFO(st->st_mode)) {
		o->kind = OUTPUT_FIFO;
	} else if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode)) {
		/* Opened for writing only when the sandbox creates the output,
		 * as qemu-img opens it only once the input is open. */
		o->kind = OUTPUT_IN_PLACE;
		o->place_fd = open(path, O_PATH | O_CLOEXEC);
		if (o->place_fd < 0)
			o->prep_errno = errno;
	} else {
		o->prep_errno = ENXIO; /* a socket: what open() says */
	}
	return 0;
}

/*
 * A symlink whose target does not exist (the kernel already agreed to
 * follow it): qemu-img's open(O_CREAT) creates the file it names.  Follow
 * the chain to that name and create the file there.
 */
static int prepare_dangling(struct host_devices *d, struct host_output *o,
			    const char *path)
{
	char cur[PATH_MAX], link[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", path);
	for (int hop = 0; hop < SYMLINK_HOPS_MAX; hop++) {
		ssize_t n = readlink(cur, link, sizeof(link) - 1);
		if (n < 0 && errno == ENOENT) { /* the name the chain ends in */
			prepare_replace(o, cur, new_file_mode());
			return 0;
		}
		if (n < 0 && errno == EINVAL) { /* it appeared meanwhile */
			struct stat st;
			if (stat(cur, &st) < 0) {
				o->prep_errno = errno;
				return 0;
			}
			return prepare_existing(d, o, cur, &st);
		}
		if (n < 0) {
			o->prep_errno = errno;
			return 0;
		}
		link[n] = '\0';
		const char *slash = strrchr(cur, '/');
		int keep = link[0] == '/' || !slash ? 0 : (int)(slash - cur) + 1;
		char next[PATH_MAX];
		if (snprintf(next, sizeof(next), "%.*s%s", keep, cur, link) >= (int)sizeof(next)) {
			o->prep_errno = ENAMETOOLONG;
			return 0;
		}
		memcpy(cur, next, sizeof(cur));
	}
	o->prep_errno = ELOOP;
	return 0;
}

/* A fresh state for the output named path (its owned path kept: set by
 * devices_add_derived_output). */
static void output_start(struct host_output *o, const char *path, const char *fmt,
			 uint64_t max_virtual)
{
	char *owned = o->owned_path;
	output_init(o);
	o->owned_path = owned;
	o->path = path;
	o->fmt = fmt;
	o->max_virtual = max_virtual;
}

int output_prepare(struct host_devices *d, struct host_output *o, const char *path,
		   const char *fmt, uint64_t max_virtual)
{
	output_start(o, path, fmt, max_virtual);

	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && *path)
			prepare_replace(o, path, new_file_mode());
		else
			o->prep_errno = errno;
		return 0;
	}
	if (!S_ISLNK(st.st_mode))
		return prepare_existing(d, o, path, &st);
	/* Following a link is the kernel's decision (fs.protected_symlinks):
	 * O_PATH asks it without opening anything. */
	int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		if (errno == ENOENT)
			return prepare_dangling(d, o, path);
		o->prep_errno = errno;
		return 0;
	}
	int ret = fstat(pfd, &st);
	close(pfd);
	if (ret < 0) {
		o->prep_errno = errno;
		return 0;
	}
	return prepare_existing(d, o, path, &st);
}

int output_prepare_existing(struct host_devices *d, struct host_output *o, const char *path,
			    const char *fmt, uint64_t max_virtual)
{
	output_start(o, path, fmt, max_virtual);
	o->must_exist = true;
	struct stat st;
	if (stat(path, &st) < 0) { /* following links, as qemu-img's open() */
		o->prep_errno = errno;
		return 0;
	}
	const struct host_device *in = input_of(d, &st);
	if (in)
		return refuse_input(in, o);
	if (S_ISDIR(st.st_mode)) {
		o->prep_errno = EISDIR;
		return 0;
	}
	o->kind = OUTPUT_IN_PLACE;
	o->existed = true;
	o->place_fd = open(path, O_PATH | O_CLOEXEC);
	if (o->place_fd < 0)
		o->prep_errno = errno;
	return 0;
}

/* A device named by of=, opened now for writing. */
static int open_in_place(const struct host_devices *d, struct host_output *o, char *note,
			 size_t note_len)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", o->place_fd);
	/* Reopening the held O_PATH descriptor: the device checked before. */
	int fd = d->proc_fd >= 0 ? openat(d->proc_fd, num, O_WRONLY | O_CLOEXEC | O_NOCTTY)
				 : open(o->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int err = errno;
		snprintf(note, note_len, "Could not %s '%s': %s", o->must_exist ? "open" : "create",
			 o->path, strerror(err));
		return -err;
	}
	char why[IMAGE_LOCK_WHY_MAX];
	if (image_lock_output_create(fd, o->path, true, why, sizeof(why)) < 0 ||
	    image_lock_output_open(fd, o->path, true, why, sizeof(why)) < 0) {
		snprintf(note, note_len, "%s", why);
		close(fd);
		return -EAGAIN;
	}
	struct stat st;
	if (fstat(fd, &st) == 0) {
		o->st_dev = st.st_dev;
		o->st_ino = st.st_ino;
	}
	o->fd = fd;
	return 0;
}

int output_create(struct host_devices *d, uint32_t dev, uint64_t size, char *note,
		  size_t note_len)
{
	struct host_output *o = devices_output(d, dev);
	int ret = 0;
	if (o->prep_errno) {
		snprintf(note, note_len, "Could not %s '%s': %s", o->must_exist ? "open" : "create",
			 o->path, strerror(o->prep_errno));
		return -o->prep_errno;
	}
	if (o->kind == OUTPUT_FIFO) {
		snprintf(note, note_len, "Could not resize file: %s", strerror(EINVAL));
		return -EINVAL;
	}
	if (o->kind == OUTPUT_IN_PLACE) {
		ret = open_in_place(d, o, note, note_len);
	} else {
		/* Hold what qemu-img holds on an open output; the temporary
		 * file carries the locks to the target when renamed over it. */
		char why[IMAGE_LOCK_WHY_MAX];
		if (image_lock_output_open(o->fd, o->path, false, why, sizeof(why)) < 0) {
			snprintf(note, note_len, "%s", why);
			ret = -EAGAIN;
		}
	}
	if (ret < 0)
		return ret;
	o->cap = output_cap(o->fmt, size);
	o->created = true;
	d->dev[dev].fd = o->fd;
	return 0;
}

int output_commit(struct host_output *o)
{
	if (!o->created) {
		output_abort(o);
		return 0;
	}
	/* qemu-img flushes on close, except with cache mode unsafe; a rename
	 * must otherwise not publish unwritten data. */
	if (!o->no_flush && fdatasync(o->fd) < 0 && errno != EINVAL) {
		report_error("error while writing to output image file: %s", strerror(errno));
		return -1;
	}
	if (o->kind != OUTPUT_REPLACE)
		return 0;
	sigset_t saved;
	host_signals_block(&saved);
	int ret, err;
	/* Renaming unflushed data over an existing file makes ext4 (and xfs)
	 * start writing all of it back at once, before the rename returns
	 * (the replace-via-rename heuristic), which costs more than the copy.
	 * Swapping the two names is as atomic, and then the old file, under
	 * the temporary name, is removed as a failed run's would be. */
	if (o->no_flush && o->existed &&
	    renameat2(o->dir_fd, o->tmp, o->dir_fd, o->base, RENAME_EXCHANGE) == 0) {
		ret = 0;
		unlinkat(o->dir_fd, o->tmp, 0);
	} else {
		ret = renameat(o->dir_fd, o->tmp, o->dir_fd, o->base);
	}
	err = errno;
	if (ret == 0) {
		host_signals_untrack(o->tmp_slot);
		o->tmp_slot = -1;
		o->tmp[0] = '\0';
	}
	host_signals_restore(&saved);
	if (ret < 0) {
		report_error("%s: error while creating output image: Could not create "
			     "'%s': %s", o->path, o->path, strerror(err));
		return -1;
	}
	return 0;
}

void output_abort(struct host_output *o)
{
	if (o->tmp[0] == '\0')
		return;
	sigset_t saved;
	host_signals_block(&saved);
	unlinkat(o->dir_fd, o->tmp, 0);
	host_signals_untrack(o->tmp_slot);
	o->tmp_slot = -1;
	o->tmp[0] = '\0';
	host_signals_restore(&saved);
}

void output_close(struct host_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	if (o->place_fd >= 0)
		close(o->place_fd);
	free(o->base);
	free(o->owned_path);
	o->fd = o->dir_fd = o->place_fd = -1;
	o->base = NULL;
	o->owned_path = NULL;
}
