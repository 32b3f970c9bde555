/*
 * The host side of the sandbox boundary.  Both sandboxes hand every doorbell
 * to hc_server_handle(), which copies the request out of shared memory,
 * validates every field, and only then touches a file descriptor.
 */
#ifndef CORDON_HOST_HOSTCALL_SERVER_H
#define CORDON_HOST_HOSTCALL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "devices.h"
#include "progress.h"
#include "result_store.h"

/* Where a run's results and progress go; the caller owns both, and either
 * may be NULL (the command sends none: a report is then a violation). */
struct hc_sinks {
	struct result_store *results; /* HC_OP_RESULT, rendered after the run */
	struct progress *progress;    /* HC_OP_PROGRESS */
};

enum hc_serve_result {
	HC_SERVE_CONTINUE = 0, /* reply written; resume the sandbox */
	HC_SERVE_EXIT,         /* the sandbox finished; exit_status is set */
	HC_SERVE_VIOLATION,    /* bad request; violation says which; stop it */
};

struct hc_server {
	struct host_devices *devs;
	uint8_t *region;       /* shared memory as the host maps it */
	uint64_t region_len;
	/* Data buffers must lie in [buf_floor, region_len): the sandbox's heap.
	 * Below it are the mailbox, the job and (KVM) the guest's page tables
	 * and stacks, which no hostcall may overwrite.  Message text may also
	 * come from the message buffer in the mailbox page. */
	uint64_t buf_floor;
	uint32_t messages;     /* sent so far, capped at HC_MAX_MESSAGES */
	uint32_t errors_seen;  /* HC_LEVEL_ERROR messages printed */
	/* Host notes (hostcall_abi.h): texts the sandbox may have printed but
	 * not read; note i + 1 is notes[i]. */
	char *notes[HC_MAX_NOTES];
	uint32_t n_notes;
	struct hc_sinks sinks;
	/* HC_WRITE_BEHIND: a write is with the worker (write_behind.h), and
	 * the -errno of one that failed and was not told yet (0: none). */
	bool behind;
	uint32_t behind_dev;
	uint64_t behind_off, behind_end;
	int64_t behind_err;
	int exit_status;
	char violation[256];
};

void hc_server_init(struct hc_server *s, struct host_devices *devs,
		    const struct hc_sinks *sinks, uint8_t *region, uint64_t region_len);
enum hc_serve_result hc_server_handle(struct hc_server *s);
/* Waits for a write behind (the region must stay mapped until then) and
 * frees the notes. */
void hc_server_fini(struct hc_server *s);

/* The longest note text kept: a lock conflict or a refusal naming a path. */
#define HC_NOTE_TEXT_MAX 16384u

#endif
