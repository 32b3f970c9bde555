/* The common start of both sandboxes: job in, core run, status out. */
#include "sandbox_entry.h"

#include "../core/core.h"
#include "region_alloc.h"

void sandbox_entry(struct hc_client *c, void *heap, size_t heap_len)
{
	struct region_alloc heap_alloc;
	region_alloc_init(&heap_alloc, heap, heap_len);
	struct core_alloc mem = {
		.ctx = &heap_alloc,
		.alloc = region_alloc,
		.free = region_free,
	};
	struct hostcalls table;
	hc_client_table(c, &table);
	struct core_env env = { .hc = &table, .mem = &mem };

	/* Work on a private copy: the shared page is the host's to write. */
	struct cordon_job *job = region_alloc(&heap_alloc, sizeof(*job), 64);
	int status = 1;
	if (job) {
		memcpy(job, c->region + HC_REGION_JOB_OFF, sizeof(*job));
		status = core_run(&env, job);
	}
	hc_client_exit(c, status);
}
