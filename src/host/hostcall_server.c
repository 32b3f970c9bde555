/*
 * Serving hostcalls.  Everything in the mailbox is untrusted: it is copied
 * out of shared memory first (the sandbox cannot change it behind our back),
 * then every field is checked against the device table and the region
 * before a file descriptor is touched.  A request that breaks the rules is
 * not an error to return but a violation that ends the run.
 */
#include "hostcall_server.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/errno_codes.h"
#include "../core/output_names.h"
#include "child_policy.h"
#include "host_io.h"
#include "image_lock.h"
#include "report.h"
#include "text_escape.h"
#include "write_behind.h"

_Static_assert(CD_EINVAL == EINVAL && CD_ENOSPC == ENOSPC && CD_EFAULT == EFAULT &&
	       CD_ENOTSUP == ENOTSUP && CD_EFBIG == EFBIG && CD_EACCES == EACCES &&
	       CD_ENOENT == ENOENT && CD_EIO == EIO && CD_EXDEV == EXDEV,
	       "core's error numbers are Linux's");

#define OFF_MAX ((uint64_t)INT64_MAX)

static const char *const op_names[HC_OP__COUNT] = {
	[HC_OP_READ] = "read", [HC_OP_WRITE] = "write", [HC_OP_COPY] = "copy",
	[HC_OP_SIZE] = "size", [HC_OP_TRUNCATE] = "truncate",
	[HC_OP_MESSAGE] = "message", [HC_OP_EXIT] = "exit",
	[HC_OP_OPEN_CHILD] = "open_child", [HC_OP_LOCK] = "lock",
	[HC_OP_CREATE] = "create", [HC_OP_DEV_INFO] = "dev_info",
	[HC_OP_EXTENTS] = "extents", [HC_OP_RESULT] = "result",
	[HC_OP_PROGRESS] = "progress", [HC_OP_ADD_OUTPUT] = "add_output",
	[HC_OP_SETTLE] = "settle", [HC_OP_ALLOCATED] = "allocated",
};

void hc_server_init(struct hc_server *s, struct host_devices *devs,
		    const struct hc_sinks *sinks, uint8_t *region, uint64_t region_len)
{
	memset(s, 0, sizeof(*s));
	s->devs = devs;
	if (sinks)
		s->sinks = *sinks;
	s->region = region;
	s->region_len = region_len;
	s->buf_floor = HC_REGION_FREE_OFF;
	s->exit_status = 1;
}

/* Waits for the write behind, if any; a failure is kept until told. */
static void drain(struct hc_server *s)
{
	if (!s->behind)
		return;
	int64_t r = write_behind_wait();
	s->behind = false;
	if (r < 0 && s->behind_err == 0)
		s->behind_err = r;
}

