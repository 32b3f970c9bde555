/* In-memory hostcall table; see memdev.h. */
#include "memdev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/abi/job.h"
#include "../../src/core/output_names.h"

static struct memdev *get(struct memdevs *m, uint32_t dev, bool output)
{
	if (dev >= m->count || m->dev[dev].output != output) {
		m->violations++;
		return NULL;
	}
	return &m->dev[dev];
}

static int grow(struct memdev *d, uint64_t size)
{
	if (size <= d->size)
		return 0;
	if (size > (1ull << 32))
		return -CD_EFBIG; /* tests keep outputs small */
	uint8_t *p = realloc(d->data, size ? size : 1);
	if (!p)
		return -CD_ENOMEM;
	memset(p + d->size, 0, size - d->size);
	d->data = p;
	d->size = size;
	return 0;
}

/* Counts a violation unless [buf, buf+len) lies in one live allocation. */
static void check_buffer(struct memdevs *m, const void *buf, uint64_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < m->nblocks; i++)
		if (p >= m->blocks[i].p && len <= m->blocks[i].len &&
		    (size_t)(p - m->blocks[i].p) <= m->blocks[i].len - len)
			return;
	m->violations++;
}

static int64_t md_read(void *ctx, uint32_t dev, uint64_t off, void *buf, uint64_t len)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_READ]++;
	check_buffer(m, buf, len);
	struct memdev *d = get(m, dev, false);
	if (!d || len > HC_MAX_IO_LEN)
		return -CD_EINVAL;
	if (m->fail_read)
		return m->fail_read;
	if (off >= d->size)
		return 0;
	uint64_t n = d->size - off < len ? d->size - off : len;
	memcpy(buf, d->data + off, n);
	return (int64_t)n;
}

static int64_t put(struct memdevs *m, struct memdev *d, uint64_t off, const void *buf,
		   uint64_t len)
{
	int ret = grow(d, off + len);
	if (ret < 0)
		return ret;
	memcpy(d->data + off, buf, len);
	m->written += len;
	return (int64_t)len;
}

/* Makes the write behind, as the host does before a request that could
 * see it; a failure is kept until told. */
static void drain(struct memdevs *m)
{
	if (!m->behind.pending)
		return;
	m->behind.pending = false;
	m->behind_writes++;
	bool fails = m->fail_behind && m->behind.off == m->fail_behind_off;
	int64_t r = fails ? m->fail_behind
			  : put(m, &m->dev[m->behind.dev], m->behind.off, m->behind.buf,
				m->behind.len);
	if (r < 0 && m->behind.err == 0)
		m->behind.err = r;
}

static int64_t md_write(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			uint64_t len)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_WRITE]++;
	drain(m);
	check_buffer(m, buf, len);
	struct memdev *d = get(m, dev, true);
	if (!d || len > HC_MAX_IO_LEN || !d->created) {
		m->violations += d != NULL;
		return -CD_EINVAL;
	}
	return put(m, d, off, buf, len);
}

static int64_t md_write_behind(void *ctx, uint32_t dev, uint64_t off, const void *buf,
			       uint64_t len, bool *earlier)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_WRITE]++;
	*earlier = false;
	check_buffer(m, buf, len);
	struct memdev *d = get(m, dev, true);
	if (!d || len > HC_MAX_IO_LEN || !d->created) {
		m->violations += d != NULL;
		return -CD_EINVAL;
	}
	drain(m);
	if (m->behind.err) {
		int64_t err = m->behind.err;
		m->behind.err = 0;
		*earlier = true;
		return err;
	}
	m->behind.pending = true;
	m->behind.dev = dev;
	m->behind.off = off;
	m->behind.len = len;
	m->behind.buf = buf;
	return (int64_t)len;
}

static int64_t md_settle(void *ctx)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_SETTLE]++;
	drain(m);
	int64_t err = m->behind.err;
	m->behind.err = 0;
	return err;
}

/* HC_COPY_SKIP_HOLES: only the source's data blocks, past its end nothing. */
static int64_t copy_data(struct memdevs *m, struct memdev *s, uint64_t src_off,
			 struct memdev *d, uint64_t dst_off, uint64_t len)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t at = src_off + done, block = at / MEMDEV_HOLE_BLOCK;
		uint64_t n = (block + 1) * MEMDEV_HOLE_BLOCK - at;
		n = n < len - done ? n : len - done;
		if (at >= s->size)
			break;
		if (!s->hole || !s->hole[block]) {
			uint64_t have = s->size - at < n ? s->size - at : n;
			int ret = grow(d, dst_off + done + have);
			if (ret < 0)
				return ret;
			memcpy(d->data + dst_off + done, s->data + at, have);
			m->copied += have;
		}
		done += n;
	}
	return (int64_t)len;
}

