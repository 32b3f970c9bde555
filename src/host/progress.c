/* qemu-img's progress lines (see progress.h). */
#include "progress.h"

void progress_init(struct progress *p, FILE *f, float min_skip)
{
	*p = (struct progress){ .f = f, .min_skip = min_skip };
}

static void print_line(struct progress *p)
{
	p->last_print = p->current;
	p->printed = true;
	fprintf(p->f, "    (%3.2f/100%%)\r", (double)p->current);
	fflush(p->f);
}

int progress_report(struct progress *p, uint64_t done, uint64_t total)
{
	if (done > total || done < p->done)
		return -1;
	p->done = done;
	if (!p->f)
		return 0;
	/* Nothing to do is all done. */
	float current = total ? (float)((double)done * 100.0 / (double)total) : 100;
	p->current = current > 100 ? 100 : current;
	/* qemu_progress_print()'s rule for when a line is worth printing. */
	if (p->current > p->last_print + p->min_skip ||
	    p->current < p->last_print - p->min_skip || p->current == 0 ||
	    p->current == 100)
		print_line(p);
	return 0;
}

void progress_end(struct progress *p)
{
	if (p->f && p->printed)
		fputc('\n', p->f);
}
