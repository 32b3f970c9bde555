/*
 * The host's Landlock ruleset (see host_confine.h): once installed, this
 * process can open no file but
 *   - regular files below the directories backing files may come from
 *     (the input's directory, --backing-allow), for reading;
 *   - a device output named by of=, for writing;
 * and change no directory but the output's: create the final name there
 * (rename) and remove the temporary file.  Descriptors already open are not
 * affected, which is why every other file of the run is opened first.
 *
 * Debian 12's headers stop at ABI 2, so the later access bits and the
 * larger ruleset attribute are declared here; each is used only when the
 * running kernel's ABI has it.
 */
#include "host_confine.h"

#include <errno.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#define LL_NET_BIND_TCP (1ULL << 0)               /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define FS_ABI1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
		 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
		 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Everything the kernel's ABI can refuse, so that all of it is refused. */
static uint64_t handled_fs(int abi)
{
	uint64_t fs = FS_ABI1;
	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

static int add_rule(int ruleset, int fd, uint64_t access)
{
	struct ll_path_beneath rule = { .allowed_access = access, .parent_fd = fd };
	if (fd < 0)
		return 0;
	return syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0
		       ? -errno : 0;
}

static int add_rules(int ruleset, const struct confine_plan *c, uint64_t fs)
{
	int ret = 0;
	for (uint32_t i = 0; i < c->n_read_dirs && ret == 0; i++)
		ret = add_rule(ruleset, c->read_dirs[i], LANDLOCK_ACCESS_FS_READ_FILE);
	if (ret == 0)
		ret = add_rule(ruleset, c->out_dir_fd,
			       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE);
	if (ret == 0)
		ret = add_rule(ruleset, c->out_device_fd,
			       (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
				LANDLOCK_ACCESS_FS_IOCTL_DEV) & fs);
	return ret;
}

int landlock_host_install(const struct confine_plan *plan)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0; /* no Landlock in this kernel (or disabled) */
	struct ll_ruleset_attr attr = { .handled_access_fs = handled_fs((int)abi) };
	size_t attr_size = offsetof(struct ll_ruleset_attr, handled_access_net);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* Signals stay unscoped: the process sandbox's child must
		 * remain killable. */
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET;
		attr_size = sizeof(attr);
	}
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0)
		return -errno;
	int ret = add_rules(ruleset, plan, attr.handled_access_fs);
	if (ret == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ret = -errno;
	if (ret == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		ret = -errno;
	close(ruleset);
	return ret < 0 ? ret : (int)abi;
}
