/*
 * Failure exits for hosted library code linked into the guest (zlib and
 * libzstd are Debian's builds, compiled with -fstack-protector-strong).
 * There is no process to kill: the guest stops on an invalid-opcode fault,
 * which the VMM reports as "the sandbox stopped: guest exception 6 (invalid
 * opcode) at rip ..." and the run fails without output.
 */
#include <stdlib.h>

__attribute__((noreturn)) void abort(void)
{
	for (;;)
		__builtin_trap();
}

/* A smashed stack canary (read at %fs:0x28; boot.S points FS at kvm_tls). */
__attribute__((noreturn)) void __stack_chk_fail(void)
{
	abort();
}