static int64_t md_copy(void *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
		       uint64_t dst_off, uint64_t len, uint32_t flags)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_COPY]++;
	drain(m);
	struct memdev *s = get(m, src, false), *d = get(m, dst, true);
	if (!s || !d || len > HC_MAX_COPY_LEN || !d->created || (flags & ~HC_COPY_SKIP_HOLES)) {
		m->violations += s && d;
		return -CD_EINVAL;
	}
	if (m->fail_read)
		return m->fail_read;
	if (flags & HC_COPY_SKIP_HOLES)
		return copy_data(m, s, src_off, d, dst_off, len);
	if (src_off >= s->size)
		return 0;
	uint64_t n = s->size - src_off < len ? s->size - src_off : len;
	int ret = grow(d, dst_off + n);
	if (ret < 0)
		return ret;
	memcpy(d->data + dst_off, s->data + src_off, n);
	m->copied += n;
	return (int64_t)n;
}

static int64_t md_size(void *ctx, uint32_t dev)
{
	struct memdevs *m = ctx;
	if (dev < m->count && m->dev[dev].output)
		drain(m);
	if (dev >= m->count) {
		m->violations++;
		return -CD_EINVAL;
	}
	return (int64_t)m->dev[dev].size;
}

/* A memdev's data is all allocated: its size, rounded up to 4 KiB, as a
 * file system's blocks would be; a device with holes counts its data
 * blocks only. */
static int64_t md_allocated(void *ctx, uint32_t dev)
{
	struct memdevs *m = ctx;
	if (dev >= m->count) {
		m->violations++;
		return -CD_EINVAL;
	}
	const struct memdev *d = &m->dev[dev];
	uint64_t blocks = (d->size + MEMDEV_HOLE_BLOCK - 1) / MEMDEV_HOLE_BLOCK, n = 0;
	for (uint64_t b = 0; b < blocks; b++)
		n += !d->hole || !d->hole[b];
	return (int64_t)(n * MEMDEV_HOLE_BLOCK);
}

static int64_t md_truncate(void *ctx, uint32_t dev, uint64_t size)
{
	struct memdevs *m = ctx;
	drain(m);
	struct memdev *d = get(m, dev, true);
	if (!d || !d->created) {
		m->violations += d != NULL;
		return -CD_EINVAL;
	}
	if (m->fail_truncate)
		return m->fail_truncate;
	if (size < d->size) {
		d->size = size;
		return 0;
	}
	return grow(d, size);
}

static bool is_hole(const struct memdev *d, uint64_t off)
{
	return d->hole && d->hole[off / MEMDEV_HOLE_BLOCK];
}

/* One data/hole run at off, at most len; past the end a hole of len. */
static uint64_t one_run(const struct memdev *d, uint64_t off, uint64_t len, bool *is_data)
{
	if (off >= d->size) {
		*is_data = false;
		return len;
	}
	bool hole = is_hole(d, off);
	uint64_t end = off;
	while (end < d->size && end - off < len && is_hole(d, end) == hole)
		end = (end / MEMDEV_HOLE_BLOCK + 1) * MEMDEV_HOLE_BLOCK;
	if (end > d->size)
		end = d->size;
	*is_data = !hole;
	return end - off < len ? end - off : len;
}

static int64_t md_extents(void *ctx, uint32_t dev, uint64_t off, uint64_t len,
			  struct hc_extent *runs, uint32_t max)
{
	struct memdevs *m = ctx;
	check_buffer(m, runs, (uint64_t)max * sizeof(*runs));
	struct memdev *d = get(m, dev, false);
	m->calls[HC_OP_EXTENTS]++;
	if (!d || len == 0 || max == 0 || max > HC_MAX_EXTENT_RUNS)
		return -CD_EINVAL;
	uint32_t n = 0;
	for (uint64_t end = off + len; off < end && n < max; n++) {
		bool is_data;
		uint64_t run = one_run(d, off, end - off, &is_data);
		runs[n] = (struct hc_extent){ .len = run, .is_data = is_data };
		off += run;
	}
	return n;
}

/* A note as the host keeps it: its id for the sandbox. */
static uint32_t note(struct memdevs *m, const char *text)
{
	if (m->nnotes == MEMDEV_MAX_NOTES) {
		m->violations++;
		return 0;
	}
	m->notes[m->nnotes++] = text;
	return m->nnotes;
}

/* Names match exactly; a backing file is attached at most once (a loop),
 * an extent any number of times. */
