/*
 * core's entry: check the job, find its command in the table, run it, report
 * the outcome.  Core trusts nothing it did not check: the host wrote the job,
 * but a bug there must not become a wrong run here.
 */
#include "core.h"

#include "convert.h"
#include "dd.h"
#include "info.h"

struct core_command {
	uint32_t id;                                   /* enum cordon_command */
	int (*check)(const struct cordon_job *job);    /* 0 or -CD_EINVAL */
	/* exit status (0..3), or -errno with the message recorded */
	int (*run)(struct core_ctx *ctx, const struct cordon_job *job);
};

/* Add a command here; nothing else in core needs to know about it. */
static const struct core_command commands[] = {
	{ CORDON_CMD_DD, dd_check, dd_run },
	{ CORDON_CMD_CONVERT, convert_check, convert_run },
	{ CORDON_CMD_INFO, info_check, info_run },
};

static bool terminated(const char *s, size_t max)
{
	return strnlen(s, max) < max;
}

/* What every job must be: this ABI, devices with known roles and names. */
static int job_check(const struct cordon_job *job)
{
	if (job->magic != CORDON_JOB_MAGIC || job->version != CORDON_JOB_VERSION ||
	    job->n_dev > CORDON_JOB_DEVS_MAX)
		return -CD_EINVAL;
	for (uint32_t i = 0; i < job->n_dev; i++) {
		const struct cordon_job_dev *d = &job->dev[i];
		if (d->roles == 0 || (d->roles & ~CORDON_DEV_ROLES) ||
		    !terminated(d->fmt, sizeof(d->fmt)))
			return -CD_EINVAL;
	}
	const struct cordon_job_snapshot *sn = &job->snapshot;
	if ((sn->flags & ~SNAPSHOT_FLAGS) || !terminated(sn->id, sizeof(sn->id)) ||
	    !terminated(sn->name, sizeof(sn->name)))
		return -CD_EINVAL;
	return 0;
}

static const struct core_command *find(uint32_t id)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].id == id)
			return &commands[i];
	return NULL;
}

int core_run(const struct core_env *env, const struct cordon_job *job)
{
	struct core_ctx ctx;
	core_ctx_init(&ctx, env);
	const struct core_command *cmd = job_check(job) == 0 ? find(job->command) : NULL;
	int ret = cmd ? cmd->check(job) : -CD_EINVAL;
	if (ret < 0)
		core_fail(&ctx, ret, "the sandbox was given an invalid job");
	else
		ret = cmd->run(&ctx, job);
	if (ret >= 0)
		return ret;
	const struct hostcalls *hc = env->hc;
	if (ctx.err[0] == '\0' && ctx.err_note == 0)
		snprintf(ctx.err, sizeof(ctx.err), "%s", cd_strerror(ret));
	hc->message(hc->ctx, HC_LEVEL_ERROR, ctx.err, strlen(ctx.err), ctx.err_note);
	if (ctx.hint[0])
		hc->message(hc->ctx, HC_LEVEL_HINT, ctx.hint, strlen(ctx.hint), 0);
	return 1;
}
