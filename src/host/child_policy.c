/*
 * Child-file policy (see child_policy.h).  A backing or extent file name
 * comes from inside an image, so it is attacker-chosen: "/etc/shadow", ".ssh/id_rsa",
 * "../../home/x/.ssh/id_rsa", "/proc/self/fd/5", a symlink planted beside
 * the image, a FIFO, a path on a hung network mount, a chain that loops or
 * never ends.  The name is first placed lexically under one of the roots the
 * host holds open (the naming image's directory, --backing-allow
 * directories), then resolved by the kernel beneath that root only, then
 * judged by what was resolved before anything is opened for reading.
 */
#include "child_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../abi/job.h"
#include "../core/path_combine.h"
#include "image_lock.h"
#include "report.h"
#include "text_escape.h"

int backing_allow_dir(struct host_devices *d, const char *dir)
{
	if (d->n_allow == BACKING_ALLOW_MAX) {
		report_error("--backing-allow: at most %u directories", BACKING_ALLOW_MAX);
		return -1;
	}
	int idx = devices_open_dir(d, dir);
	if (idx < 0) {
		report_error("--backing-allow: '%s': %s", dir, strerror(errno));
		return -1;
	}
	d->allow[d->n_allow++] = (uint32_t)idx;
	return 0;
}

/* ---- the name, before anything is resolved ------------------------------ */

/* qemu treats "proto:..." (a colon before any slash) as a protocol, and
 * "json:{...}" as options that can name any file: plain names only. */
static bool plain_name(const char *name, size_t len)
{
	if (len == 0 || strlen(name) != len)
		return false;
	const char *colon = strchr(name, ':'), *slash = strchr(name, '/');
	return !colon || (slash && slash < colon);
}

/*
 * The absolute path `name` means, joined to `base` (the naming image's
 * directory, as the kernel resolved it): empty and "." components dropped,
 * ".." taken off base -- so "../_base/x" beside OpenStack's instance
 * directories works -- but never off a component the name itself added,
 * which could be a symlink the kernel would climb out of differently.
 * false when the name does that or is too long.
 */
static bool canonical(const char *base, const char *name, char out[PATH_MAX])
{
	size_t n = 0, keep = 0; /* out[0..keep) came from base */
	if (name[0] != '/') {
		n = strlen(base);
		if (n >= PATH_MAX)
			return false;
		memcpy(out, base, n);
		if (n == 1) /* "/" */
			n = 0;
		keep = n;
	}
	for (const char *p = name; *p;) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n > keep)
				return false;
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* the '/' before it; at "/" it stays "/" */
			keep = n;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + 1 + len >= PATH_MAX)
				return false;
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = *end ? end + 1 : end;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return true;
}

/* path is dir itself or below it: the part below ("" for dir itself). */
static const char *below(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path + 1;
	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	return path[n] == '/' ? path + n + 1 : NULL;
}

static bool has_dot_component(const char *rel)
{
	for (const char *p = rel; *p; p = strchrnul(p, '/'), p += *p == '/')
		if (p[0] == '.')
			return true;
	return false;
}

static bool in_system_tree(const char *path)
{
	static const char *const trees[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (below(trees[i], path))
			return true;
	return false;
}

/* ---- refusals ------------------------------------------------------------ */

struct attach {
	struct host_devices *d;
	const struct host_device *from;
	uint32_t from_dev;
	uint32_t kind;
	char shown[TEXT_ESCAPE_SIZE(PATH_MAX)]; /* as messages show it, escaped */
	char *note;
	size_t note_len;
};

__attribute__((format(printf, 2, 3)))
static int64_t refuse(struct attach *a, const char *rule, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, rule);
	vsnprintf(text, sizeof(text), rule, ap);
	va_end(ap);
	/* A backing file's refusal follows core's "Could not open backing
	 * file: "; an extent's context names no kind, so the note does. */
	snprintf(a->note, a->note_len, "cordon refuses %s'%s': %s",
		 a->kind == HC_CHILD_EXTENT ? "extent file " : "", a->shown, text);
	return -1;
}

/* What qemu-img says when the file cannot be opened. */
static int64_t not_opened(struct attach *a, int err)
{
	snprintf(a->note, a->note_len, "Could not open '%s': %s", a->shown, strerror(err));
	return -1;
}

#define OUTSIDE "it is outside the directories images may name (the image's own " \
		"directory and --backing-allow)"

/* ---- placing and resolving ---------------------------------------------- */

/*
 * The root the canonical path lies under, and the path below it: the naming
 * image's own directory (the file directly in it), else the deepest
 * --backing-allow directory it is below (so that allowing a hidden
 * directory inside another allowed one means what it says).  -1 after a
 * refusal.
 */