static int64_t md_open_child(void *ctx, uint32_t from_dev, uint32_t kind, const char *name,
			     size_t len, uint32_t *noted)
{
	struct memdevs *m = ctx;
	*noted = 0;
	if (!get(m, from_dev, false) || (kind != HC_CHILD_BACKING && kind != HC_CHILD_EXTENT))
		return -CD_EINVAL;
	if (m->refuse_child) {
		*noted = note(m, m->refuse_child);
		return -CD_EACCES;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		struct memdev *d = &m->dev[i];
		if (d->output || !d->name || strlen(d->name) != len ||
		    memcmp(d->name, name, len) != 0)
			continue;
		if (d->attached && kind == HC_CHILD_BACKING) {
			*noted = note(m, "it is already in the backing chain (a loop)");
			return -CD_EACCES;
		}
		d->attached = true;
		return i;
	}
	*noted = note(m, "no such file in memdev");
	return -CD_EACCES;
}

/* Every lock succeeds unless lock_why is set (a conflict to report). */
static int64_t md_lock(void *ctx, uint32_t dev, uint32_t kind, uint32_t *noted)
{
	struct memdevs *m = ctx;
	*noted = 0;
	if (!get(m, dev, false) || kind != HC_LOCK_METADATA) {
		m->violations += kind != HC_LOCK_METADATA;
		return -CD_EINVAL;
	}
	m->locks++;
	if (!m->lock_why[0])
		return 0;
	*noted = note(m, m->lock_why);
	return -CD_EAGAIN;
}

/* Creates the output once; the declared size is the writer's business. */
static int64_t md_create(void *ctx, uint32_t dev, uint64_t size, uint32_t *noted)
{
	struct memdevs *m = ctx;
	drain(m);
	(void)size;
	*noted = 0;
	struct memdev *d = get(m, dev, true);
	if (!d)
		return -CD_EINVAL;
	if (d->created) {
		m->violations++;
		return -CD_EINVAL;
	}
	if (m->fail_create) {
		if (m->create_note)
			*noted = note(m, m->create_note);
		return m->fail_create;
	}
	d->created = true;
	return 0;
}

static int64_t md_dev_info(void *ctx, uint32_t dev, char *buf, size_t len,
			   uint32_t *type)
{
	struct memdevs *m = ctx;
	if (len)
		check_buffer(m, buf, len);
	if (dev >= m->count) {
		m->violations++;
		return -CD_EINVAL;
	}
	/* Outputs exist once created; a test may say otherwise. */
	*type = m->dev[dev].file_type ? m->dev[dev].file_type
	      : !m->dev[dev].output || m->dev[dev].created ? HC_FILE_REGULAR : HC_FILE_NONE;
	const char *name = m->dev[dev].display ? m->dev[dev].display : "";
	size_t n = strlen(name);
	if (len)
		memcpy(buf, name, n < len ? n : len);
	return (int64_t)n;
}

/* An extra output, named as the host names it. */
static int64_t md_add_output(void *ctx, uint32_t dev, uint32_t rule, uint32_t index,
			     uint32_t *noted)
{
	struct memdevs *m = ctx;
	drain(m);
	*noted = 0;
	struct memdev *parent = get(m, dev, true);
	if (!parent || m->count == MEMDEV_MAX || rule < HC_NAME_SPLIT_SPARSE ||
	    rule > HC_NAME_FLAT || index < 1) {
		m->violations += parent != NULL;
		return -CD_EINVAL;
	}
	char *name = m->names[m->count];
	output_name(name, sizeof(m->names[0]), parent->display, rule, index, 1);
	return memdevs_add_output(m, name);
}

/* Checked as the host checks them (result_store.c). */
static int64_t md_result(void *ctx, const void *records, size_t len)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_RESULT]++;
	check_buffer(m, records, len);
	char why[128];
	if (result_store_add(&m->results, records, len, why, sizeof(why)) < 0) {
		m->violations++;
		return -CD_EINVAL;
	}
	return 0;
}

static int64_t md_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct memdevs *m = ctx;
	m->calls[HC_OP_PROGRESS]++;
	if (done > total || done < m->progress_done) {
		m->violations++;
		return -CD_EINVAL;
	}
	m->progress_done = done;
	m->progress_total = total;
	return 0;
}

static void md_message(void *ctx, uint32_t level, const char *text, size_t len,
		       uint32_t noted)
{
	struct memdevs *m = ctx;
	if (m->nmsgs >= MEMDEV_MAX_MSGS || len >= CORE_ERR_MAX || noted > m->nnotes) {
		m->violations++;
		return;
	}
	char *msg = m->msgs[m->nmsgs];
	snprintf(msg, sizeof(m->msgs[0]), "%.*s%s", (int)len, text,
		 noted ? m->notes[noted - 1] : "");
	m->msg_level[m->nmsgs++] = level;
}

struct md_block {
	size_t size;
	size_t pad[7]; /* keeps the user pointer 64-byte aligned */
};