void hc_server_fini(struct hc_server *s)
{
	drain(s);
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

/* The device exists and allows what this operation needs (DEV_CAN_*). */
static int check_dev(struct hc_server *s, const struct hc_msg *m, uint32_t dev,
		     uint32_t want)
{
	const struct host_devices *d = s->devs;
	if (dev >= d->count || d->dev[dev].access == 0) {
		violation(s, "%s on device %u, which it was not given", op_names[m->op], dev);
		return -1;
	}
	uint32_t have = d->dev[dev].access;
	if ((have & want) != want) {
		violation(s, "%s on device %u, %s", op_names[m->op], dev,
			  have & DEV_CAN_WRITE ? "an output" : "an input");
		return -1;
	}
	return 0;
}

static bool buffer_ok(const struct hc_server *s, const struct hc_msg *m,
		      uint64_t len)
{
	if ((m->op == HC_OP_MESSAGE || m->op == HC_OP_OPEN_CHILD) &&
	    m->buf == HC_REGION_MSGBUF_OFF && len <= HC_MAX_MESSAGE_LEN)
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

/* A writable device's descriptor for a request reaching up to byte `end`:
 * an output once created, and no further than the host caps it at
 * (output_cap.c). */
static int output_fd(struct hc_server *s, const struct hc_msg *m, uint32_t dev,
		     uint64_t end)
{
	const struct host_output *out = devices_output(s->devs, dev);
	if (out && !out->created) {
		violation(s, "%s before the output was created", op_names[m->op]);
		return -1;
	}
	if (out && end > out->cap) {
		violation(s, "%s up to byte %llu, past the output's limit of %llu bytes",
			  op_names[m->op], (unsigned long long)end,
			  (unsigned long long)out->cap);
		return -1;
	}
	return s->devs->dev[dev].fd;
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
	if (m->level == HC_LEVEL_TEXT || m->level == HC_LEVEL_HINT) {
		fprintf(stderr, "%s%s%s", text, note, m->level == HC_LEVEL_HINT ? "\n" : "");
		fflush(stderr);
	} else if (m->level == HC_LEVEL_WARNING) {
		report_warning("%s%s", text, note);
	} else {
		report_error("%s%s", text, note);
	}
	if (m->level == HC_LEVEL_ERROR)
		s->errors_seen++;
}

/* ---- data --------------------------------------------------------------- */

static enum hc_serve_result serve_io(struct hc_server *s, struct hc_msg *m)
{
	bool is_read = m->op == HC_OP_READ;
	if (!is_read && (m->level & ~HC_WRITE_BEHIND))
		return violation(s, "write with unknown flags 0x%x", m->level);
	if (check_dev(s, m, m->dev, is_read ? DEV_CAN_READ : DEV_CAN_WRITE) < 0 ||
	    check_range(s, m, m->off, m->len, HC_MAX_IO_LEN, true) < 0)
		return HC_SERVE_VIOLATION;
	uint8_t *buf = s->region + m->buf;
	struct host_device *d = &s->devs->dev[m->dev];
	if (d->access & DEV_STREAM) {
		/* A pipe is read or written in order, each byte once. */
		if (m->off != d->stream_pos) {
			m->ret = -ESPIPE;
			return HC_SERVE_CONTINUE;
		}
		m->ret = is_read ? host_read_full(d->fd, buf, m->len)
				 : host_write_full(d->fd, buf, m->len);
		if (m->ret > 0)
			d->stream_pos += (uint64_t)m->ret;
		return HC_SERVE_CONTINUE;
	}
	if (is_read) {
		m->ret = host_pread_full(d->fd, buf, m->len, m->off);
		return HC_SERVE_CONTINUE;
	}
	int fd = output_fd(s, m, m->dev, m->off + m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	if (!(m->level & HC_WRITE_BEHIND) || !write_behind_running()) {
		m->ret = host_pwrite_full(fd, buf, m->len, m->off);
		return HC_SERVE_CONTINUE;
	}
	drain(s);
	if (s->behind_err) { /* told now; this write is not made */
		m->ret = s->behind_err;
		m->ret2 = HC_WRITE_EARLIER;
		s->behind_err = 0;
		return HC_SERVE_CONTINUE;
	}
	write_behind_submit(fd, buf, m->len, m->off);
	s->behind = true;
	s->behind_dev = m->dev;
	s->behind_off = m->off;
	s->behind_end = m->off + m->len;
	m->ret = (int64_t)m->len;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_settle(struct hc_server *s, struct hc_msg *m)
{
	drain(s);
	m->ret = s->behind_err;
	s->behind_err = 0;
	return HC_SERVE_CONTINUE;
}

/* Whether [off, off + len) of dev misses the write behind. */
static bool misses_behind(const struct hc_server *s, uint32_t dev, uint64_t off,
			  uint64_t len)
{
	return dev != s->behind_dev || off >= s->behind_end ||
	       (len <= OFF_MAX && off <= OFF_MAX - len && off + len <= s->behind_off);
}

/* Whether a request may pass a write behind: reads of inputs (the point of
 * writing behind), progress, and writes and copies to other bytes (a
 * writer's metadata between two pieces of data: the two pwrites are
 * ordered by nothing but their ranges, which do not meet).  Anything else
 * could see the write, or end the run: it waits for it. */
static bool passes_behind(const struct hc_server *s, const struct hc_msg *m)
{
	switch (m->op) {
	case HC_OP_PROGRESS:
		return true;
	case HC_OP_WRITE:
		return (m->level & HC_WRITE_BEHIND) || misses_behind(s, m->dev, m->off, m->len);
	case HC_OP_COPY:
		return misses_behind(s, m->dev2, m->off2, m->len);
	case HC_OP_READ:
	case HC_OP_EXTENTS:
		return m->dev < s->devs->count && !(s->devs->dev[m->dev].access & DEV_CAN_WRITE);
	default:
		return false;
	}
}

static enum hc_serve_result serve_copy(struct hc_server *s, struct hc_msg *m)
{
	if (m->level & ~HC_COPY_SKIP_HOLES)
		return violation(s, "copy with unknown flags 0x%x", m->level);
	if (check_dev(s, m, m->dev, DEV_CAN_READ) < 0 ||
	    check_dev(s, m, m->dev2, DEV_CAN_WRITE) < 0 ||
	    check_range(s, m, m->off, m->len, HC_MAX_COPY_LEN, false) < 0 ||
	    check_range(s, m, m->off2, m->len, HC_MAX_COPY_LEN, false) < 0)
		return HC_SERVE_VIOLATION;
	int fd = output_fd(s, m, m->dev2, m->off2 + m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	int in = s->devs->dev[m->dev].fd;
	const struct host_output *out = devices_output(s->devs, m->dev2);
	bool writeback = out && !out->no_flush;
	m->ret = m->level & HC_COPY_SKIP_HOLES
		       ? host_copy_data(in, m->off, fd, m->off2, m->len, writeback)
		       : host_copy_range(in, m->off, fd, m->off2, m->len, writeback);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_size(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, 0) < 0)
		return HC_SERVE_VIOLATION;
	int fd = s->devs->dev[m->dev].fd;
	if ((s->devs->dev[m->dev].access & DEV_CAN_WRITE) &&
	    (fd = output_fd(s, m, m->dev, 0)) < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_fd_size(fd);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_allocated(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_CAN_READ) < 0)
		return HC_SERVE_VIOLATION;
	struct stat st;
	m->ret = fstat(s->devs->dev[m->dev].fd, &st) < 0 ? -errno
							  : (int64_t)st.st_blocks * 512;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_truncate(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_CAN_WRITE) < 0 ||
	    check_range(s, m, 0, m->len, OFF_MAX, false) < 0)
		return HC_SERVE_VIOLATION;
	int fd = output_fd(s, m, m->dev, m->len);
	if (fd < 0)
		return HC_SERVE_VIOLATION;
	m->ret = host_set_size(fd, m->len);
	return HC_SERVE_CONTINUE;
}

/* The sandbox declares an output's virtual size; the job bounds it. */
static enum hc_serve_result serve_create(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_CAN_WRITE) < 0 ||
	    check_range(s, m, 0, m->len, OFF_MAX, false) < 0)
		return HC_SERVE_VIOLATION;
	const struct host_output *out = devices_output(s->devs, m->dev);
	if (!out || out->created)
		return violation(s, "create of device %u, %s", m->dev,
				 out ? "an output already created" : "not a new output");
	if (m->len > out->max_virtual)
		return violation(s, "create of a %llu-byte output, larger than the job's "
				 "window (%llu bytes)", (unsigned long long)m->len,
				 (unsigned long long)out->max_virtual);
	char note[HC_NOTE_TEXT_MAX];
	int ret = output_create(s->devs, m->dev, m->len, note, sizeof(note));
	if (ret < 0)
		return reply_note(s, m, ret, note);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

/* Many runs at once: one exit for a whole scattered range. */
static enum hc_serve_result serve_extents(struct hc_server *s, struct hc_msg *m)
{
	if (m->off2 > HC_MAX_EXTENT_RUNS || m->off2 == 0)
		return violation(s, "extents into %llu runs (1 to %u)",
				 (unsigned long long)m->off2, HC_MAX_EXTENT_RUNS);
	uint64_t bytes = m->off2 * sizeof(struct hc_extent);
	if (check_dev(s, m, m->dev, DEV_CAN_READ) < 0 ||
	    check_range(s, m, m->off, m->len, OFF_MAX, false) < 0 ||
	    check_range(s, m, 0, bytes, bytes, true) < 0)
		return HC_SERVE_VIOLATION;
	if (m->len == 0)
		return violation(s, "extents of 0 bytes");
	struct hc_extent *runs = (struct hc_extent *)(s->region + m->buf);
	int fd = s->devs->dev[m->dev].fd;
	uint64_t off = m->off, end = m->off + m->len, n = 0;
	while (off < end && n < m->off2) {
		bool is_data = true;
		int64_t len = host_extent(fd, off, end - off, &is_data);
		if (len <= 0) {
			m->ret = n ? (int64_t)n : (len < 0 ? len : -EIO);
			return HC_SERVE_CONTINUE;
		}
		struct hc_extent r = { .len = (uint64_t)len, .is_data = is_data };
		memcpy(&runs[n++], &r, sizeof(r));
		off += (uint64_t)len;
	}
	m->ret = (int64_t)n;
	return HC_SERVE_CONTINUE;
}

/* An extra file of one of the job's outputs, named by the host. */
static enum hc_serve_result serve_add_output(struct hc_server *s, struct hc_msg *m)
{
	struct host_devices *d = s->devs;
	if (check_dev(s, m, m->dev, DEV_CAN_WRITE) < 0)
		return HC_SERVE_VIOLATION;
	const struct host_output *parent = devices_output(d, m->dev);
	if (!parent || parent->owned_path)
		return violation(s, "add_output to device %u, not one of the job's outputs",
				 m->dev);
	if (m->dev2 < HC_NAME_SPLIT_SPARSE || m->dev2 > HC_NAME_FLAT)
		return violation(s, "add_output with unknown naming %u", m->dev2);
	if (m->off < 1 || m->off > HC_MAX_EXTENT_FILES || d->n_outs > HC_MAX_EXTENT_FILES)
		return violation(s, "add_output of file %llu (at most %u)",
				 (unsigned long long)m->off, HC_MAX_EXTENT_FILES);
	char name[PATH_MAX], note[HC_NOTE_TEXT_MAX];
	int n = output_name(name, sizeof(name), parent->path, m->dev2, (uint32_t)m->off, 1);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		snprintf(note, sizeof(note), "Could not create '%s': %s", parent->path,
			 strerror(ENAMETOOLONG));
		return reply_note(s, m, -EACCES, note);
	}
	for (uint32_t i = 0; i < d->n_outs; i++)
		if (strcmp(d->outs[i].path, name) == 0)
			return violation(s, "add_output of '%s' twice", name);
	int dev = devices_add_derived_output(d, m->dev, m->dev2, name, note, sizeof(note));
	if (dev < 0)
		return reply_note(s, m, -EACCES, note);
	m->ret = dev;
	return HC_SERVE_CONTINUE;
}

/* ---- children, names, locks --------------------------------------------- */

static enum hc_serve_result serve_open_child(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_CAN_READ) < 0 ||
	    check_range(s, m, 0, m->len, HC_MAX_CHILD_NAME, true) < 0)
		return HC_SERVE_VIOLATION;
	if (m->dev2 != HC_CHILD_BACKING && m->dev2 != HC_CHILD_EXTENT)
		return violation(s, "open_child of unknown kind %u", m->dev2);
	char name[HC_MAX_CHILD_NAME + 1];
	memcpy(name, s->region + m->buf, m->len);
	name[m->len] = '\0';
	char note[HC_NOTE_TEXT_MAX];
	int64_t dev = child_attach(s->devs, m->dev, m->dev2, name, m->len, note,
				   sizeof(note));
	if (dev < 0)
		return reply_note(s, m, -EACCES, note);
	m->ret = dev;
	return HC_SERVE_CONTINUE;
}

