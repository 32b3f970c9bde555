/*
 * In-memory devices serving core's hostcall table, for unit tests and fuzz
 * targets.  Each device is an input or an output (the host's access rule),
 * with a display name; children are inputs with a name open_child can
 * attach.  Roles are enforced the way the host enforces them, and a broken
 * rule is recorded (violations), so a test can assert that core never asks
 * for what it may not have.
 *
 * memdevs_init() adds one output as device 0 ("out.raw"), the layout
 * test_dd_job() (test_job.h) describes; nothing in memdev depends on it.
 */
#ifndef CORDON_TESTS_MEMDEV_H
#define CORDON_TESTS_MEMDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/core.h"
#include "../../src/host/result_store.h"

#define MEMDEV_MAX 16
#define MEMDEV_MAX_MSGS 16
#define MEMDEV_HOLE_BLOCK 4096u
#define MEMDEV_MAX_NOTES 16

struct memdev {
	bool output;      /* written (create, write, truncate); else read */
	const char *display; /* what dev_info answers */
	const char *name; /* for open_child; NULL = not attachable */
	bool attached;    /* handed out by open_child already */
	uint8_t *data;
	uint64_t size;
	bool created;    /* output: create called */
	bool *hole;      /* per 4 KiB block; NULL = all data */
	uint32_t file_type; /* what dev_info says (enum hc_file_type); 0: a
			     * regular file, or for an output one once created */
};

struct memdevs {
	struct memdev dev[MEMDEV_MAX];
	uint32_t count;
	char names[MEMDEV_MAX][128]; /* display names memdev made (add_output) */
	char msgs[MEMDEV_MAX_MSGS][2 * CORE_ERR_MAX]; /* text + note */
	uint32_t msg_level[MEMDEV_MAX_MSGS];
	int nmsgs;
	int violations;      /* requests the host would have refused */
	uint64_t copied;     /* bytes moved by the copy hostcall */
	uint64_t written;    /* bytes moved by the write hostcall */
	int calls[HC_OP__COUNT]; /* hostcalls served, by op */
	int fail_truncate;   /* -errno to return from truncate, or 0 */
	int fail_create;     /* -errno to return from create, or 0 ... */
	const char *create_note; /* ... with this host note, if not NULL */
	int fail_read;       /* -errno to return from read and copy, or 0 */
	const char *refuse_child; /* not NULL: open_child refuses, this the note */
	char lock_why[128];  /* non-empty: lock fails, this the note */
	/* Host notes handed out (ids 1..nnotes); a message naming one gets
	 * its text appended, as the host prints it. */
	const char *notes[MEMDEV_MAX_NOTES];
	uint32_t nnotes;
	int locks;           /* lock hostcalls served */
	struct result_store results; /* checked as the host checks them */
	uint64_t progress_done, progress_total;
	/* The write behind (HC_WRITE_BEHIND), made only when the host would
	 * have to finish it: at the next write behind, settle, or request on an
	 * output.  Its bytes are taken then, so a caller that changes the
	 * buffer too early writes the wrong data, as with the real host. */
	struct {
		bool pending;
		uint32_t dev;
		uint64_t off, len;
		const uint8_t *buf;
		int64_t err;      /* a failure not told yet */
	} behind;
	int fail_behind;     /* -errno: the write behind at fail_behind_off fails */
	uint64_t fail_behind_off;
	int behind_writes;   /* writes made behind */
	uint64_t mem_cap;    /* allocator cap in bytes (0 = none) */
	uint64_t mem_used;
	/* Live allocations: a read/write buffer must lie in one of them, as in
	 * a sandbox only core_alloc'd memory is visible to the host. */
	struct memdev_block { const uint8_t *p; size_t len; } *blocks;
	size_t nblocks, blocks_cap;
	struct hostcalls table;
	struct core_alloc alloc;
	struct core_env env;
};

void memdevs_init(struct memdevs *m);
/* Adds an input holding a copy of data ("in.raw"); its device number. */
uint32_t memdevs_add_input(struct memdevs *m, const void *data, uint64_t size);
/* Right after memdevs_init(): device 0 made an input (info's layout, the
 * image first) instead of the output memdevs_init() put there. */
void memdevs_input_first(struct memdevs *m, const void *data, uint64_t size);
/* An input that open_child can attach by name (not yet attached). */
uint32_t memdevs_add_named(struct memdevs *m, const char *name, const void *data,
			   uint64_t size);
/* Another output (not yet created); its device number. */
uint32_t memdevs_add_output(struct memdevs *m, const char *display);
/* Marks [off, off+len) of an input as a hole (must be zeros in data). */
void memdevs_punch(struct memdevs *m, uint32_t dev, uint64_t off, uint64_t len);
void memdevs_free(struct memdevs *m);

#endif
