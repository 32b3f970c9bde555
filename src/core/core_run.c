/* core's entry: check the job, dispatch the command, report the outcome. */
#include "core.h"

#include "dd.h"
#include "dd_window.h"

static bool terminated(const char *s, size_t max)
{
	return strnlen(s, max) < max;
}

/* The host wrote the job, but core checks it before trusting it. */
static int job_check(const struct cordon_job *job)
{
	if (job->magic != CORDON_JOB_MAGIC || job->version != CORDON_JOB_VERSION)
		return -CD_EINVAL;
	if (!terminated(job->in_fmt, sizeof(job->in_fmt)) ||
	    !terminated(job->out_fmt, sizeof(job->out_fmt)) ||
	    !terminated(job->in_name, sizeof(job->in_name)) ||
	    !terminated(job->out_name, sizeof(job->out_name)))
		return -CD_EINVAL;
	if (job->command != CORDON_CMD_DD)
		return -CD_EINVAL;
	if (job->bs < 1 || job->bs > DD_MAX_BS || job->count > DD_MAX_COUNT ||
	    job->skip > DD_MAX_COUNT)
		return -CD_EINVAL;
	return 0;
}

int core_run(const struct core_env *env, const struct cordon_job *job)
{
	struct core_ctx ctx;
	core_ctx_init(&ctx, env);

	int ret = job_check(job);
	if (ret < 0)
		core_fail(&ctx, ret, "the sandbox was given an invalid job");
	else
		ret = dd_run(&ctx, job);
	if (ret < 0) {
		const struct hostcalls *hc = env->hc;
		if (ctx.err[0] == '\0' && ctx.err_note == 0)
			snprintf(ctx.err, sizeof(ctx.err), "%s", cd_strerror(ret));
		hc->message(hc->ctx, HC_LEVEL_ERROR, ctx.err, strlen(ctx.err),
			    ctx.err_note);
		return 1;
	}
	return 0;
}
