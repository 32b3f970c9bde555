/* Removing the temporary outputs on a fatal signal (see host_signals.h). */
#include "host_signals.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_SIGNALS (sizeof(cleanup_signals) / sizeof(cleanup_signals[0]))

static struct tracked {
	volatile sig_atomic_t used;
	int dir;
	char name[64];
} tracked[HOST_SIGNALS_FILES];

void host_signals_cleanup(void)
{
	for (int i = 0; i < HOST_SIGNALS_FILES; i++) {
		if (tracked[i].used)
			unlinkat(tracked[i].dir, tracked[i].name, 0);
		tracked[i].used = 0;
	}
}

/* SA_RESETHAND has put the default action back, and the signal stays
 * blocked until the handler returns: raised again now, it is delivered
 * then and ends the process as if there had been no handler. */
static void on_signal(int sig)
{
	host_signals_cleanup();
	syscall(SYS_tgkill, getpid(), gettid(), sig);
}

void host_signals_install(void)
{
	/* A file size limit (ulimit -f) makes a write fail with EFBIG, told in
	 * qemu-img's words, instead of ending the process and leaving the
	 * temporary output behind: qemu-img ignores SIGXFSZ too. */
	signal(SIGXFSZ, SIG_IGN);
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

int host_signals_track(int dir_fd, const char *name)
{
	for (int i = 0; i < HOST_SIGNALS_FILES; i++) {
		if (tracked[i].used)
			continue;
		size_t n = strnlen(name, sizeof(tracked[i].name) - 1);
		memcpy(tracked[i].name, name, n);
		tracked[i].name[n] = '\0';
		tracked[i].dir = dir_fd;
		tracked[i].used = 1;
		return i;
	}
	return -1;
}

void host_signals_untrack(int slot)
{
	if (slot >= 0 && slot < HOST_SIGNALS_FILES)
		tracked[slot].used = 0;
}
