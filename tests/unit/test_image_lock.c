/*
 * QEMU's image locks (src/host/image_lock.c).  OFD locks belong to an open
 * file description, so a second open() of the same file in this process is
 * "another process" as far as the locks go: the tests look at and hold
 * bytes through such descriptors, and once through a forked child.
 *
 * The bytes expected are those QEMU 7.2's qemu-img dd was seen to hold in
 * /proc/locks (docs/locking.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/host/image_lock.h"
#include "../../src/host/host_confine.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/cordon-lock-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int open_image(int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Another holder: a read lock on each byte given, through its own OFD. */
static int hold(const int *bytes, size_t n)
{
	int fd = open_image(O_RDONLY);
	for (size_t i = 0; i < n; i++) {
		struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
				    .l_start = bytes[i], .l_len = 1 };
		assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	}
	return fd;
}

/* The bytes below 400 that anyone but a fresh OFD holds, as a string
 * "100 201 203" (what /proc/locks would show). */
static void held(char *out, size_t size)
{
	int fd = open_image(O_RDONLY);
	size_t n = 0;
	out[0] = '\0';
	for (int b = 0; b < 400; b++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = b, .l_len = 1 };
		assert_int_equal(fcntl(fd, F_OFD_GETLK, &fl), 0);
		if (fl.l_type != F_UNLCK) {
			assert_int_equal(fl.l_pid, -1); /* an OFD lock */
			n += (size_t)snprintf(out + n, size - n, "%s%d", n ? " " : "", b);
		}
	}
	close(fd);
}

#define ASSERT_HELD(want) do { \
		char got_[256]; \
		held(got_, sizeof(got_)); \
		assert_string_equal(got_, want); \
	} while (0)

static void hint_msg(char *buf, size_t size, const char *first)
{
	snprintf(buf, size, "%s\nIs another process using the image [img]?", first);
}

/* qemu-img dd on a raw input: byte 100 (consistent read), nothing else. */
static void test_input_bytes(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX];
	int fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), 0);
	ASSERT_HELD("100");
	close(fd); /* closing the descriptor drops the locks */
	ASSERT_HELD("");
}

/* Readers share; a QEMU writing a raw image does not stop qemu-img dd. */
static void test_input_shares(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX];
	static const int qemu_rw[] = { 100, 101 }; /* qemu-io, read-write */
	int other = hold(qemu_rw, 2);
	int a = open_image(O_RDONLY), b = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(a, "img", why, sizeof(why)), 0);
	assert_int_equal(image_lock_input(b, "img", why, sizeof(why)), 0);
	ASSERT_HELD("100 101");
	close(a), close(b), close(other);
}

/* Someone not sharing consistent read (byte 200) refuses every reader. */
static void test_input_refused(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX], want[256];
	static const int byte200[] = { 200 };
	int other = hold(byte200, 1);
	int fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), -1);
	hint_msg(want, sizeof(want), "Failed to get \"consistent read\" lock");
	assert_string_equal(why, want);
	close(other);
	ASSERT_HELD(""); /* what it took is released again */
	close(fd);
}

/* The same, held by another process. */
static void test_input_refused_by_child(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX], want[256];
	int ready[2], quit[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(quit), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const int byte200[] = { 200 };
		char c = 0;
		close(quit[1]); /* else the read below never sees EOF */
		hold(byte200, 1);
		(void)!write(ready[1], "r", 1);
		(void)!read(quit[0], &c, 1);
		_exit(0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	int fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), -1);
	hint_msg(want, sizeof(want), "Failed to get \"consistent read\" lock");
	assert_string_equal(why, want);
	close(quit[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), 0);
	close(fd), close(ready[0]), close(ready[1]), close(quit[0]);
}

/* A lock that cannot be taken (an exclusive lock on byte 100) is QEMU's
 * "Failed to lock byte 100", without the hint. */
static void test_input_lock_fails(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX];
	int other = open_image(O_RDWR);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 100, .l_len = 1 };
	assert_int_equal(fcntl(other, F_OFD_SETLK, &fl), 0);
	int fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), -1);
	assert_string_equal(why, "Failed to lock byte 100");
	close(fd), close(other);
}

