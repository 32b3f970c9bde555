/* Encoding result records for HC_OP_RESULT (see result.h). */
#include "result.h"

#include "hostcall.h"

/* One call's worth: records are never split across calls. */
#define RESULT_BUF_LEN 16384u

int result_init(struct result_out *r, struct core_ctx *ctx)
{
	*r = (struct result_out){ .ctx = ctx };
	r->buf = core_alloc(ctx, RESULT_BUF_LEN, 8);
	if (!r->buf)
		r->err = -CD_ENOMEM;
	return r->err;
}

static void flush(struct result_out *r)
{
	if (r->err || r->len == 0)
		return;
	const struct hostcalls *hc = r->ctx->env->hc;
	int64_t ret = hc->result(hc->ctx, r->buf, r->len);
	if (ret < 0)
		r->err = (int)ret;
	r->len = 0;
}

static void put(struct result_out *r, uint16_t type, const char *key, const void *value,
		size_t value_len)
{
	if (r->err)
		return;
	size_t key_len = key ? strlen(key) : 0;
	size_t need = sizeof(struct hc_record) + (size_t)HC_RECORD_BODY(key_len, value_len);
	/* Longer than any record the host accepts: a bug in the command. */
	if (key_len > 0xffff || need > RESULT_BUF_LEN) {
		r->err = -CD_EINVAL;
		return;
	}
	if (r->len + need > RESULT_BUF_LEN)
		flush(r);
	if (r->err)
		return;
	uint8_t *p = r->buf + r->len;
	struct hc_record h = { .type = type, .key_len = (uint16_t)key_len,
			       .value_len = (uint16_t)value_len };
	memcpy(p, &h, sizeof(h));
	if (key_len)
		memcpy(p + sizeof(h), key, key_len);
	if (value_len)
		memcpy(p + sizeof(h) + key_len, value, value_len);
	memset(p + sizeof(h) + key_len + value_len, 0,
		  (size_t)HC_RECORD_BODY(key_len, value_len) - key_len - value_len);
	r->len += need;
}

static void put_u64(struct result_out *r, uint16_t type, const char *key, uint64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	put(r, type, key, le, sizeof(le));
}

void result_begin_object(struct result_out *r, const char *key)
{
	put(r, HC_REC_BEGIN_OBJECT, key, NULL, 0);
}

void result_end_object(struct result_out *r)
{
	put(r, HC_REC_END_OBJECT, NULL, NULL, 0);
}

void result_begin_array(struct result_out *r, const char *key)
{
	put(r, HC_REC_BEGIN_ARRAY, key, NULL, 0);
}

void result_end_array(struct result_out *r)
{
	put(r, HC_REC_END_ARRAY, NULL, NULL, 0);
}

void result_string(struct result_out *r, const char *key, const char *s)
{
	put(r, HC_REC_STRING, key, s, strlen(s));
}

void result_string_n(struct result_out *r, const char *key, const char *s, size_t n)
{
	put(r, HC_REC_STRING, key, s, n);
}

void result_int(struct result_out *r, const char *key, int64_t v)
{
	put_u64(r, HC_REC_INT, key, (uint64_t)v);
}

void result_uint(struct result_out *r, const char *key, uint64_t v)
{
	put_u64(r, HC_REC_UINT, key, v);
}

void result_bool(struct result_out *r, const char *key, bool v)
{
	uint8_t b = v;
	put(r, HC_REC_BOOL, key, &b, 1);
}

int result_finish(struct result_out *r)
{
	flush(r);
	if (r->buf)
		core_free(r->ctx, r->buf);
	r->buf = NULL;
	return r->err;
}
