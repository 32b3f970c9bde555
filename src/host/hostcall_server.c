/*
 * Serving hostcalls.  Everything in the mailbox is untrusted: it is copied
 * out of shared memory first (the sandbox cannot change it behind our back),
 * then every field is checked against the device table and the region
 * before a file descriptor is touched.  A request that breaks the rules is
 * not an error to return but a violation that ends the run.
 */
#include "hostcall_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../abi/job.h"
#include "../core/errno_codes.h"
#include "backing_policy.h"
#include "host_io.h"
#include "image_lock.h"
#include "report.h"
#include "text_escape.h"

_Static_assert(CD_EINVAL == EINVAL && CD_ENOSPC == ENOSPC && CD_EFAULT == EFAULT &&
	       CD_ENOTSUP == ENOTSUP && CD_EFBIG == EFBIG && CD_EACCES == EACCES &&
	       CD_ENOENT == ENOENT && CD_EIO == EIO && CD_EXDEV == EXDEV,
	       "core's error numbers are Linux's");

#define OFF_MAX ((uint64_t)INT64_MAX)

static const char *const op_names[HC_OP__COUNT] = {
	[HC_OP_READ] = "read", [HC_OP_WRITE] = "write", [HC_OP_COPY] = "copy",
	[HC_OP_SIZE] = "size", [HC_OP_TRUNCATE] = "truncate",
	[HC_OP_EXTENT] = "extent", [HC_OP_MESSAGE] = "message", [HC_OP_EXIT] = "exit",
	[HC_OP_OPEN_BACKING] = "open_backing", [HC_OP_LOCK] = "lock",
	[HC_OP_CREATE] = "create",
};

void hc_server_init(struct hc_server *s, struct host_devices *devs,
		    uint8_t *region, uint64_t region_len)
{
	memset(s, 0, sizeof(*s));
	s->devs = devs;
	s->region = region;
	s->region_len = region_len;
	s->buf_floor = HC_REGION_FREE_OFF;
	s->exit_status = 1;
}

void hc_server_fini(struct hc_server *s)
{
	for (uint32_t i = 0; i < s->n_notes; i++)
		free(s->notes[i]);
	s->n_notes = 0;
}

__attribute__((format(printf, 2, 3)))
static enum hc_serve_result violation(struct hc_server *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->violation, sizeof(s->violation), fmt, ap);
	va_end(ap);
	return HC_SERVE_VIOLATION;
}

static const char *role_name(enum dev_role r)
{
	return r == DEV_ROLE_INPUT ? "an input" : r == DEV_ROLE_OUTPUT ? "the output" : "no device";
}

/* The device exists and has the role this operation needs. */
static int check_dev(struct hc_server *s, const struct hc_msg *m, uint32_t dev,
		     enum dev_role want)
{
	if (dev >= s->devs->count || s->devs->dev[dev].role == DEV_ROLE_NONE) {
		violation(s, "%s on device %u, which it was not given",
			  op_names[m->op], dev);
		return -1;
	}
	enum dev_role have = s->devs->dev[dev].role;
	if (want != DEV_ROLE_NONE && have != want) {
		violation(s, "%s on device %u, %s", op_names[m->op], dev,
			  role_name(have));
		return -1;
	}
	return 0;
}

static bool buffer_ok(const struct hc_server *s, const struct hc_msg *m,
		      uint64_t len)
{
	if ((m->op == HC_OP_MESSAGE || m->op == HC_OP_OPEN_BACKING) &&
	    m->buf == HC_REGION_MSGBUF_OFF &&
	    len <= HC_MAX_MESSAGE_LEN)
		return true;
	return m->buf >= s->buf_floor && m->buf <= s->region_len &&
	       len <= s->region_len - m->buf;
}

/* [off, off+len) is a valid file range and, for I/O, [buf, buf+len) lies
 * inside the region. */
static int check_range(struct hc_server *s, const struct hc_msg *m, uint64_t off,
		       uint64_t len, uint64_t max_len, bool has_buf)
{
	if (len > max_len) {
		violation(s, "%s of %llu bytes (the limit is %llu)", op_names[m->op],
			  (unsigned long long)len, (unsigned long long)max_len);
		return -1;
	}
	if (off > OFF_MAX || len > OFF_MAX - off) {
		violation(s, "%s at offset %llu + %llu overflows", op_names[m->op],
			  (unsigned long long)off, (unsigned long long)len);
		return -1;
	}
	if (has_buf && !buffer_ok(s, m, len)) {
		violation(s, "%s buffer at 0x%llx + %llu is outside sandbox memory",
			  op_names[m->op], (unsigned long long)m->buf,
			  (unsigned long long)len);
		return -1;
	}
	return 0;
}

