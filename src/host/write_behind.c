/* The write-behind worker (see write_behind.h). */
#include "write_behind.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "host_io.h"

/* One slot: the write handed over (busy) and, once it is done, its result
 * until the next submit or wait collects it. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool running, busy, has_result;
	int fd;
	const void *buf;
	uint64_t len, off;
	int64_t result;
} wb = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static void *worker_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&wb.lock);
	wb.running = true; /* glibc's thread set-up calls are behind us */
	pthread_cond_broadcast(&wb.changed);
	for (;;) {
		while (!wb.busy)
			pthread_cond_wait(&wb.changed, &wb.lock);
		int fd = wb.fd;
		const void *buf = wb.buf;
		uint64_t len = wb.len, off = wb.off;
		pthread_mutex_unlock(&wb.lock);
		int64_t r = host_pwrite_full(fd, buf, len, off);
		pthread_mutex_lock(&wb.lock);
		wb.result = r;
		wb.has_result = true;
		wb.busy = false;
		pthread_cond_broadcast(&wb.changed);
	}
	return NULL;
}

int write_behind_start(void)
{
	if (wb.running)
		return 0;
	/* Every signal stays with the main thread (watchdog, SIGINT cleanup):
	 * the worker is made with all of them blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_t t;
	int err = pthread_attr_init(&attr);
	if (err == 0) {
		pthread_attr_setstacksize(&attr, 64 << 10);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&t, &attr, worker_main, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		return -err;
	/* Wait until it runs: a filter installed before its first
	 * instruction would meet glibc's start-up calls (rseq, ...). */
	pthread_mutex_lock(&wb.lock);
	while (!wb.running)
		pthread_cond_wait(&wb.changed, &wb.lock);
	pthread_mutex_unlock(&wb.lock);
	return 0;
}

bool write_behind_running(void)
{
	return wb.running;
}

/* With the lock held: waits for the write in flight, takes its result. */
static int64_t collect(void)
{
	while (wb.busy)
		pthread_cond_wait(&wb.changed, &wb.lock);
	int64_t r = wb.has_result ? wb.result : 0;
	wb.has_result = false;
	return r;
}

int64_t write_behind_submit(int fd, const void *buf, uint64_t len, uint64_t off)
{
	pthread_mutex_lock(&wb.lock);
	int64_t r = collect();
	wb.fd = fd;
	wb.buf = buf;
	wb.len = len;
	wb.off = off;
	wb.busy = true;
	pthread_cond_broadcast(&wb.changed);
	pthread_mutex_unlock(&wb.lock);
	return r;
}

int64_t write_behind_wait(void)
{
	pthread_mutex_lock(&wb.lock);
	int64_t r = collect();
	pthread_mutex_unlock(&wb.lock);
	return r;
}
