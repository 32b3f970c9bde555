/*
 * The process sandbox helper's entry: the kernel's initial stack (argc,
 * argv, envp, auxv) is handed to process_main(), which never returns.
 */
	.text
	.globl	_start
_start:
	xorl	%ebp, %ebp
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	process_main
	ud2

	.section .note.GNU-stack, "", @progbits