/* A format with metadata (qcow2): write and resize are not shared. */
static void test_metadata(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX], want[256];
	int fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), 0);
	assert_int_equal(image_lock_metadata(fd, "img", false, why, sizeof(why)), 0);
	ASSERT_HELD("100 201 203");
	close(fd);

	/* A QEMU writing it: refused, unless -U; consistent read stays held. */
	static const int qemu_rw[] = { 100, 101 };
	int other = hold(qemu_rw, 2);
	fd = open_image(O_RDONLY);
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), 0);
	assert_int_equal(image_lock_metadata(fd, "img", false, why, sizeof(why)), -1);
	hint_msg(want, sizeof(want), "Failed to get shared \"write\" lock");
	assert_string_equal(why, want);
	close(other);
	ASSERT_HELD("100");
	other = hold(qemu_rw, 2);
	assert_int_equal(image_lock_metadata(fd, "img", true, why, sizeof(why)), 0);
	ASSERT_HELD("100 101");
	close(other);

	static const int resizer[] = { 103 };
	other = hold(resizer, 1);
	assert_int_equal(image_lock_metadata(fd, "img", false, why, sizeof(why)), -1);
	hint_msg(want, sizeof(want), "Failed to get shared \"resize\" lock");
	assert_string_equal(why, want);
	close(other), close(fd);
}

/* qemu-img dd's output: create (101 103 203), then open (100 101). */
static void test_output_bytes(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX];
	int fd = open_image(O_RDWR);
	assert_int_equal(image_lock_output_create(fd, "img", false, why, sizeof(why)), 0);
	ASSERT_HELD("101 103 203");
	assert_int_equal(image_lock_output_open(fd, "img", false, why, sizeof(why)), 0);
	ASSERT_HELD("100 101");
	close(fd);
}

/* Each conflict seen with qemu-img dd of= on a held file, in its order. */
static void test_output_refused(void **state)
{
	(void)state;
	static const struct {
		int byte;
		bool at_create;
		const char *msg;
	} cases[] = {
		{ 201, true, "Failed to get \"write\" lock" },
		{ 203, true, "Failed to get \"resize\" lock" },
		{ 103, true, "Failed to get shared \"resize\" lock" },
		{ 200, false, "Failed to get \"consistent read\" lock" },
	};
	char why[IMAGE_LOCK_WHY_MAX], want[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int check_only = 0; check_only <= 1; check_only++) {
			int other = hold(&cases[i].byte, 1);
			/* check_only is for an existing target opened write-only */
			int fd = open_image(check_only ? O_WRONLY : O_RDWR);
			int r = image_lock_output_create(fd, "img", check_only, why,
							 sizeof(why));
			if (!cases[i].at_create) {
				assert_int_equal(r, 0);
				r = image_lock_output_open(fd, "img", check_only, why,
							   sizeof(why));
			}
			assert_int_equal(r, -1);
			hint_msg(want, sizeof(want), cases[i].msg);
			assert_string_equal(why, want);
			close(other);
			ASSERT_HELD("");
			close(fd);
		}
	}
	/* Other holders do not matter: a QEMU writing it, readers. */
	static const int fine[] = { 100, 101, 102, 104, 202, 204 };
	int other = hold(fine, 6);
	int fd = open_image(O_WRONLY);
	assert_int_equal(image_lock_output_create(fd, "img", true, why, sizeof(why)), 0);
	assert_int_equal(image_lock_output_open(fd, "img", true, why, sizeof(why)), 0);
	close(fd), close(other);
}

/* The output is locked after the host has confined itself: its seccomp
 * filter must let these fcntl calls through. */
static void test_under_host_seccomp(void **state)
{
	(void)state;
	char why[IMAGE_LOCK_WHY_MAX];
	int fd = open_image(O_RDONLY);
	/* as in cordon, the input is locked first, before confinement */
	assert_int_equal(image_lock_input(fd, "img", why, sizeof(why)), 0);
	int out = open_image(O_RDWR);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct confine_plan plan = { .proc_fd = -1, .out_dir_fd = -1,
					     .out_device_fd = -1 };
		int step = seccomp_host_install(&plan) != 0 ? 2 :
			   image_lock_output_create(out, "img", false, why, sizeof(why)) ? 3 :
			   image_lock_output_open(out, "img", false, why, sizeof(why)) ? 4 :
			   /* only the lock commands are let through */
			   syscall(SYS_fcntl, out, F_SETFL, O_APPEND) != -1 ? 5 : 0;
		syscall(SYS_exit_group, step); /* no libc exit path */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(out), close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_input_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_shares, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_refused_by_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_lock_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_under_host_seccomp, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
