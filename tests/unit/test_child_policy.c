/*
 * The host's child-file policy on real files in a scratch directory: what an
 * image may name as a backing or extent file, every way a hostile name is
 * refused, and the note that says why (the sandbox only ever gets -1 /
 * -EACCES).
 *
 *   root/img/ov.img        the image naming files
 *   root/img/base.raw      allowed        root/img/.hidden, .ssh/id_rsa
 *   root/img/sub/deep.raw  a subdirectory root/other/secret  outside
 *   root/img/fifo, links of every kind
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/abi/job.h"
#include "../../src/host/child_policy.h"

struct fx {
	char root[PATH_MAX];
	char img[PATH_MAX];
	char note[8192];
	struct host_devices devs;
	uint32_t in; /* the image naming files: root/img/ov.img */
};

static void put(const struct fx *f, const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	FILE *file = fopen(p, "w");
	assert_non_null(file);
	fputs(content, file);
	fclose(file);
}

static void dir(const struct fx *f, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void link_to(const struct fx *f, const char *target, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/cordon-policy-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	dir(f, "img");
	dir(f, "img/sub");
	dir(f, "img/.ssh");
	dir(f, "other");
	snprintf(f->img, sizeof(f->img), "%s/img", f->root);
	put(f, "img/ov.img", "overlay");
	put(f, "img/base.raw", "base");
	put(f, "img/.hidden", "hidden");
	put(f, "img/.ssh/id_rsa", "KEY");
	put(f, "img/sub/deep.raw", "deep");
	put(f, "other/secret", "secret");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/img/fifo", f->root);
	assert_int_equal(mkfifo(p, 0600), 0);
	link_to(f, "../other/secret", "img/link-out");
	link_to(f, "base.raw", "img/link-in");
	link_to(f, "sub/deep.raw", "img/link-sub");
	link_to(f, ".ssh/id_rsa", "img/link-dot");
	link_to(f, "/proc/self/fd/3", "img/link-proc");
	snprintf(p, sizeof(p), "%s/img/ov.img", f->root);
	devices_init(&f->devs);
	int in = devices_add_input(&f->devs, strdup(p));
	assert_true(in >= 0);
	f->in = (uint32_t)in;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free((char *)f->devs.dev[f->in].name);
	devices_close(&f->devs);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t attach_kind(struct fx *f, uint32_t from, uint32_t kind, const char *name)
{
	f->note[0] = '\0';
	return child_attach(&f->devs, from, kind, name, strlen(name), f->note,
			    sizeof(f->note));
}

static int64_t attach_from(struct fx *f, uint32_t from, const char *name)
{
	return attach_kind(f, from, HC_CHILD_BACKING, name);
}

static int64_t attach(struct fx *f, const char *name)
{
	return attach_from(f, f->in, name);
}

/* Refused, with a one-line note naming the file and containing `why`. */
static void refused_from(struct fx *f, uint32_t from, const char *name, const char *why)
{
	uint32_t before = f->devs.count;
	if (attach_from(f, from, name) != -1)
		fail_msg("'%s' was attached", name);
	if (!strstr(f->note, why))
		fail_msg("'%s': note \"%s\" lacks \"%s\"", name, f->note, why);
	assert_null(strchr(f->note, '\n'));
	assert_int_equal(f->devs.count, before);
}

static void refused(struct fx *f, const char *name, const char *why)
{
	refused_from(f, f->in, name, why);
}

static void read_back(struct fx *f, int64_t dev, const char *want)
{
	char buf[16] = { 0 };
	assert_true(dev > 0); /* a child: after the image that names it */
	assert_int_equal(pread(f->devs.dev[dev].fd, buf, sizeof(buf) - 1, 0),
			 (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

static void files_in_the_image_directory_are_allowed(void **state)
{
	struct fx *f = *state;
	int64_t dev = attach(f, "base.raw");
	read_back(f, dev, "base");
	assert_non_null(strstr(f->devs.dev[dev].name, "/img/base.raw"));
	assert_int_equal(f->devs.dev[dev].access, DEV_CAN_READ);
	assert_int_equal(f->devs.dev[dev].kind, HC_CHILD_BACKING);
	assert_int_equal(f->devs.dev[dev].depth, 1);
	/* The base naming itself or the image above it, by any name: a loop. */
	uint32_t base = (uint32_t)dev;
	refused_from(f, base, "./base.raw", "already in the backing chain");
	refused_from(f, base, "link-in", "already in the backing chain");
	refused_from(f, base, "ov.img", "already in the backing chain");
	char abs[PATH_MAX * 2];
	snprintf(abs, sizeof(abs), "%s/base.raw", f->img);
	refused_from(f, base, abs, "already in the backing chain");
}

/* Two images of one command line (convert's inputs) may share a backing
 * file: a loop is in one chain only. */
static void chains_of_two_inputs_may_share_a_base(void **state)
{
	struct fx *f = *state;
	put(f, "img/ov2.img", "overlay 2");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/img/ov2.img", f->root);
	int second = devices_add_input(&f->devs, strdup(p));
	assert_true(second >= 0);
	read_back(f, attach(f, "base.raw"), "base");
	int64_t again = attach_from(f, (uint32_t)second, "base.raw");
	read_back(f, again, "base");
	/* and the second input's chain still sees its own loops */
	refused_from(f, (uint32_t)again, "ov2.img", "already in the backing chain");
	free((char *)f->devs.dev[second].name);
}

static void absolute_and_symlinked_names_inside_are_allowed(void **state)
{
	struct fx *f = *state;
	char abs[PATH_MAX * 2];
	snprintf(abs, sizeof(abs), "%s//./base.raw", f->img);
	read_back(f, attach(f, abs), "base");
	put(f, "img/other.raw", "other");
	link_to(f, "other.raw", "img/link-other");
	read_back(f, attach(f, "link-other"), "other");
}

static void subdirectories_need_backing_allow(void **state)
{
	struct fx *f = *state;
	refused(f, "sub/deep.raw", "in a subdirectory of the image's directory");
	refused(f, "link-sub", "in a subdirectory of the image's directory");
	assert_int_equal(backing_allow_dir(&f->devs, f->img), 0);
	read_back(f, attach(f, "sub/deep.raw"), "deep");
}

static void hidden_files_are_refused_even_when_allowed(void **state)
{
	struct fx *f = *state;
	refused(f, ".hidden", "it is hidden");
	refused(f, ".ssh/id_rsa", "it is hidden");
	refused(f, "link-dot", "it is hidden");
	assert_int_equal(backing_allow_dir(&f->devs, f->img), 0);
	refused(f, ".ssh/id_rsa", "it is hidden");
	refused(f, "sub/../.hidden", "climbs out of a directory it names");
	/* Unless the user names the hidden directory itself. */
	char ssh[PATH_MAX * 2];
	snprintf(ssh, sizeof(ssh), "%s/.ssh", f->img);
	assert_int_equal(backing_allow_dir(&f->devs, ssh), 0);
	read_back(f, attach(f, ".ssh/id_rsa"), "KEY");
}

static void escapes_are_refused(void **state)
{
	struct fx *f = *state;
	refused(f, "../other/secret", "outside the directories images may name");
	refused(f, "/etc/passwd", "outside the directories images may name");
	refused(f, "link-out", "outside the directories images may name");
	refused(f, "link-proc", "outside the directories images may name");
	refused(f, "/proc/self/fd/3", "outside the directories images may name");
	refused(f, "/proc/self/environ", "outside the directories images may name");
	refused(f, "sub/../base.raw", "climbs out of a directory it names");
	/* ../x climbs off the image's directory, not off the name: allowed
	 * where that directory is (OpenStack's ../_base/<hash>). */
	char other[PATH_MAX * 2];
	snprintf(other, sizeof(other), "%s/img/../other", f->root);
	assert_int_equal(backing_allow_dir(&f->devs, other), 0);
	read_back(f, attach(f, "../other/secret"), "secret");
	/* A symlink is followed only inside the directory it is in. */
	refused(f, "link-out", "outside the directories images may name");
}

static void system_trees_are_refused_even_when_allowed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(backing_allow_dir(&f->devs, "/proc"), 0);
	assert_int_equal(backing_allow_dir(&f->devs, "/dev"), 0);
	refused(f, "/proc/self/environ", "it is in /proc, /sys or /dev");
	refused(f, "/proc/self/fd/3", "it is in /proc, /sys or /dev");
	refused(f, "/dev/null", "it is in /proc, /sys or /dev");
}

static void only_regular_files_and_nothing_is_opened_first(void **state)
{
	struct fx *f = *state;
	/* Opening the FIFO would block (no writer): O_PATH never opens it. */
	refused(f, "fifo", "it is not a regular file");
	refused(f, "sub", "it is not a regular file");
	refused(f, ".", "it is not a regular file");
	refused(f, "nothere", "Could not open '");
	assert_non_null(strstr(f->note, "img/nothere': No such file or directory"));
}

static void bad_names_and_the_chain_itself(void **state)
{
	struct fx *f = *state;
	refused(f, "nbd:localhost:10809", "cordon opens plain file names only");
	refused(f, "json:{\"file\":1}", "cordon opens plain file names only");
	refused(f, "", "cordon opens plain file names only");
	f->note[0] = '\0';
	assert_int_equal(child_attach(&f->devs, f->in, HC_CHILD_BACKING, "base.raw\0x", 10,
				      f->note, sizeof(f->note)), -1);
	assert_non_null(strstr(f->note, "plain file names only"));
	refused(f, "ov.img", "already in the backing chain (a loop)");
}

static void hostile_bytes_are_escaped_in_the_note(void **state)
{
	struct fx *f = *state;
	refused(f, "x\ncordon warning - image verified OK\x1b[2J\xc2\x9b", "Could not open '");
	assert_non_null(strstr(f->note, "x\\x0acordon warning - image verified OK\\x1b[2J"
					"\\xc2\\x9b"));
	for (const char *p = f->note; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void none_refuses_everything(void **state)
{
	struct fx *f = *state;
	f->devs.backing_none = true;
	refused(f, "base.raw", "backing files are not allowed (--backing-allow=none)");
}

static void the_output_is_never_an_input(void **state)
{
	struct fx *f = *state;
	char out[PATH_MAX * 2], alias[PATH_MAX * 2];
	snprintf(out, sizeof(out), "%s/out.raw", f->img);
	int dev = devices_add_output(&f->devs, out, "raw", UINT64_MAX);
	assert_true(dev >= 0);
	const struct host_output *o = devices_output(&f->devs, (uint32_t)dev);
	assert_true(o->fd >= 0);
	/* A name for the temporary output the policy would otherwise allow. */
	snprintf(out, sizeof(out), "%s/%s", f->img, o->tmp);
	snprintf(alias, sizeof(alias), "%s/alias.raw", f->img);
	assert_int_equal(link(out, alias), 0);
	refused(f, "alias.raw", "it is the output of this run");
}

/* Extent files: no chain, so the same file may come twice, but an image
 * names at most HC_MAX_EXTENT_FILES of them. */
static void extents_repeat_but_are_counted(void **state)
{
	struct fx *f = *state;
	int64_t a = attach_kind(f, f->in, HC_CHILD_EXTENT, "base.raw");
	int64_t b = attach_kind(f, f->in, HC_CHILD_EXTENT, "base.raw");
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(f->devs.dev[a].kind, HC_CHILD_EXTENT);
	assert_int_equal(f->devs.dev[a].depth, 0); /* extents are no backing link */
	/* the same placement rules as backing files */
	assert_int_equal(attach_kind(f, f->in, HC_CHILD_EXTENT, "../other/secret"), -1);
	assert_non_null(strstr(f->note, "cordon refuses extent file '"));
	assert_non_null(strstr(f->note, "outside the directories"));
	f->devs.dev[f->in].extents = HC_MAX_EXTENT_FILES;
	assert_int_equal(attach_kind(f, f->in, HC_CHILD_EXTENT, "base.raw"), -1);
	assert_non_null(strstr(f->note, "names more than 4096 extent files"));
	/* an extent is no link of the backing chain: the same file may still
	 * be the image's backing file */
	read_back(f, attach(f, "base.raw"), "base");
}

/* A kernel without openat2 (before 5.6), as a seccomp filter that answers
 * ENOSYS: backing files are refused, never opened some other way. */
static void without_openat2_backing_files_are_refused(void **state)
{
	struct fx *f = *state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sock_filter prog[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog fprog = { .len = 4, .filter = prog };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0)
			_exit(2);
		int64_t dev = attach(f, "base.raw");
		ssize_t n = write(pipefd[1], f->note, strlen(f->note));
		_exit(dev == -1 && n > 0 ? 0 : 1);
	}
	close(pipefd[1]);
	char note[512] = { 0 };
	assert_true(read(pipefd[0], note, sizeof(note) - 1) > 0);
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(note, "this kernel has no openat2() (Linux 5.6 or later)"));
}

static void chains_are_capped(void **state)
{
	struct fx *f = *state;
	uint32_t from = f->in;
	for (unsigned i = 0; i < HC_MAX_BACKING_DEPTH; i++) {
		char name[32], rel[48];
		snprintf(name, sizeof(name), "l%u", i);
		snprintf(rel, sizeof(rel), "img/%s", name);
		put(f, rel, "x");
		int64_t dev = attach_from(f, from, name);
		assert_true(dev > 0);
		from = (uint32_t)dev;
	}
	put(f, "img/one-too-many", "x");
	assert_int_equal(attach_from(f, from, "one-too-many"), -1);
	assert_non_null(strstr(f->note, "the backing chain is longer than 16 links"));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(files_in_the_image_directory_are_allowed),
		T(absolute_and_symlinked_names_inside_are_allowed),
		T(subdirectories_need_backing_allow),
		T(hidden_files_are_refused_even_when_allowed),
		T(escapes_are_refused),
		T(system_trees_are_refused_even_when_allowed),
		T(only_regular_files_and_nothing_is_opened_first),
		T(bad_names_and_the_chain_itself),
		T(chains_of_two_inputs_may_share_a_base),
		T(hostile_bytes_are_escaped_in_the_note),
		T(none_refuses_everything),
		T(the_output_is_never_an_input),
		T(extents_repeat_but_are_counted),
		T(without_openat2_backing_files_are_refused),
		T(chains_are_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
