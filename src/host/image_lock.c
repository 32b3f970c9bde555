/*
 * QEMU-compatible image locking (see image_lock.h and docs/locking.md).
 *
 * This follows block/file-posix.c of QEMU 7.2: raw_apply_lock_bytes()
 * takes a shared (F_RDLCK) OFD lock on each byte, raw_check_lock_bytes()
 * asks F_OFD_GETLK whether an exclusive lock on a byte would conflict,
 * i.e. whether any *other* open file description holds it.  Our own locks
 * never conflict with ourselves, so the order (lock, then check) is QEMU's.
 */
#include "image_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PERM_COUNT 4

/* bdrv_perm_names() for one bit. */
static const char *const perm_names[PERM_COUNT] = {
	"consistent read", "write", "write unchanged", "resize",
};

/*
 * qemu_has_ofd_lock(): QEMU asks once, on /dev/null, whether the kernel has
 * OFD locks; with locking=auto (qemu-img's default) it locks nothing when it
 * has not.  Failures on a particular file are errors, not a reason to skip.
 * The input is always locked first, before the host confines itself, so the
 * probe's open() happens while it is still allowed.
 */
static bool have_ofd_locks(void)
{
	static int usable = -1;

	if (usable < 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

		usable = fd >= 0 && fcntl(fd, F_OFD_GETLK, &fl) == 0;
		if (fd >= 0)
			close(fd);
	}
	return usable;
}

static int set_byte(int fd, int byte, short type)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
	};
	int r;

	do
		r = fcntl(fd, F_OFD_SETLK, &fl);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* qemu_lock_fd_test(fd, byte, 1, true): -EAGAIN if another holds it. */
static int test_byte(int fd, int byte)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
	};

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type == F_UNLCK ? 0 : -EAGAIN;
}

/*
 * raw_lock_error_setg_errno(): EAGAIN and EACCES mean "someone holds it"
 * and get no errno text; anything else does.  A failed check (not a failed
 * lock) also gets raw_handle_perm_lock()'s hint line.
 */
__attribute__((format(printf, 6, 7)))
static void say(char *why, size_t len, int err, const char *hint_name,
		bool hint, const char *fmt, ...)
{
	if (!why || len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(why, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return;
	if (err != EAGAIN && err != EACCES)
		n += snprintf(why + n, len - (size_t)n, ": %s", strerror(err));
	if (hint && (size_t)n < len)
		snprintf(why + n, len - (size_t)n,
			 "\nIs another process using the image [%s]?", hint_name);
}

/*
 * One opener that wants `perm` and lets others have `shared`: lock
 * 100+i for each wanted permission and 200+i for each one not shared, then
 * test 200+i for each wanted one and 100+i for each one not shared.  On
 * failure the bytes locked here are released again (QEMU's abort path).
 */
static int take(int fd, const char *name, unsigned perm, unsigned shared,
		bool check_only, char *why, size_t why_len)
{
	unsigned unshared = ~shared & IMAGE_PERM_ALL;
	unsigned got_perm = 0, got_unshared = 0;
	int ret, i;

	if (!have_ofd_locks())
		return 0;
	for (i = 0; i < PERM_COUNT && !check_only; i++) {
		if (!(perm & (1u << i)))
			continue;
		ret = set_byte(fd, IMAGE_LOCK_PERM_BASE + i, F_RDLCK);
		if (ret < 0) {
			say(why, why_len, -ret, name, false, "Failed to lock byte %d",
			    IMAGE_LOCK_PERM_BASE + i);
			goto undo;
		}
		got_perm |= 1u << i;
	}
	for (i = 0; i < PERM_COUNT && !check_only; i++) {
		if (!(unshared & (1u << i)))
			continue;
		ret = set_byte(fd, IMAGE_LOCK_SHARED_BASE + i, F_RDLCK);
		if (ret < 0) {
			say(why, why_len, -ret, name, false, "Failed to lock byte %d",
			    IMAGE_LOCK_SHARED_BASE + i);
			goto undo;
		}
		got_unshared |= 1u << i;
	}
	for (i = 0; i < PERM_COUNT; i++) {
		if (!(perm & (1u << i)))
			continue;
		ret = test_byte(fd, IMAGE_LOCK_SHARED_BASE + i);
		if (ret < 0) {
			say(why, why_len, -ret, name, true, "Failed to get \"%s\" lock",
			    perm_names[i]);
			goto undo;
		}
	}
	for (i = 0; i < PERM_COUNT; i++) {
		if (!(unshared & (1u << i)))
			continue;
		ret = test_byte(fd, IMAGE_LOCK_PERM_BASE + i);
		if (ret < 0) {
			say(why, why_len, -ret, name, true,
			    "Failed to get shared \"%s\" lock", perm_names[i]);
			goto undo;
		}
	}
	return 0;
undo:
	for (i = 0; i < PERM_COUNT; i++) {
		if (got_perm & (1u << i))
			set_byte(fd, IMAGE_LOCK_PERM_BASE + i, F_UNLCK);
		if (got_unshared & (1u << i))
			set_byte(fd, IMAGE_LOCK_SHARED_BASE + i, F_UNLCK);
	}
	return -1;
}

/*
 * qemu-img opens an image through a BlockBackend that shares everything;
 * the raw driver passes that through to the file, so a raw file -- an input
 * or a backing file -- carries consistent read only.  -U does not change
 * this: qemu-img -U still takes byte 100 and still fails if 200 is held.
 */
int image_lock_input(int fd, const char *name, char *why, size_t why_len)
{
	return take(fd, name, IMAGE_PERM_CONSISTENT_READ, IMAGE_PERM_ALL, false,
		    why, why_len);
}

/*
 * A format driver's file child (bdrv_default_perms_for_storage): metadata
 * must not change under it, so write and resize are not shared.  -U
 * (bs->force_share) shares everything again.  Consistent read is already
 * held by image_lock_input() and so is not asked for twice: a failure here
 * must not release it.
 */
int image_lock_metadata(int fd, const char *name, bool force_share,
			char *why, size_t why_len)
{
	if (force_share)
		return 0;
	return take(fd, name, 0,
		    IMAGE_PERM_ALL & ~(IMAGE_PERM_WRITE | IMAGE_PERM_RESIZE), false,
		    why, why_len);
}

/* raw_co_create(): write and resize, resize not shared.  -U does not
 * apply to the output. */
int image_lock_output_create(int fd, const char *name, bool check_only,
			     char *why, size_t why_len)
{
	return take(fd, name, IMAGE_PERM_WRITE | IMAGE_PERM_RESIZE,
		    IMAGE_PERM_ALL & ~IMAGE_PERM_RESIZE, check_only, why, why_len);
}

/* qemu-img then closes the create fd (dropping its bytes) and opens the
 * output read-write through a BlockBackend that shares everything. */
int image_lock_output_open(int fd, const char *name, bool check_only,
			   char *why, size_t why_len)
{
	if (!check_only && have_ofd_locks()) {
		struct flock fl = {
			.l_type = F_UNLCK, .l_whence = SEEK_SET,
			.l_start = IMAGE_LOCK_PERM_BASE,
			.l_len = IMAGE_LOCK_SHARED_BASE + PERM_COUNT - IMAGE_LOCK_PERM_BASE,
		};
		fcntl(fd, F_OFD_SETLK, &fl);
	}
	return take(fd, name, IMAGE_PERM_CONSISTENT_READ | IMAGE_PERM_WRITE,
		    IMAGE_PERM_ALL, check_only, why, why_len);
}
