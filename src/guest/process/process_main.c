/*
 * The process sandbox: a fresh static program (no libc, no dynamic loader),
 * exec'd by the host with an empty environment and three descriptors:
 *   0  the reply pipe (read)      1  the request pipe (write)
 *   3  the shared region (a memfd; mapped here, then closed)
 * Nothing of the host's address space exists here: not its environment,
 * argv, heap or layout.  Once the region is mapped the helper enters
 * SECCOMP_MODE_STRICT (read, write, exit, sigreturn) and runs core with
 * the same hostcall client and entry as the KVM guest.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../abi/hostcall_abi.h"
#include "../hostcall_client.h"
#include "../sandbox_entry.h"
#include "linux_syscall.h"
#include "process_misbehave.h"

#define REPLY_FD 0
#define REQUEST_FD 1
#define REGION_FD 3

/* %fs:0x28 is where hosted library code (zlib, libzstd) reads its stack
 * protector canary. */
static uint64_t tls[8] __attribute__((aligned(64)));
#define TLS_CANARY 5

struct kstat { /* the kernel's struct stat on x86-64: only st_size is read */
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t times[6];
	int64_t reserved[3];
};

static void ring(void *unused)
{
	(void)unused;
	char b = 1;
	if (lsys3(LSYS_write, REQUEST_FD, (long)&b, 1) != 1 ||
	    lsys3(LSYS_read, REPLY_FD, (long)&b, 1) != 1)
		lsys_exit(1);
}

/* The canary from the kernel's AT_RANDOM bytes, past argv and envp. */
static void set_tls(uint64_t *sp)
{
	uint64_t argc = sp[0], *p = sp + 1 + argc + 1;
	while (*p)
		p++;
	for (p++; p[0]; p += 2)
		if (p[0] == L_AT_RANDOM)
			__builtin_memcpy(&tls[TLS_CANARY], (const void *)p[1], 8);
	tls[TLS_CANARY] &= ~0xffull; /* low byte 0, as glibc's */
	tls[0] = (uint64_t)tls;      /* the TCB points at itself */
	if (lsys3(LSYS_arch_prctl, L_ARCH_SET_FS, (long)tls, 0) != 0)
		lsys_exit(1);
}

__attribute__((noreturn)) void process_main(uint64_t *sp);

void process_main(uint64_t *sp)
{
	set_tls(sp);
	struct kstat st;
	if (lsys3(LSYS_fstat, REGION_FD, (long)&st, 0) != 0 || st.size < HC_REGION_FREE_OFF)
		lsys_exit(1);
	uint64_t len = (uint64_t)st.size;
	long addr = lsys6(LSYS_mmap, 0, (long)len, L_PROT_RW, L_MAP_SHARED, REGION_FD, 0);
	if (addr < 0 && addr > -4096)
		lsys_exit(1);
	lsys3(LSYS_close, REGION_FD, 0, 0);
	if (lsys3(LSYS_prctl, L_PR_SET_SECCOMP, L_SECCOMP_MODE_STRICT, 0) != 0)
		lsys_exit(1);

	uint8_t *region = (uint8_t *)addr;
	static struct hc_client client;
	hc_client_init(&client, region, len, ring, NULL);
	char **argv = (char **)(sp + 1);
	process_misbehave(&client, argv, argv + sp[0] + 1);
	sandbox_entry(&client, region + HC_REGION_FREE_OFF, len - HC_REGION_FREE_OFF);
	lsys_exit(1);
}
