/*
 * Hostcalls from inside a sandbox: each call fills the mailbox, rings the
 * doorbell and reads the reply.  Buffers are sent as offsets into the shared
 * region; a buffer outside it never reaches the host (-EFAULT here).
 */
#include "hostcall_client.h"

#include "../core/errno_codes.h"
#include "../core/rt.h"

static int buf_offset(const struct hc_client *c, const void *buf, uint64_t len,
		      uint64_t *off)
{
	uintptr_t p = (uintptr_t)buf, base = (uintptr_t)c->region;
	if (p < base || p - base > c->region_len || len > c->region_len - (p - base))
		return -CD_EFAULT;
	*off = p - base;
	return 0;
}

int64_t hc_client_send(struct hc_client *c, const struct hc_msg *req,
		       uint64_t *ret2)
{
	volatile struct hc_msg *m = c->mbox;
	m->op = req->op;
	m->dev = req->dev;
	m->dev2 = req->dev2;
	m->level = req->level;
	m->off = req->off;
	m->off2 = req->off2;
	m->len = req->len;
	m->buf = req->buf;
	m->ret = -CD_EIO;
	m->ret2 = 0;
	c->ring(c->ring_ctx);
	if (ret2)
		*ret2 = m->ret2;
	return m->ret;
}

static int64_t cl_read(void *ctx, uint32_t dev, uint64_t off, void *buf,
		       uint64_t len)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_READ, .dev = dev, .off = off, .len = len };
	if (buf_offset(c, buf, len, &req.buf) < 0)
		return -CD_EFAULT;
	return hc_client_send(c, &req, NULL);
}

static int64_t cl_write(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			uint64_t len)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_WRITE, .dev = dev, .off = off, .len = len };
	if (buf_offset(c, buf, len, &req.buf) < 0)
		return -CD_EFAULT;
	return hc_client_send(c, &req, NULL);
}

static int64_t cl_write_behind(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			       uint64_t len, bool *earlier)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_WRITE, .dev = dev, .off = off, .len = len,
			      .level = HC_WRITE_BEHIND };
	*earlier = false;
	if (buf_offset(c, buf, len, &req.buf) < 0)
		return -CD_EFAULT;
	uint64_t ret2 = 0;
	int64_t ret = hc_client_send(c, &req, &ret2);
	*earlier = ret < 0 && ret2 == HC_WRITE_EARLIER;
	return ret;
}

static int64_t cl_settle(void *ctx)
{
	struct hc_msg req = { .op = HC_OP_SETTLE };
	return hc_client_send(ctx, &req, NULL);
}

static int64_t cl_copy(void *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
		       uint64_t dst_off, uint64_t len, uint32_t flags)
{
	struct hc_msg req = { .op = HC_OP_COPY, .dev = src, .off = src_off,
			      .dev2 = dst, .off2 = dst_off, .len = len, .level = flags };
	return hc_client_send(ctx, &req, NULL);
}

static int64_t cl_size(void *ctx, uint32_t dev)
{
	struct hc_msg req = { .op = HC_OP_SIZE, .dev = dev };
	return hc_client_send(ctx, &req, NULL);
}

static int64_t cl_allocated(void *ctx, uint32_t dev)
{
	struct hc_msg req = { .op = HC_OP_ALLOCATED, .dev = dev };
	return hc_client_send(ctx, &req, NULL);
}

static int64_t cl_truncate(void *ctx, uint32_t dev, uint64_t size)
{
	struct hc_msg req = { .op = HC_OP_TRUNCATE, .dev = dev, .len = size };
	return hc_client_send(ctx, &req, NULL);
}

static void cl_message(void *ctx, uint32_t level, const char *text, size_t len,
		       uint32_t note)
{
	struct hc_client *c = ctx;
	/* The text may live on a stack the host cannot see (process sandbox):
	 * send it from the message buffer in the mailbox page. */
	if (len > HC_MAX_MESSAGE_LEN)
		len = HC_MAX_MESSAGE_LEN;
	memcpy(c->region + HC_REGION_MSGBUF_OFF, text, len);
	struct hc_msg req = { .op = HC_OP_MESSAGE, .level = level, .len = len,
			      .buf = HC_REGION_MSGBUF_OFF, .off = note };
	hc_client_send(c, &req, NULL);
}

/* Calls whose refusal carries a host note in ret2. */
static int64_t send_noted(struct hc_client *c, const struct hc_msg *req,
			  uint32_t *note)
{
	uint64_t n = 0;
	int64_t ret = hc_client_send(c, req, &n);
	*note = ret < 0 && n <= HC_MAX_NOTES ? (uint32_t)n : 0;
	return ret;
}

