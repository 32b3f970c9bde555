/* Reads an I/O port directly: core runs at CPL 3 with IOPL 0, so this is a
 * general-protection fault, not an exit the VMM would have to judge. */
#include "payload.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)c, (void)heap, (void)heap_len;
	uint8_t v;
	__asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(0x60));
	(void)v;
	spin_forever();
}
