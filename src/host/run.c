/* The host side of a run, for every command (see run.h). */
#include "run.h"

#include <signal.h>

#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "child_policy.h"
#include "host_signals.h"
#include "image_lock.h"
#include "progress.h"
#include "report.h"

/* An image may name thousands of extent files, each a descriptor: as many
 * as the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Each input opened as qemu-img opens it, with QEMU's read lock; then the
 * policy's directories; then the outputs.  -1 after a message. */
/* Device dev's part of the job. */
static void job_dev(struct cordon_job *job, int dev, uint32_t roles, const char *fmt)
{
	job->dev[dev] = (struct cordon_job_dev){ .roles = roles };
	snprintf(job->dev[dev].fmt, sizeof(job->dev[dev].fmt), "%s", fmt);
}

static int open_files(const struct run_plan *plan, struct host_devices *devs,
		      struct cordon_job *job)
{
	char why[IMAGE_LOCK_WHY_MAX];
	for (uint32_t i = 0; i < plan->n_inputs; i++) {
		const struct run_input *in = &plan->inputs[i];
		if (!in->path) { /* standard input: no file, no lock */
			int dev = devices_add_stdin(devs);
			if (dev < 0)
				return -1;
			job_dev(job, dev, CORDON_DEV_READ | CORDON_DEV_STREAM, in->fmt);
			continue;
		}
		int dev = devices_add_input(devs, in->path);
		if (dev < 0)
			return -1;
		/* Refused here, before anything else, when a running QEMU does
		 * not share reading it (image_lock.h). */
		if (image_lock_input(devs->dev[dev].fd, in->path, why, sizeof(why)) < 0) {
			report_error("Could not open '%s': %s", in->path, why);
			return -1;
		}
		job_dev(job, dev, CORDON_DEV_READ, in->fmt);
	}
	devs->force_share = plan->policy.force_share;
	devs->backing_none = plan->policy.backing_none;
	for (unsigned i = 0; i < plan->policy.n_allow; i++)
		if (backing_allow_dir(devs, plan->policy.allow_dirs[i]) < 0)
			return -1;
	for (uint32_t i = 0; i < plan->n_outputs; i++) {
		const struct run_output *o = &plan->outputs[i];
		if (!o->path) { /* standard output: written as it comes */
			/* A reader gone is a write error, as in qemu-img
			 * (which ignores SIGPIPE), not the end of cordon. */
			signal(SIGPIPE, SIG_IGN);
			int dev = devices_add_stdout(devs);
			if (dev < 0)
				return -1;
			job_dev(job, dev, CORDON_DEV_WRITE | CORDON_DEV_STREAM, o->fmt);
			continue;
		}
		int dev = o->existing
				  ? devices_add_existing_output(devs, o->path, o->fmt, o->max_virtual)
				  : devices_add_output(devs, o->path, o->fmt, o->max_virtual);
		if (dev < 0)
			return -1;
		struct host_output *out = devices_output(devs, (uint32_t)dev);
		out->no_flush = o->no_flush;
		job_dev(job, dev, CORDON_DEV_CREATE | CORDON_DEV_WRITE |
					  (out->kind == OUTPUT_REPLACE ? CORDON_DEV_ZEROED : 0),
			o->fmt);
	}
	job->n_dev = devs->count;
	return 0;
}

/* The extra files first, the command line's outputs (which name them:
 * a VMDK descriptor) last. */
static int commit(struct host_devices *devs)
{
	for (uint32_t i = devs->n_outs; i > 0; i--)
		if (output_commit(&devs->outs[i - 1]) < 0)
			return -1;
	return 0;
}

int run_command(const struct run_plan *plan, struct cordon_job *job)
{
	struct host_devices devs;
	struct progress progress;
	int status = 1;

	if (plan->n_inputs + plan->n_outputs > CORDON_JOB_DEVS_MAX) {
		report_error("at most %u files on one command line", CORDON_JOB_DEVS_MAX);
		return 1;
	}
	host_signals_install();
	raise_fd_limit();
	job->now = (uint64_t)time(NULL);
	/* Ids images record need not be secret: a short read leaves zeros. */
	if (getrandom(job->entropy, sizeof(job->entropy), 0) < 0)
		memset(job->entropy, 0, sizeof(job->entropy));
	sandbox_prewarm(plan->sandbox); /* the VM is made while the files are opened */
	devices_init(&devs);
	progress_init(&progress, plan->progress, 1.0f);
	if (plan->progress) /* qemu-img's first line, before any file is opened */
		progress_report(&progress, 0, 1);
	if (open_files(plan, &devs, job) == 0) {
		struct hc_sinks sinks = { .results = plan->results, .progress = &progress };
		status = sandbox_run(plan->sandbox, &plan->limits, job, &devs, &sinks);
		if (status == 0 && commit(&devs) < 0)
			status = 1;
	}
	progress_end(&progress);
	devices_close(&devs); /* removes every temporary output still there */
	return status;
}