static uint32_t file_type_of_mode(mode_t mode)
{
	return S_ISREG(mode) ? HC_FILE_REGULAR : S_ISCHR(mode) ? HC_FILE_CHAR
	     : S_ISBLK(mode) ? HC_FILE_BLOCK : S_ISFIFO(mode) ? HC_FILE_FIFO : HC_FILE_NONE;
}

/* What the device is now: an output not created yet is what its target
 * is (nothing, a file to replace, a device, a FIFO). */
static uint32_t file_type(struct hc_server *s, uint32_t dev)
{
	const struct host_output *o = devices_output(s->devs, dev);
	struct stat st;
	if (o && !o->created) {
		if (o->prep_errno)
			return HC_FILE_NONE;
		if (o->kind == OUTPUT_FIFO)
			return HC_FILE_FIFO;
		if (o->kind == OUTPUT_IN_PLACE)
			return fstat(o->place_fd, &st) == 0 ? file_type_of_mode(st.st_mode)
							    : HC_FILE_NONE;
		return o->existed ? HC_FILE_REGULAR : HC_FILE_NONE;
	}
	int fd = s->devs->dev[dev].fd;
	return fd >= 0 && fstat(fd, &st) == 0 ? file_type_of_mode(st.st_mode) : HC_FILE_NONE;
}