/* The output, once created, for a request reaching up to byte `end`: the
 * host caps it at what the job can produce (output_cap.c). */
static int output_fd(struct hc_server *s, const struct hc_msg *m, uint64_t end)
{
	const struct host_output *out = &s->devs->out;
	if (!out->created) {
		violation(s, "%s before the output was created", op_names[m->op]);
		return -1;
	}
	if (end > out->cap) {
		violation(s, "%s up to byte %llu, past the output's limit of %llu bytes",
			  op_names[m->op], (unsigned long long)end,
			  (unsigned long long)out->cap);
		return -1;
	}
	return out->fd;
}

/* Keeps text as the next note and answers the request with err and it. */
static enum hc_serve_result reply_note(struct hc_server *s, struct hc_msg *m,
				       int64_t err, const char *text)
{
	if (s->n_notes == HC_MAX_NOTES)
		return violation(s, "more than %u refused requests", HC_MAX_NOTES);
	char *copy = strdup(text);
	if (!copy)
		return violation(s, "out of memory for a note");
	s->notes[s->n_notes++] = copy;
	m->ret = err;
	m->ret2 = s->n_notes;
	return HC_SERVE_CONTINUE;
}

/* One line: the sandbox's text escaped, then the host note it names. */
static void print_message(struct hc_server *s, const struct hc_msg *m)
{
	char text[TEXT_ESCAPE_SIZE(HC_MAX_MESSAGE_LEN)];
	text_escape(text, sizeof(text), (const char *)s->region + m->buf, m->len);
	const char *note = m->off ? s->notes[m->off - 1] : "";
	if (m->level == HC_LEVEL_WARNING)
		report_warning("%s%s", text, note);
	else
		report_error("%s%s", text, note);
	if (m->level == HC_LEVEL_ERROR)
		s->errors_seen++;
}

