/*
 * The KVM guest image (build/guest/guest.bin, a flat binary linked at
 * KVM_IMAGE_BASE) embedded in the cordon binary.  The Makefile passes its
 * path as GUEST_BIN.  Read-only data: the VMM copies it into guest memory.
 */
	.section .rodata.cordon_guest, "a"
	.balign	4096
	.globl	cordon_guest_image
	.globl	cordon_guest_image_end
cordon_guest_image:
	.incbin	GUEST_BIN
cordon_guest_image_end:

	.section .note.GNU-stack, "", @progbits
