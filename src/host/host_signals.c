/* Removing the temporary output on a fatal signal (see host_signals.h). */
#include "host_signals.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_SIGNALS (sizeof(cleanup_signals) / sizeof(cleanup_signals[0]))

static volatile sig_atomic_t tracked;
static int tracked_dir = -1;
static char tracked_name[64];

/* SA_RESETHAND has put the default action back, and the signal stays
 * blocked until the handler returns: raised again now, it is delivered
 * then and ends the process as if there had been no handler. */
void host_signals_cleanup(void)
{
	if (tracked)
		unlinkat(tracked_dir, tracked_name, 0);
	tracked = 0;
}

static void on_signal(int sig)
{
	host_signals_cleanup();
	syscall(SYS_tgkill, getpid(), gettid(), sig);
}

void host_signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_SIGNALS; i++)
		sigaddset(&sa.sa_mask, cleanup_signals[i]);
	for (size_t i = 0; i < N_SIGNALS; i++) {
		struct sigaction old;
		/* A signal ignored by whoever started us stays ignored (nohup). */
		if (sigaction(cleanup_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(cleanup_signals[i], &sa, NULL);
	}
}

void host_signals_block(sigset_t *saved)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < N_SIGNALS; i++)
		sigaddset(&set, cleanup_signals[i]);
	sigprocmask(SIG_BLOCK, &set, saved);
}

void host_signals_restore(const sigset_t *saved)
{
	sigprocmask(SIG_SETMASK, saved, NULL);
}

void host_signals_track(int dir_fd, const char *name)
{
	size_t n = strnlen(name, sizeof(tracked_name) - 1);
	memcpy(tracked_name, name, n);
	tracked_name[n] = '\0';
	tracked_dir = dir_fd;
	tracked = 1;
}

void host_signals_untrack(void)
{
	tracked = 0;
}
