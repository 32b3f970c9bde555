/*
 * The sandbox boundary: the wire format of hostcalls.
 *
 * Code inside a sandbox (the KVM guest or the strict-seccomp child) asks the
 * host for everything through one struct hc_msg in a mailbox at a fixed place
 * in the shared region, then rings a doorbell (a port write for KVM, a pipe
 * byte for the process sandbox).  The host copies the message out of shared
 * memory before looking at it, validates every field (hostcall_server.c) and
 * writes only ret/ret2 back.
 *
 * Buffers are named by their offset inside the shared region, never by a
 * pointer: the host resolves and bounds-checks them against the region.
 */
#ifndef CORDON_ABI_HOSTCALL_ABI_H
#define CORDON_ABI_HOSTCALL_ABI_H

#include <stdint.h>

enum hc_op {
	HC_OP_READ = 1,      /* dev, off, len, buf -> ret bytes read (short at EOF) */
	HC_OP_WRITE = 2,     /* dev, off, len, buf -> ret bytes written */
	HC_OP_COPY = 3,      /* dev -> dev2, off -> off2, len -> ret bytes copied */
	HC_OP_SIZE = 4,      /* dev -> ret size in bytes */
	HC_OP_TRUNCATE = 5,  /* dev, len = new size; first call creates the output */
	HC_OP_EXTENT = 6,    /* dev, off, len -> ret run length, ret2 = 1 data / 0 hole */
	HC_OP_MESSAGE = 7,   /* level, len, buf = text (not NUL-terminated),
			      * off = a host note to print after it (0: none) */
	HC_OP_EXIT = 8,      /* off = exit status; the sandbox stops after this */
	HC_OP_OPEN_BACKING = 9, /* dev = image naming it, len, buf = name (not
				 * NUL-terminated) -> ret new input device;
				 * refused: ret -EACCES, ret2 = note */
	HC_OP_LOCK = 10,     /* dev, off = enum hc_lock_kind -> ret 0; refused:
			      * ret -EAGAIN, ret2 = note */
	HC_OP_CREATE = 11,   /* dev = the output, len = its virtual size ->
			      * ret 0; refused: ret -errno, ret2 = note */
	HC_OP__COUNT
};

enum hc_level {
	HC_LEVEL_ERROR = 0,   /* printed as "cordon: <text>" */
	HC_LEVEL_WARNING = 1, /* printed as "cordon: warning: <text>" */
};

/* What HC_OP_LOCK asks for: QEMU takes more locks on a file once it knows
 * the file holds a format with metadata (not raw). */
enum hc_lock_kind {
	HC_LOCK_METADATA = 1,
};

/*
 * Host notes.  When the host refuses a request for a reason that lies in the
 * host's files (a backing file that does not exist, or that policy refuses,
 * a lock held by another process, an output that cannot be created), the
 * sandbox gets one error number and a note id in ret2, never the reason:
 * it must not learn what exists on the host.  The host keeps the note's
 * text (qemu-img's words for the cause) and prints it after a message whose
 * `off` names it, so the user reads one line in qemu-img's shape:
 * "Could not open 'a': Could not open backing file: " + the note.
 * Ids start at 1; at most HC_MAX_NOTES per run.
 *
 * Besides ret/ret2, the only bytes the host ever writes into the region
 * are the data of a read.
 */

struct hc_msg {
	uint32_t op;
	uint32_t dev;
	uint32_t dev2;
	uint32_t level;
	uint64_t off;
	uint64_t off2;
	uint64_t len;
	uint64_t buf;  /* offset of the data buffer inside the shared region */
	int64_t ret;   /* reply: result, or -errno */
	uint64_t ret2; /* reply: second result (extent kind, note id) */
};
_Static_assert(sizeof(struct hc_msg) == 64, "hc_msg is part of the ABI");

/*
 * Limits the host enforces on every request.  A request over a limit is a
 * protocol violation and ends the run.
 */
#define HC_MAX_IO_LEN (64u << 20)   /* one read/write; bounds host-side work */
#define HC_MAX_COPY_LEN (1ull << 30) /* one host-side copy */
#define HC_MAX_MESSAGE_LEN 1024u     /* one message's text */
#define HC_MAX_MESSAGES 64u          /* messages per run: a flood is an attack */
#define HC_MAX_NOTES 64u             /* refusals per run: each costs host work */
#define HC_MAX_DEVICES 32u           /* input chain + output */
#define HC_MAX_BACKING_DEPTH 16u     /* backing links below the input */
#define HC_MAX_BACKING_NAME 1023u    /* qcow2's own limit on the name */

/*
 * Layout of the start of the shared region, the same in both sandboxes.  For
 * KVM the region is all of guest memory from guest-physical 0, so page 0 is
 * left unused: the guest keeps it unmapped to catch NULL dereferences.
 */
#define HC_REGION_MAILBOX_OFF 0x1000u /* struct hc_msg */
#define HC_REGION_MSGBUF_OFF 0x1400u  /* message text, HC_MAX_MESSAGE_LEN */
#define HC_REGION_JOB_OFF 0x2000u     /* struct cordon_job, written by host */
#define HC_REGION_JOB_MAX 0x3000u     /* the job may use up to three pages */
#define HC_REGION_FREE_OFF 0x5000u    /* first byte the sandbox may use */

/* KVM: the doorbell is an 8-bit OUT to this port. */
#define HC_KVM_DOORBELL_PORT 0x0cd0u

#endif