/* The display name, written into the sandbox's buffer, and the file type. */
static enum hc_serve_result serve_dev_info(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, 0) < 0 ||
	    check_range(s, m, 0, m->len, HC_MAX_NAME_LEN, m->len > 0) < 0)
		return HC_SERVE_VIOLATION;
	const char *name = s->devs->dev[m->dev].name;
	size_t n = name ? strlen(name) : 0;
	if (m->len)
		memcpy(s->region + m->buf, name, n < m->len ? n : m->len);
	m->ret = (int64_t)n;
	m->ret2 = file_type(s, m->dev);
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_lock(struct hc_server *s, struct hc_msg *m)
{
	if (check_dev(s, m, m->dev, DEV_CAN_READ) < 0)
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

/* ---- messages, results, progress ---------------------------------------- */

static enum hc_serve_result serve_message(struct hc_server *s, struct hc_msg *m)
{
	if (m->level > HC_LEVEL_HINT)
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

static enum hc_serve_result serve_result(struct hc_server *s, struct hc_msg *m)
{
	if (!s->sinks.results)
		return violation(s, "result from a command that has none");
	if (check_range(s, m, 0, m->len, HC_MAX_RESULT_CALL, true) < 0)
		return HC_SERVE_VIOLATION;
	char why[128];
	if (result_store_add(s->sinks.results, s->region + m->buf, m->len, why,
			     sizeof(why)) < 0)
		return violation(s, "%s", why);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

static enum hc_serve_result serve_progress(struct hc_server *s, struct hc_msg *m)
{
	if (!s->sinks.progress)
		return violation(s, "progress from a command that shows none");
	if (progress_report(s->sinks.progress, m->off, m->off2) < 0)
		return violation(s, "progress %llu of %llu after %llu",
				 (unsigned long long)m->off, (unsigned long long)m->off2,
				 (unsigned long long)s->sinks.progress->done);
	m->ret = 0;
	return HC_SERVE_CONTINUE;
}

typedef enum hc_serve_result (*serve_fn)(struct hc_server *s, struct hc_msg *m);

static const serve_fn servers[HC_OP__COUNT] = {
	[HC_OP_READ] = serve_io,
	[HC_OP_WRITE] = serve_io,
	[HC_OP_COPY] = serve_copy,
	[HC_OP_SIZE] = serve_size,
	[HC_OP_TRUNCATE] = serve_truncate,
	[HC_OP_MESSAGE] = serve_message,
	[HC_OP_OPEN_CHILD] = serve_open_child,
	[HC_OP_LOCK] = serve_lock,
	[HC_OP_CREATE] = serve_create,
	[HC_OP_DEV_INFO] = serve_dev_info,
	[HC_OP_EXTENTS] = serve_extents,
	[HC_OP_RESULT] = serve_result,
	[HC_OP_PROGRESS] = serve_progress,
	[HC_OP_ADD_OUTPUT] = serve_add_output,
	[HC_OP_SETTLE] = serve_settle,
	[HC_OP_ALLOCATED] = serve_allocated,
};

/* Whether dev is a stream (standard input or output). */
static bool stream(const struct hc_server *s, uint32_t dev)
{
	return dev < s->devs->count && (s->devs->dev[dev].access & DEV_STREAM);
}

/* What a stream takes besides reading and writing in order: asking its
 * name.  Anything else (its size, extents, copies, creating, locking,
 * children) is refused as a pipe refuses it. */
static bool refused_on_stream(const struct hc_server *s, const struct hc_msg *m)
{
	switch (m->op) {
	case HC_OP_READ:
	case HC_OP_WRITE:
	case HC_OP_DEV_INFO:
	case HC_OP_MESSAGE:
	case HC_OP_RESULT:
	case HC_OP_PROGRESS:
	case HC_OP_SETTLE:
		return false;
	case HC_OP_COPY:
		return stream(s, m->dev) || stream(s, m->dev2);
	default:
		return stream(s, m->dev);
	}
}

enum hc_serve_result hc_server_handle(struct hc_server *s)
{
	if (s->region_len < HC_REGION_FREE_OFF)
		return violation(s, "sandbox memory too small");
	struct hc_msg m;
	memcpy(&m, s->region + HC_REGION_MAILBOX_OFF, sizeof(m));
	m.ret = -EINVAL;
	m.ret2 = 0;
	if (!passes_behind(s, &m))
		drain(s);

	if (m.op == HC_OP_EXIT) {
		if (m.off > 255)
			return violation(s, "exit with status %llu", (unsigned long long)m.off);
		if (m.off == 0 && s->behind_err)
			return violation(s, "exit with status 0 before it was told that a "
					 "write failed (%s)", strerror((int)-s->behind_err));
		s->exit_status = (int)m.off;
		return HC_SERVE_EXIT;
	}
	if (m.op >= HC_OP__COUNT || !servers[m.op])
		return violation(s, "unknown hostcall %u", m.op);
	enum hc_serve_result r = HC_SERVE_CONTINUE;
	if (refused_on_stream(s, &m))
		m.ret = -ESPIPE;
	else
		r = servers[m.op](s, &m);
	if (r == HC_SERVE_CONTINUE) {
		struct hc_msg *reply = (struct hc_msg *)(s->region + HC_REGION_MAILBOX_OFF);
		reply->ret = m.ret;
		reply->ret2 = m.ret2;
	}
	return r;
}
