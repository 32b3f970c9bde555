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
	HC_OP_WRITE = 2,     /* dev, off, len, buf, level = HC_WRITE_* flags ->
			      * ret bytes written (or, behind, accepted) */
	HC_OP_COPY = 3,      /* dev -> dev2, off -> off2, len, level = HC_COPY_*
			      * flags -> ret bytes copied */
	HC_OP_SIZE = 4,      /* dev -> ret size in bytes */
	HC_OP_TRUNCATE = 5,  /* dev, len = new size (after create) */
	/* 6 was a one-run EXTENT: HC_OP_EXTENTS answers many runs at once */
	HC_OP_MESSAGE = 7,   /* level, len, buf = text (not NUL-terminated),
			      * off = a host note to print after it (0: none) */
	HC_OP_EXIT = 8,      /* off = exit status; the sandbox stops after this */
	HC_OP_OPEN_CHILD = 9, /* dev = image naming it, dev2 = enum hc_child_kind,
			       * len, buf = name (not NUL-terminated) -> ret the
			       * new device; refused: ret -EACCES, ret2 = note */
	HC_OP_LOCK = 10,     /* dev, off = enum hc_lock_kind -> ret 0; refused:
			      * ret -EAGAIN, ret2 = note */
	HC_OP_CREATE = 11,   /* dev = an output, len = its virtual size ->
			      * ret 0; refused: ret -errno, ret2 = note */
	HC_OP_DEV_INFO = 12, /* dev, len, buf -> ret the length of the device's
			      * display name, of which min(len, ret) bytes are
			      * written into buf (no NUL); ret2 = enum
			      * hc_file_type */
	HC_OP_EXTENTS = 13,  /* dev, off, len, buf = struct hc_extent[off2] ->
			      * ret runs written: data/hole runs in order from
			      * off, covering at most len bytes */
	HC_OP_RESULT = 14,   /* len, buf = result records (hc_record) -> ret 0 */
	HC_OP_PROGRESS = 15, /* off = done, off2 = total -> ret 0 */
	HC_OP_ADD_OUTPUT = 16, /* dev = one of the job's outputs, dev2 = enum
				* hc_output_name, off = index (1-based) -> ret
				* a new output beside it, named by the host
				* (src/core/output_names.h), to HC_OP_CREATE;
				* refused: ret -errno, ret2 = note */
	HC_OP_SETTLE = 17,   /* -> ret 0 once no write is behind, or the -errno
			      * of one that failed (HC_WRITE_BEHIND) */
	HC_OP_ALLOCATED = 18, /* dev -> ret the bytes its file has allocated
			       * (st_blocks * 512; qemu-img info's disk size),
			       * or -errno */
	HC_OP__COUNT
};

/* HC_OP_COPY flags.  SKIP_HOLES: the source's holes in the range are not
 * written (the destination must read zeros there already: a fresh file),
 * and bytes past the source's end count as a hole; ret is then len.  One
 * call for a scattered range instead of one per data run. */
#define HC_COPY_SKIP_HOLES 1u

/*
 * HC_OP_WRITE flags.  BEHIND: the host may still be writing when it
 * replies, so the sandbox reads its next piece meanwhile.  The buffer must
 * stay unchanged until the next BEHIND write or HC_OP_SETTLE returns (the
 * host makes one such write at a time, and waits for it before any other
 * request that could see it: anything but a read or extents of an input,
 * progress, and a write or copy to other bytes).  A failure is told by the next BEHIND write, which is then
 * not made (ret -errno, ret2 = HC_WRITE_EARLIER), or by HC_OP_SETTLE.  A
 * sandbox that exits with status 0 before it was told is a violation: the
 * output is not published.
 */
#define HC_WRITE_BEHIND 1u
#define HC_WRITE_EARLIER 1u /* ret2: the failure was the write before */

/* What a child file is to the image that names it (HC_OP_OPEN_CHILD). */
enum hc_child_kind {
	HC_CHILD_BACKING = 1, /* a backing file: a chain, depth-limited, no loops */
	HC_CHILD_EXTENT = 2,  /* a VMDK descriptor's extent file: count-limited */
};

