/*
 * The sandbox side of hostcalls: implements core's hostcall table by filling
 * the mailbox and ringing the doorbell.  Shared by the KVM guest (doorbell =
 * port write) and the strict-seccomp child (doorbell = pipe byte).
 */
#ifndef CORDON_GUEST_HOSTCALL_CLIENT_H
#define CORDON_GUEST_HOSTCALL_CLIENT_H

#include "../abi/hostcall_abi.h"
#include "../core/hostcall.h"

struct hc_client {
	volatile struct hc_msg *mbox;
	uint8_t *region;        /* shared region as this side sees it */
	uint64_t region_len;
	void (*ring)(void *ring_ctx);
	void *ring_ctx;
};

void hc_client_init(struct hc_client *c, uint8_t *region, uint64_t region_len,
		    void (*ring)(void *), void *ring_ctx);
/* A hostcall table whose ctx is c. */
void hc_client_table(struct hc_client *c, struct hostcalls *table);
/* Sends one request as it is (every field the caller's) and returns ret;
 * ret2 too when asked.  The table's calls and test payloads use it. */
int64_t hc_client_send(struct hc_client *c, const struct hc_msg *req,
		       uint64_t *ret2);
/* Tells the host the run is over; does not return in a sandbox. */
void hc_client_exit(struct hc_client *c, int status);

#endif
