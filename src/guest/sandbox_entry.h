/*
 * What both sandboxes run once their transport is up: read the job from the
 * shared region, build core's env over the hostcall client and a heap, run
 * core, report the exit status.
 */
#ifndef CORDON_GUEST_SANDBOX_ENTRY_H
#define CORDON_GUEST_SANDBOX_ENTRY_H

#include "hostcall_client.h"

/* Never returns in a real sandbox (hc_client_exit stops it). */
void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len);

#endif