static enum hc_serve_result serve_io(struct hc_server *s, struct hc_msg *m)
{
	bool is_read = m->op == HC_OP_READ;
	if (check_dev(s, m, m->dev, is_read ? DEV_ROLE_INPUT : DEV_ROLE_OUTPUT) < 0 ||
	    check_range(s, m, m->off, m->len, HC_MAX_IO_LEN, true) < 0)
		return HC_SERVE_VIOLATION;
	uint8_t *buf = s->region + m->buf;
	if (is_read) {
		m->ret = host_pread_full(s->devs->dev[m->dev].fd, buf, m->len, m->off);
		return HC_SERVE_CONTINUE;
	}
	int fd = output_fd(s, m, m->off + m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_pwrite_full(fd, buf, m->len, m->off);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_copy(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_INPUT) < 0 ||
	    check_dev(s, m, m->dev2, DEV_ROLE_OUTPUT) < 0 ||
	    check_range(s, m, m->off, m->len, HC_MAX_COPY_LEN, false) < 0 ||
	    check_range(s, m, m->off2, m->len, HC_MAX_COPY_LEN, false) < 0)
		return HC_SERVE_VIOLATION;
	int fd = output_fd(s, m, m->off2 + m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_copy_range(s->devs->dev[m->dev].fd, m->off, fd, m->off2, m->len);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_size(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_NONE) < 0)
		return HC_SERVE_VIOLATION;
	int fd = s->devs->dev[m->dev].fd;
	if (s->devs->dev[m->dev].role == DEV_ROLE_OUTPUT && (fd = output_fd(s, m, 0)) < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_fd_size(fd);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_truncate(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_OUTPUT) < 0 ||
	    check_range(s, m, 0, m->len, OFF_MAX, false) < 0)
		return HC_SERVE_VIOLATION;
	int fd = output_fd(s, m, m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_set_size(fd, m->len);
	return HC_SERVE_CONTINUE;
}

/* The sandbox declares the output's virtual size; the job bounds it. */
static enum hc_serve_result serve_create(struct hc_server *s, struct hc_msg *m)
{
	const struct host_output *out = &s->devs->out;
	if (check_dev(s, m, m->dev, DEV_ROLE_OUTPUT) < 0 ||
	    check_range(s, m, 0, m->len, OFF_MAX, false) < 0)
		return HC_SERVE_VIOLATION;
	if (out->created)
		return violation(s, "create of an output already created");
	if (m->len > out->max_virtual)
		return violation(s, "create of a %llu-byte output, larger than the job's "
				 "window (%llu bytes)", (unsigned long long)m->len,
				 (unsigned long long)out->max_virtual);
	char note[HC_NOTE_TEXT_MAX];
	int ret = output_create(s->devs, m->len, note, sizeof(note));
	if (ret < 0)
		return reply_note(s, m, ret, note);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_extent(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_INPUT) < 0 ||
	    check_range(s, m, m->off, m->len, OFF_MAX, false) < 0)
		return HC_SERVE_VIOLATION;
	if (m->len == 0)
		return violation(s, "extent of 0 bytes");
	bool is_data = true;
	m->ret = host_extent(s->devs->dev[m->dev].fd, m->off, m->len, &is_data);
	m->ret2 = is_data;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_message(struct hc_server *s, struct hc_msg *m)
{
	if (m->level > HC_LEVEL_WARNING)
		return violation(s, "message with unknown level %u", m->level);
	if (check_range(s, m, 0, m->len, HC_MAX_MESSAGE_LEN, true) < 0)
		return HC_SERVE_VIOLATION;
	if (m->off > s->n_notes)
		return violation(s, "message naming note %llu, which it was not given",
				 (unsigned long long)m->off);
	if (++s->messages > HC_MAX_MESSAGES)
		return violation(s, "more than %u messages", HC_MAX_MESSAGES);
	print_message(s, m);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_open_backing(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_INPUT) < 0 ||
	    check_range(s, m, 0, m->len, HC_MAX_BACKING_NAME, true) < 0)
		return HC_SERVE_VIOLATION;
	char name[HC_MAX_BACKING_NAME + 1];
	memcpy(name, s->region + m->buf, m->len);
	name[m->len] = '\0';
	char note[HC_NOTE_TEXT_MAX];
	int64_t dev = backing_attach(s->devs, m->dev, name, m->len, note, sizeof(note));
	if (dev < 0)
		return reply_note(s, m, -EACCES, note);
	m->ret = dev;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_lock(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_ROLE_INPUT) < 0)
		return HC_SERVE_VIOLATION;
	if (m->off != HC_LOCK_METADATA)
		return violation(s, "lock of unknown kind %llu", (unsigned long long)m->off);
	const struct host_device *dev = &s->devs->dev[m->dev];
	char why[IMAGE_LOCK_WHY_MAX] = "";
	if (image_lock_metadata(dev->fd, dev->name, s->devs->force_share, why,
				sizeof(why)) < 0)
		return reply_note(s, m, -EAGAIN, why);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

enum hc_serve_result hc_server_handle(struct hc_server *s)
{
	if (s->region_len < HC_REGION_FREE_OFF)
		return violation(s, "sandbox memory too small");
	struct hc_msg m;
	memcpy(&m, s->region + HC_REGION_MAILBOX_OFF, sizeof(m));
	m.ret = -EINVAL;
	m.ret2 = 0;

	enum hc_serve_result r;
	switch (m.op) {
	case HC_OP_READ:
	case HC_OP_WRITE: r = serve_io(s, &m); break;
	case HC_OP_COPY: r = serve_copy(s, &m); break;
	case HC_OP_SIZE: r = serve_size(s, &m); break;
	case HC_OP_TRUNCATE: r = serve_truncate(s, &m); break;
	case HC_OP_EXTENT: r = serve_extent(s, &m); break;
	case HC_OP_MESSAGE: r = serve_message(s, &m); break;
	case HC_OP_OPEN_BACKING: r = serve_open_backing(s, &m); break;
	case HC_OP_LOCK: r = serve_lock(s, &m); break;
	case HC_OP_CREATE: r = serve_create(s, &m); break;
	case HC_OP_EXIT:
		if (m.off > 255)
			return violation(s, "exit with status %llu", (unsigned long long)m.off);
		s->exit_status = (int)m.off;
		return HC_SERVE_EXIT;
	default:
		return violation(s, "unknown hostcall %u", m.op);
	}
	if (r == HC_SERVE_CONTINUE) {
		struct hc_msg *reply = (struct hc_msg *)(s->region + HC_REGION_MAILBOX_OFF);
		reply->ret = m.ret;
		reply->ret2 = m.ret2;
	}
	return r;
}
