/*
 * Core's entry point and per-run context.  Core is freestanding: it sees the
 * world only through the hostcall table and the allocator in its env, keeps
 * no global state, and reports failure as a negative errno plus one recorded
 * message (core_fail) that core_run hands to the host.
 */
#ifndef CORDON_CORE_CORE_H
#define CORDON_CORE_CORE_H

#include "../abi/job.h"
#include "errno_codes.h"
#include "hostcall.h"
#include "rt.h"

/* Memory for core.  In a sandbox it hands out the shared region only. */
struct core_alloc {
	void *ctx;
	/* align is a power of two; returns NULL when the cap is reached. */
	void *(*alloc)(void *ctx, size_t size, size_t align);
	void (*free)(void *ctx, void *ptr);
};

struct core_env {
	const struct hostcalls *hc;
	const struct core_alloc *mem;
};

#define CORE_ERR_MAX 1024u /* = HC_MAX_MESSAGE_LEN: one message */
#define CORE_HINT_MAX 256u

/* One run: the env plus the first failure's message, the host note
 * (hostcall_abi.h) that completes it, if any, and the hint line qemu
 * prints under some errors. */
struct core_ctx {
	const struct core_env *env;
	char err[CORE_ERR_MAX];
	uint32_t err_note;
	char hint[CORE_HINT_MAX];
	/* qemu's BDRV_O_NO_BACKING (info): backing files are named, not
	 * opened (format.h). */
	bool open_no_backing;
	/* qemu's BDRV_O_NO_IO (info): images are opened to be described, not
	 * read, so what only reading needs (a key) is not asked for. */
	bool open_no_io;
	/* io.h's write-behind window. */
	struct io_behind {
		const uint8_t *lo, *hi; /* io_write may write [lo, hi) behind */
		const uint8_t *buf;     /* the write behind, [buf, buf+len); NULL: none */
		uint64_t len;
		const uint8_t *failed;  /* where the write behind that failed read
					 * from, when that was the last failure told */
	} behind;
};

void core_ctx_init(struct core_ctx *ctx, const struct core_env *env);

/* Records the message (first failure wins) and returns err (negative). */
int core_fail(struct core_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As core_fail, with a hint printed on a line of its own under the error
 * (qemu's error_append_hint): recorded only with the failure itself. */
int core_fail_hint(struct core_ctx *ctx, int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* As core_fail, for a failure whose cause is a host note: the recorded
 * message is empty (callers put their context in front with core_prefix)
 * and the host prints the note after it. */
int core_fail_note(struct core_ctx *ctx, int err, uint32_t note);

/* Puts text in front of the recorded message (records strerror(err) first
 * if there is none), so nested failures read as qemu-img's do:
 * "Could not open 'a': Could not open backing file: ...".  Returns err. */
int core_prefix(struct core_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sends a line to the user now (warnings, non-fatal notes). */
void core_say(struct core_ctx *ctx, uint32_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void *core_alloc(struct core_ctx *ctx, size_t size, size_t align);
void core_free(struct core_ctx *ctx, void *ptr);

/*
 * Runs a job to completion and returns the exit status cordon should have:
 * the command's (0..3), or 1 after a failure, whose recorded message has been
 * sent as an error.  The job is checked here too (command.c): core trusts
 * nothing it did not check.
 */
int core_run(const struct core_env *env, const struct cordon_job *job);

#endif
