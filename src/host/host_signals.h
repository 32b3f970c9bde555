/*
 * SIGINT, SIGTERM and SIGHUP during a run: the partial temporary outputs
 * (possibly huge, certainly partial) are removed, then cordon dies of the
 * signal as it would have without a handler, so a shell or a supervisor sees
 * the same status.  The handler is async-signal-safe: one unlinkat() per
 * file, relative to a directory descriptor held since before the run, then
 * the signal again.
 */
#ifndef CORDON_HOST_HOST_SIGNALS_H
#define CORDON_HOST_HOST_SIGNALS_H

#include <signal.h>

/* Files that can be tracked at once: every output of a run. */
#define HOST_SIGNALS_FILES 4100

/* Installs the handlers (once, at the start of a command). */
void host_signals_install(void);
/* Blocks the three signals (to create or publish a file without a window in
 * which the handler could see half of it); restores them. */
void host_signals_block(sigset_t *saved);
void host_signals_restore(const sigset_t *saved);
/* A file to remove if a signal comes: name in dir_fd (copied; at most 63
 * bytes).  Call with the signals blocked.  Its slot, or -1 when full. */
int host_signals_track(int dir_fd, const char *name);
void host_signals_untrack(int slot);
/* Removes every tracked file now: for other fatal paths (the seccomp trap).
 * Async-signal-safe. */
void host_signals_cleanup(void);

#endif
