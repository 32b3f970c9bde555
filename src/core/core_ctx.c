/* Per-run context: the first failure's message, user lines, memory. */
#include "core.h"

void core_ctx_init(struct core_ctx *ctx, const struct core_env *env)
{
	ctx->env = env;
	ctx->err[0] = '\0';
	ctx->err_note = 0;
	ctx->hint[0] = '\0';
	ctx->open_no_backing = false;
	ctx->open_no_io = false;
	ctx->behind = (struct io_behind){ 0 };
}

static bool failed(const struct core_ctx *ctx)
{
	return ctx->err[0] != '\0' || ctx->err_note != 0;
}

int core_fail(struct core_ctx *ctx, int err, const char *fmt, ...)
{
	/* The first failure is the cause; later ones are consequences. */
	if (!failed(ctx)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -CD_EINVAL;
}

int core_fail_hint(struct core_ctx *ctx, int err, const char *hint, const char *fmt, ...)
{
	if (!failed(ctx)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
		va_end(ap);
		snprintf(ctx->hint, sizeof(ctx->hint), "%s", hint);
	}
	return err < 0 ? err : -CD_EINVAL;
}

int core_fail_note(struct core_ctx *ctx, int err, uint32_t note)
{
	if (!failed(ctx))
		ctx->err_note = note;
	return err < 0 ? err : -CD_EINVAL;
}

int core_prefix(struct core_ctx *ctx, int err, const char *fmt, ...)
{
	char head[CORE_ERR_MAX];
	va_list ap;
	if (!failed(ctx))
		core_fail(ctx, err, "%s", cd_strerror(err));
	va_start(ap, fmt);
	int n = vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return err < 0 ? err : -CD_EINVAL;
	size_t hl = (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1;
	size_t el = strlen(ctx->err);
	const char *tail = ctx->err;
	static const char elide[] = "...";
	size_t gap = 0;
	/* Too long (a deep chain): keep the new head and the end of the old
	 * message, where the cause is, and elide the middle. */
	if (hl + el >= sizeof(ctx->err)) {
		if (hl > sizeof(ctx->err) / 2)
			hl = sizeof(ctx->err) / 2;
		gap = sizeof(elide) - 1;
		tail += el - (sizeof(ctx->err) - 1 - hl - gap);
		el = sizeof(ctx->err) - 1 - hl - gap;
	}
	memmove(ctx->err + hl + gap, tail, el);
	memcpy(ctx->err, head, hl);
	memcpy(ctx->err + hl, elide, gap);
	ctx->err[hl + gap + el] = '\0';
	return err < 0 ? err : -CD_EINVAL;
}

void core_say(struct core_ctx *ctx, uint32_t level, const char *fmt, ...)
{
	char line[CORE_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	const struct hostcalls *hc = ctx->env->hc;
	hc->message(hc->ctx, level, line, len, 0);
}

void *core_alloc(struct core_ctx *ctx, size_t size, size_t align)
{
	const struct core_alloc *m = ctx->env->mem;
	return m->alloc(m->ctx, size, align);
}

void core_free(struct core_ctx *ctx, void *ptr)
{
	const struct core_alloc *m = ctx->env->mem;
	if (ptr)
		m->free(m->ctx, ptr);
}