static int pick_root(struct attach *a, const char *canon, const char **rel)
{
	const struct host_devices *d = a->d;
	const char *subdir_of_own = NULL;
	if (a->from->dir >= 0) {
		const char *r = below(d->dirs[a->from->dir].real, canon);
		if (r && !strchr(r, '/')) {
			*rel = r;
			return a->from->dir;
		}
		subdir_of_own = r;
	}
	int best = -1;
	for (uint32_t i = 0; i < d->n_allow; i++) {
		const char *r = below(d->dirs[d->allow[i]].real, canon);
		if (r && (best < 0 || r > *rel)) {
			*rel = r;
			best = (int)d->allow[i];
		}
	}
	if (best >= 0)
		return best;
	if (subdir_of_own && has_dot_component(subdir_of_own))
		return (int)refuse(a, "it is hidden (a name component starts with '.')");
	if (subdir_of_own)
		return (int)refuse(a, "it is in a subdirectory of the image's directory "
				   "(only --backing-allow directories include their "
				   "subdirectories)");
	return (int)refuse(a, OUTSIDE);
}

static int resolve_beneath(int root_fd, const char *rel, uint64_t flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	return (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
}

/* The kernel's answer for rel beneath the root: an O_PATH descriptor of a
 * regular file where the rules allow it, or -1 after a refusal. */
static int resolve(struct attach *a, int root, const char *rel, struct stat *st)
{
	const struct host_dir *r = &a->d->dirs[root];
	int pfd = resolve_beneath(r->fd, rel, O_PATH);
	if (pfd < 0 && errno == ENOSYS)
		return (int)refuse(a, "this kernel has no openat2() (Linux 5.6 or "
				   "later), which cordon needs to open backing files "
				   "safely");
	if (pfd < 0 && errno == EXDEV) /* a symlink or mount point led out */
		return (int)refuse(a, OUTSIDE);
	if (pfd < 0)
		return (int)not_opened(a, errno);
	char real[PATH_MAX];
	const char *where;
	int64_t ret = 0;
	if (fstat(pfd, st) < 0)
		ret = not_opened(a, errno);
	else if (!S_ISREG(st->st_mode))
		ret = refuse(a, "it is not a regular file");
	else if (devices_real_path(a->d, pfd, real) < 0 || !(where = below(r->real, real)))
		ret = refuse(a, OUTSIDE);
	/* Where a symlink inside the root really led. */
	else if (has_dot_component(where))
		ret = refuse(a, "it is hidden (a name component starts with '.')");
	else if (root == a->from->dir && strchr(where, '/'))
		ret = refuse(a, "it is in a subdirectory of the image's directory (only "
			     "--backing-allow directories include their subdirectories)");
	else if (in_system_tree(real))
		ret = refuse(a, "it is in /proc, /sys or /dev");
	if (ret < 0) {
		close(pfd);
		return -1;
	}
	return pfd;
}

static bool same_file(const struct stat *st, dev_t dev, ino_t ino)
{
	return st->st_dev == dev && st->st_ino == ino;
}

/* st is an image of from's own chain: from itself or an image it hangs
 * below (extents name nothing and are not looked at).  Only that chain: two
 * inputs of one command line may share a backing file. */
static bool in_the_chain(const struct host_devices *d, uint32_t from, const struct stat *st)
{
	for (uint32_t i = from, steps = 0; i < d->count && steps < d->count; steps++) {
		const struct host_device *dev = &d->dev[i];
		if (dev->kind != HC_CHILD_EXTENT && same_file(st, dev->st_dev, dev->st_ino))
			return true;
		if (dev->kind == 0) /* a command line's image: the top */
			break;
		i = dev->parent;
	}
	return false;
}

static bool is_an_output(const struct host_devices *d, const struct stat *st)
{
	for (uint32_t i = 0; i < d->n_outs; i++)
		if (d->outs[i].fd >= 0 && same_file(st, d->outs[i].st_dev, d->outs[i].st_ino))
			return true;
	return false;
}

/* Reopens the inode an O_PATH descriptor holds, read-only: the very file
 * that was checked, whatever happened to its name since. */
static int reopen_read_only(const struct host_devices *d, int pfd, const struct stat *st)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", pfd);
	int fd = openat(d->proc_fd, num, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat now;
	if (fd >= 0 && (fstat(fd, &now) < 0 || !same_file(&now, st->st_dev, st->st_ino))) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* Where the names this file holds are resolved: the directory rel is in. */
static int child_dir(struct host_devices *d, int root, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return root;
	char *dir = strndup(rel, (size_t)(slash - rel));
	int fd = dir ? resolve_beneath(d->dirs[root].fd, dir, O_PATH | O_DIRECTORY) : -1;
	free(dir);
	return fd < 0 ? -1 : devices_add_dir(d, fd);
}

/* Every check passed: a new readable device for fd. */
static int64_t add_device(struct attach *a, int fd, const struct stat *st, int dir)
{
	struct host_devices *d = a->d;
	char *name = strdup(a->shown);
	int dev = name ? devices_add(d) : -1;
	if (dev < 0) {
		free(name);
		close(fd);
		return not_opened(a, ENOMEM);
	}
	/* devices_add may have moved the table: from is found again. */
	struct host_device *from = &d->dev[a->from_dev];
	d->dev[dev] = (struct host_device){
		.fd = fd,
		.access = DEV_CAN_READ,
		.kind = a->kind,
		.parent = a->from_dev,
		.name = name,
		.owned_name = name,
		.dir = dir,
		.st_dev = st->st_dev,
		.st_ino = st->st_ino,
		.depth = from->depth + (a->kind == HC_CHILD_BACKING),
		.out = -1,
	};
	if (a->kind == HC_CHILD_EXTENT)
		from->extents++;
	return dev;
}

static int64_t attach_resolved(struct attach *a, int pfd, const struct stat *st,
			       int root, const char *rel)
{
	struct host_devices *d = a->d;
	if (is_an_output(d, st))
		return refuse(a, "it is the output of this run");
	/* A backing chain must not loop; extents may repeat (qemu reads such
	 * an image), and have no children that could. */
	if (a->kind == HC_CHILD_BACKING && in_the_chain(d, a->from_dev, st))
		return refuse(a, "it is already in the backing chain (a loop)");
	int fd = reopen_read_only(d, pfd, st);
	if (fd < 0)
		return not_opened(a, errno);
	char why[IMAGE_LOCK_WHY_MAX];
	if (image_lock_input(fd, a->shown, why, sizeof(why)) < 0) {
		close(fd);
		snprintf(a->note, a->note_len, "%s", why);
		return -1;
	}
	int dir = child_dir(d, root, rel);
	if (dir < 0) {
		int err = errno;
		close(fd);
		return not_opened(a, err);
	}
	return add_device(a, fd, st, dir);
}

/* The limits of each kind, before any file is looked at. */
static int64_t check_limits(struct attach *a)
{
	const struct host_devices *d = a->d;
	if (a->kind == HC_CHILD_BACKING && d->backing_none)
		return refuse(a, "backing files are not allowed (--backing-allow=none)");
	if (a->kind == HC_CHILD_BACKING && a->from->depth >= HC_MAX_BACKING_DEPTH)
		return refuse(a, "the backing chain is longer than %u links",
			      HC_MAX_BACKING_DEPTH);
	if (a->kind == HC_CHILD_EXTENT && a->from->extents >= HC_MAX_EXTENT_FILES)
		return refuse(a, "the image names more than %u extent files",
			      HC_MAX_EXTENT_FILES);
	if (d->count >= HC_MAX_DEVICES)
		return refuse(a, "the run has %u files open already", HC_MAX_DEVICES);
	return 0;
}

int64_t child_attach(struct host_devices *d, uint32_t from_dev, uint32_t kind,
		     const char *name, size_t len, char *note, size_t note_len)
{
	struct attach a = { .d = d, .from = &d->dev[from_dev], .from_dev = from_dev,
			    .kind = kind, .note = note, .note_len = note_len };
	/* The name as qemu-img would show it, made printable. */
	char joined[PATH_MAX + HC_MAX_CHILD_NAME + 1];
	size_t keep = path_combine_prefix(a.from->name, name);
	snprintf(joined, sizeof(joined), "%.*s%.*s", (int)keep, a.from->name, (int)len, name);
	text_escape(a.shown, sizeof(a.shown), joined, strlen(joined));

	if (!plain_name(name, len))
		return refuse(&a, "cordon opens plain file names only");
	if (check_limits(&a) < 0)
		return -1;
	if (d->proc_fd < 0 || a.from->dir < 0 || !d->dirs[a.from->dir].real)
		return refuse(&a, "/proc is not mounted, so cordon cannot check where "
			      "it is");

	char canon[PATH_MAX];
	const char *rel = NULL;
	if (!canonical(d->dirs[a.from->dir].real, name, canon))
		return refuse(&a, "it climbs out of a directory it names ('..')");
	int root = pick_root(&a, canon, &rel);
	if (root < 0)
		return -1;
	if (*rel == '\0')
		return refuse(&a, "it is not a regular file");
	if (has_dot_component(rel))
		return refuse(&a, "it is hidden (a name component starts with '.')");
	if (in_system_tree(canon))
		return refuse(&a, "it is in /proc, /sys or /dev");

	struct stat st;
	int pfd = resolve(&a, root, rel, &st);
	if (pfd < 0)
		return -1;
	int64_t dev = attach_resolved(&a, pfd, &st, root, rel);
	close(pfd);
	return dev;
}
