/*
 * The host's backing-file policy on real files in a scratch directory:
 * what an image may name, and every way a hostile name is refused.
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
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/abi/job.h"
#include "../../src/host/backing_policy.h"

struct fx {
	char root[PATH_MAX];
	char img[PATH_MAX];
	struct host_devices devs;
};

static void put(const char *dir, const char *name, const char *content)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/cordon-policy-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/img", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/img/sub", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/other", f->root);
	mkdir(p, 0755);
	snprintf(f->img, sizeof(f->img), "%s/img", f->root);
	put(f->img, "ov.img", "overlay");
	put(f->img, "base.raw", "base");
	put(f->img, "sub/deep.raw", "deep");
	snprintf(p, sizeof(p), "%s/other", f->root);
	put(p, "secret", "secret");
	snprintf(p, sizeof(p), "%s/img/fifo", f->root);
	mkfifo(p, 0600);
	char target[PATH_MAX + 32];
	snprintf(target, sizeof(target), "%s/other/secret", f->root);
	snprintf(p, sizeof(p), "%s/img/link", f->root);
	assert_int_equal(symlink(target, p), 0);
	snprintf(p, sizeof(p), "%s/img/ov.img", f->root);
	assert_int_equal(devices_open_input(&f->devs, strdup(p)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free((char *)f->devs.dev[CORDON_DEV_INPUT].name);
	devices_close(&f->devs);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t attach(struct fx *f, uint32_t from, const char *name, uint32_t *rule)
{
	char why[256];
	return backing_attach(&f->devs, from, name, strlen(name), rule, why, sizeof(why));
}

static void files_beside_and_below_the_image_are_allowed(void **state)
{
	struct fx *f = *state;
	uint32_t rule = 99;
	int64_t dev = attach(f, CORDON_DEV_INPUT, "base.raw", &rule);
	assert_true(dev >= 2);
	assert_int_equal(rule, HC_BACKING_OK);
	assert_non_null(strstr(f->devs.dev[dev].name, "/img/base.raw"));
	assert_int_equal(f->devs.dev[dev].role, DEV_ROLE_INPUT);
	assert_int_equal(f->devs.dev[dev].depth, 1);
	char buf[8] = { 0 };
	assert_int_equal(pread(f->devs.dev[dev].fd, buf, 4, 0), 4);
	assert_string_equal(buf, "base");
	assert_true(attach(f, CORDON_DEV_INPUT, "sub/deep.raw", &rule) > 0);
	char abs[PATH_MAX + 32];
	snprintf(abs, sizeof(abs), "%s/sub/../sub/deep.raw", f->img);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, abs, &rule), -ELOOP); /* same file */
	assert_int_equal(rule, HC_BACKING_LOOP);
}

static void escapes_are_refused(void **state)
{
	struct fx *f = *state;
	uint32_t rule;
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "../other/secret", &rule), -EACCES);
	assert_int_equal(rule, HC_BACKING_OUTSIDE);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "/etc/passwd", &rule), -EACCES);
	assert_int_equal(rule, HC_BACKING_OUTSIDE);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "link", &rule), -EACCES); /* symlink out */
	assert_int_equal(rule, HC_BACKING_OUTSIDE);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "fifo", &rule), -EINVAL);
	assert_int_equal(rule, HC_BACKING_NOT_REGULAR);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "sub", &rule), -EINVAL);
	assert_int_equal(rule, HC_BACKING_NOT_REGULAR);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "nbd:localhost:10809", &rule), -EINVAL);
	assert_int_equal(rule, HC_BACKING_BAD_NAME);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "json:{\"file\":1}", &rule), -EINVAL);
	char why[64];
	assert_int_equal(backing_attach(&f->devs, CORDON_DEV_INPUT, "base.raw\0x", 10, &rule,
					why, sizeof(why)), -EINVAL); /* a NUL inside the name */
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "", &rule), -EINVAL);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "nothere", &rule), -ENOENT);
	assert_int_equal(rule, HC_BACKING_NOT_FOUND);
	assert_int_equal(attach(f, CORDON_DEV_INPUT, "ov.img", &rule), -ELOOP); /* itself */
	assert_int_equal(f->devs.count, 2); /* nothing was attached */
}

static void allow_list_adds_directories(void **state)
{
	struct fx *f = *state;
	uint32_t rule;
	char other[PATH_MAX + 32];
	snprintf(other, sizeof(other), "%s/img/../other", f->root);
	assert_int_equal(backing_allow_dir(&f->devs, other), 0);
	assert_true(attach(f, CORDON_DEV_INPUT, "../other/secret", &rule) > 0);
	assert_int_equal(backing_allow_dir(&f->devs, "/nonexistent-dir"), -1);
}

static void chains_are_capped(void **state)
{
	struct fx *f = *state;
	uint32_t rule;
	uint32_t from = CORDON_DEV_INPUT;
	for (unsigned i = 0; i < HC_MAX_BACKING_DEPTH; i++) {
		char name[32];
		snprintf(name, sizeof(name), "l%u", i);
		put(f->img, name, "x");
		int64_t dev = attach(f, from, name, &rule);
		assert_true(dev > 0);
		from = (uint32_t)dev;
	}
	put(f->img, "one-too-many", "x");
	assert_int_equal(attach(f, from, "one-too-many", &rule), -ELOOP);
	assert_int_equal(rule, HC_BACKING_TOO_DEEP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(files_beside_and_below_the_image_are_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(escapes_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(allow_list_adds_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(chains_are_capped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
