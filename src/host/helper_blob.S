/*
 * The process sandbox's helper (build/guest/cordon-sandbox, a static ELF
 * built from src/guest/process) embedded in the cordon binary.  The Makefile
 * passes its path as HELPER_BIN.  Read-only data: sandbox_process.c writes
 * it into a sealed memfd and executes that.
 */
	.section .rodata.cordon_helper, "a"
	.balign	4096
	.globl	cordon_sandbox_helper
	.globl	cordon_sandbox_helper_end
cordon_sandbox_helper:
	.incbin	HELPER_BIN
cordon_sandbox_helper_end:

	.section .note.GNU-stack, "", @progbits