/* How HC_OP_ADD_OUTPUT names an output's extra file (qemu's VMDK rules). */
enum hc_output_name {
	HC_NAME_SPLIT_SPARSE = 1, /* prefix-s001.ext: a split image's sparse extent */
	HC_NAME_SPLIT_FLAT = 2,   /* prefix-f001.ext: a split image's flat extent */
	HC_NAME_FLAT = 3,         /* prefix-flat.ext: monolithicFlat's extent */
};

/* One run of HC_OP_EXTENTS. */
struct hc_extent {
	uint64_t len;
	uint64_t is_data; /* 1 data, 0 hole */
};
_Static_assert(sizeof(struct hc_extent) == 16, "part of the ABI");

/*
 * Result records (HC_OP_RESULT): what a command found, for the host to render
 * (qemu's human text or JSON).  A buffer holds records back to back, each an
 * 8-byte header, then the key, then the value, then padding to 8 bytes.
 * Objects and arrays nest by BEGIN/END records; an array's members have no
 * key.  The host checks every record of a call before it keeps any
 * (src/host/result_store.c).
 */
/* What kind of file a device is (HC_OP_DEV_INFO): qemu's protocol drivers
 * decide by it (host_device wants a device), and so must core. */
enum hc_file_type {
	HC_FILE_NONE = 0,    /* an output that does not exist yet */
	HC_FILE_REGULAR = 1,
	HC_FILE_CHAR = 2,
	HC_FILE_BLOCK = 3,
	HC_FILE_FIFO = 4,
};

enum hc_record_type {
	HC_REC_BEGIN_OBJECT = 1,
	HC_REC_END_OBJECT = 2,
	HC_REC_BEGIN_ARRAY = 3,
	HC_REC_END_ARRAY = 4,
	HC_REC_STRING = 5, /* value: text without NUL; the host escapes it */
	HC_REC_INT = 6,    /* value: 8 bytes, little-endian two's complement */
	HC_REC_UINT = 7,   /* value: 8 bytes, little-endian */
	HC_REC_BOOL = 8,   /* value: 1 byte, 0 or 1 */
};

struct hc_record {
	uint16_t type;      /* enum hc_record_type */
	uint16_t key_len;   /* 0 for array members and END records */
	uint32_t value_len;
};
_Static_assert(sizeof(struct hc_record) == 8, "part of the ABI");
/* A record's key and value with their padding: what follows the header. */
#define HC_RECORD_BODY(key_len, value_len) \
	(((uint64_t)(key_len) + (value_len) + 7u) & ~(uint64_t)7u)

enum hc_level {
	HC_LEVEL_ERROR = 0,   /* printed as "cordon: <text>" */
	HC_LEVEL_WARNING = 1, /* printed as "cordon: warning: <text>" */
	HC_LEVEL_TEXT = 2,    /* printed as it is, with no program name and no
			       * line end: qemu's error_printf() after a warning */
	HC_LEVEL_HINT = 3,    /* a line with no program name: the hint qemu
			       * prints under an error ("You can ...") */
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
#define HC_MAX_BACKING_DEPTH 16u     /* backing links below an input */
#define HC_MAX_EXTENT_FILES 4096u    /* extent files one image may name or make */
#define HC_MAX_DEVICES 8192u         /* all devices of a run: descriptors */
#define HC_MAX_CHILD_NAME 1023u      /* qcow2's own limit on a backing name */
#define HC_MAX_BACKING_NAME HC_MAX_CHILD_NAME
#define HC_MAX_NAME_LEN 4096u        /* a display name (HC_OP_DEV_INFO) */
#define HC_MAX_EXTENT_RUNS 4096u     /* runs in one HC_OP_EXTENTS */
#define HC_MAX_RESULT_CALL 65536u    /* bytes in one HC_OP_RESULT */
/* Result bytes per run: qemu's 65536 snapshots, each with a 127-byte id
 * and a 255-byte name, need about 37 MiB of records. */
#define HC_MAX_RESULT_BYTES (48u << 20)
#define HC_MAX_RESULT_DEPTH 16u      /* nesting of objects and arrays */

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