static int64_t cl_open_child(void *ctx, uint32_t from_dev, uint32_t kind,
			     const char *name, size_t len, uint32_t *note)
{
	struct hc_client *c = ctx;
	*note = 0;
	if (len > HC_MAX_CHILD_NAME)
		return -CD_ENAMETOOLONG;
	/* Sent from the message buffer, like messages: the name may be on a
	 * stack the host cannot see. */
	memcpy(c->region + HC_REGION_MSGBUF_OFF, name, len);
	struct hc_msg req = { .op = HC_OP_OPEN_CHILD, .dev = from_dev, .dev2 = kind,
			      .len = len, .buf = HC_REGION_MSGBUF_OFF };
	return send_noted(c, &req, note);
}

static int64_t cl_dev_info(void *ctx, uint32_t dev, char *buf, size_t len,
			   uint32_t *type)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_DEV_INFO, .dev = dev, .len = len };
	if (len && buf_offset(c, buf, len, &req.buf) < 0)
		return -CD_EFAULT;
	uint64_t ret2 = 0;
	int64_t ret = hc_client_send(c, &req, &ret2);
	*type = ret2 <= HC_FILE_FIFO ? (uint32_t)ret2 : HC_FILE_NONE;
	return ret;
}

static int64_t cl_extents(void *ctx, uint32_t dev, uint64_t off, uint64_t len,
			  struct hc_extent *runs, uint32_t max)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_EXTENTS, .dev = dev, .off = off, .len = len,
			      .off2 = max };
	if (buf_offset(c, runs, (uint64_t)max * sizeof(*runs), &req.buf) < 0)
		return -CD_EFAULT;
	return hc_client_send(c, &req, NULL);
}

static int64_t cl_result(void *ctx, const void *records, size_t len)
{
	struct hc_client *c = ctx;
	struct hc_msg req = { .op = HC_OP_RESULT, .len = len };
	if (buf_offset(c, records, len, &req.buf) < 0)
		return -CD_EFAULT;
	return hc_client_send(c, &req, NULL);
}

static int64_t cl_add_output(void *ctx, uint32_t dev, uint32_t rule, uint32_t index,
			     uint32_t *note)
{
	struct hc_msg req = { .op = HC_OP_ADD_OUTPUT, .dev = dev, .dev2 = rule, .off = index };
	return send_noted(ctx, &req, note);
}

static int64_t cl_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct hc_msg req = { .op = HC_OP_PROGRESS, .off = done, .off2 = total };
	return hc_client_send(ctx, &req, NULL);
}

static int64_t cl_lock(void *ctx, uint32_t dev, uint32_t kind, uint32_t *note)
{
	struct hc_msg req = { .op = HC_OP_LOCK, .dev = dev, .off = kind };
	return send_noted(ctx, &req, note);
}

static int64_t cl_create(void *ctx, uint32_t dev, uint64_t size, uint32_t *note)
{
	struct hc_msg req = { .op = HC_OP_CREATE, .dev = dev, .len = size };
	return send_noted(ctx, &req, note);
}

void hc_client_init(struct hc_client *c, uint8_t *region, uint64_t region_len,
		    void (*ring)(void *), void *ring_ctx)
{
	c->region = region;
	c->region_len = region_len;
	c->mbox = (volatile struct hc_msg *)(region + HC_REGION_MAILBOX_OFF);
	c->ring = ring;
	c->ring_ctx = ring_ctx;
}

void hc_client_table(struct hc_client *c, struct hostcalls *t)
{
	*t = (struct hostcalls){
		.ctx = c,
		.read = cl_read,
		.write = cl_write,
		.write_behind = cl_write_behind,
		.settle = cl_settle,
		.copy = cl_copy,
		.size = cl_size,
		.allocated = cl_allocated,
		.truncate = cl_truncate,
		.extents = cl_extents,
		.open_child = cl_open_child,
		.lock = cl_lock,
		.create = cl_create,
		.dev_info = cl_dev_info,
		.add_output = cl_add_output,
		.result = cl_result,
		.progress = cl_progress,
		.message = cl_message,
	};
}

void hc_client_exit(struct hc_client *c, int status)
{
	struct hc_msg req = { .op = HC_OP_EXIT, .off = (uint64_t)(uint32_t)status };
	hc_client_send(c, &req, NULL);
}
