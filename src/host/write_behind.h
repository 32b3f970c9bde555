/*
 * The host's write-behind worker: one thread that makes the sandbox's
 * HC_WRITE_BEHIND writes (hostcall_abi.h) while the sandbox goes on to read
 * its next piece, so reading and writing overlap on two cores as they do in
 * qemu-img's thread pool.  One write is in flight at a time: handing over
 * the next waits for it.
 *
 * host_confine() starts it between its two layers: the thread inherits the
 * Landlock domain of the thread that makes it, and the seccomp filter comes
 * to it by TSYNC.  From then on it only calls pwrite64 and futex.  It is
 * never joined (a thread's exit makes calls the filter refuses): it waits,
 * idle, until the process exits.  Without it (not started: unit tests, or
 * the kernel refused a thread) the server writes in the caller's thread.
 */
#ifndef CORDON_HOST_WRITE_BEHIND_H
#define CORDON_HOST_WRITE_BEHIND_H

#include <stdbool.h>
#include <stdint.h>

/* Starts the worker once per process; 0, or -errno (it stays absent). */
int write_behind_start(void);
bool write_behind_running(void);

/* Hands a write of [buf, buf+len) to fd at off to the worker, after
 * waiting for the write before it.  buf must stay mapped and unchanged
 * until the next submit or wait returns.  Returns that earlier write's
 * result (bytes, or -errno), or 0 when there was none. */
int64_t write_behind_submit(int fd, const void *buf, uint64_t len, uint64_t off);
/* Waits until no write is in flight: the last one's result (bytes, or
 * -errno), or 0 when there was none. */
int64_t write_behind_wait(void);

#endif