static void *md_alloc(void *ctx, size_t size, size_t align)
{
	struct memdevs *m = ctx;
	if (m->mem_cap && (size > m->mem_cap || m->mem_used > m->mem_cap - size))
		return NULL;
	if (align < 64)
		align = 64;
	struct md_block *b = aligned_alloc(align, align + ((size + align - 1) & ~(align - 1)));
	if (!b)
		return NULL;
	uint8_t *user = (uint8_t *)b + align;
	((size_t *)user)[-1] = size;
	((void **)user)[-2] = b;
	if (m->nblocks == m->blocks_cap) {
		size_t cap = m->blocks_cap ? 2 * m->blocks_cap : 64;
		struct memdev_block *nb = realloc(m->blocks, cap * sizeof(*nb));
		if (!nb) {
			free(b);
			return NULL;
		}
		m->blocks = nb;
		m->blocks_cap = cap;
	}
	m->blocks[m->nblocks++] = (struct memdev_block){ user, size };
	m->mem_used += size;
	return user;
}

static void md_free(void *ctx, void *ptr)
{
	struct memdevs *m = ctx;
	for (size_t i = 0; i < m->nblocks; i++) {
		if (m->blocks[i].p == ptr) {
			/* The host would still read a write behind from it. */
			const uint8_t *b = m->behind.buf;
			if (m->behind.pending && b >= m->blocks[i].p &&
			    b < m->blocks[i].p + m->blocks[i].len)
				m->violations++;
			m->blocks[i] = m->blocks[--m->nblocks];
			break;
		}
	}
	m->mem_used -= ((size_t *)ptr)[-1];
	free(((void **)ptr)[-2]);
}

void memdevs_init(struct memdevs *m)
{
	memset(m, 0, sizeof(*m));
	m->table = (struct hostcalls){
		.ctx = m, .read = md_read, .write = md_write, .copy = md_copy,
		.write_behind = md_write_behind, .settle = md_settle,
		.size = md_size, .allocated = md_allocated, .truncate = md_truncate,
		.extents = md_extents,
		.open_child = md_open_child,
		.lock = md_lock,
		.create = md_create,
		.dev_info = md_dev_info,
		.add_output = md_add_output,
		.result = md_result,
		.progress = md_progress,
		.message = md_message,
	};
	result_store_init(&m->results);
	/* The layout test_dd_job() names: the output first. */
	memdevs_add_output(m, "out.raw");
	m->alloc = (struct core_alloc){ .ctx = m, .alloc = md_alloc, .free = md_free };
	m->env = (struct core_env){ .hc = &m->table, .mem = &m->alloc };
}

uint32_t memdevs_add_output(struct memdevs *m, const char *display)
{
	if (m->count == MEMDEV_MAX)
		abort(); /* a test's own mistake: more devices than memdev holds */
	uint32_t dev = m->count++;
	m->dev[dev] = (struct memdev){ .output = true, .display = display };
	return dev;
}

uint32_t memdevs_add_input(struct memdevs *m, const void *data, uint64_t size)
{
	if (m->count == MEMDEV_MAX)
		abort(); /* a test's own mistake: more devices than memdev holds */
	uint32_t dev = m->count++;
	struct memdev *d = &m->dev[dev];
	d->display = "in.raw";
	d->data = malloc(size ? size : 1);
	if (size)
		memcpy(d->data, data, size);
	d->size = size;
	return dev;
}

void memdevs_input_first(struct memdevs *m, const void *data, uint64_t size)
{
	/* Right after memdevs_init(): its output, not yet created, is the
	 * only device and holds nothing. */
	m->dev[0] = (struct memdev){ 0 };
	m->count = 0;
	memdevs_add_input(m, data, size);
}

uint32_t memdevs_add_named(struct memdevs *m, const char *name, const void *data,
			   uint64_t size)
{
	uint32_t dev = memdevs_add_input(m, data, size);
	m->dev[dev].name = name;
	return dev;
}

void memdevs_punch(struct memdevs *m, uint32_t dev, uint64_t off, uint64_t len)
{
	struct memdev *d = &m->dev[dev];
	uint64_t blocks = (d->size + MEMDEV_HOLE_BLOCK - 1) / MEMDEV_HOLE_BLOCK;
	if (!d->hole)
		d->hole = calloc(blocks ? blocks : 1, sizeof(bool));
	for (uint64_t b = off / MEMDEV_HOLE_BLOCK; b * MEMDEV_HOLE_BLOCK < off + len && b < blocks; b++)
		d->hole[b] = true;
}

void memdevs_free(struct memdevs *m)
{
	result_store_free(&m->results);
	free(m->blocks);
	m->blocks = NULL;
	m->nblocks = m->blocks_cap = 0;
	for (uint32_t i = 0; i < m->count; i++) {
		free(m->dev[i].data);
		free(m->dev[i].hole);
	}
}
