/*
 * qemu-img's -p (util/qemu-progress.c): "    (%3.2f/100%)\r" on stdout
 * whenever the done part has moved by more than min_skip percent since the
 * last line, or is 0 or 100; a newline at the end.  The sandbox reports
 * (done, total) with HC_OP_PROGRESS; the host checks and prints.
 */
#ifndef CORDON_HOST_PROGRESS_H
#define CORDON_HOST_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *f;          /* NULL: progress is not shown (the sandbox may still report) */
	float min_skip;   /* percent: qemu-img uses 1.0 */
	float current;
	float last_print;
	bool printed;
	uint64_t done;    /* the last report, for the monotonic check */
};

void progress_init(struct progress *p, FILE *f, float min_skip);
/* A report from the sandbox: 0, or -1 when it goes backwards or past the
 * total (a violation). */
int progress_report(struct progress *p, uint64_t done, uint64_t total);
/* The end of the run: the newline, if anything was printed. */
void progress_end(struct progress *p);

#endif
