/*
 * Finding and replaying the VHDX log (see vhdx_log.h).  The search follows
 * qemu's vhdx_log_search() step by step, its quirks included (the second
 * entry of a sequence is taken whatever its sequence number; candidates
 * are ranked by their first entry's), so that cordon replays exactly the
 * entries `qemu-img check -r all` would.
 */
#include "vhdx_log.h"

#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

#define LOG_SIGNATURE 0x65676f6cu  /* "loge" */
#define DESC_SIGNATURE 0x63736564u /* "desc" */
#define ZERO_SIGNATURE 0x6f72657au /* "zero" */
#define LOG_HDR_LEN 64u
#define DESC_LEN 32u
#define QEMU_MAX_LENGTH 0x7fffffffc0000000ull

/* ---- the view --------------------------------------------------------- */

static int base_read(struct vhdx_view *v, uint64_t off, uint8_t *buf, uint64_t len)
{
	if (off > QEMU_MAX_LENGTH || len > QEMU_MAX_LENGTH - off)
		return -CD_EIO;
	return io_read(v->ctx, v->dev, off, buf, len);
}

/* The log's bytes (never written by a replay), through a window. */
static int log_read(struct vhdx_view *v, uint64_t off, uint8_t *buf, uint32_t len)
{
	uint64_t end;
	if (ADD_OVERFLOW(off, (uint64_t)len, &end))
		return -CD_EIO;
	if (off < v->window_off || end > v->window_off + VHDX_LOG_WINDOW ||
	    v->window_off == UINT64_MAX) {
		uint64_t start = off & ~(uint64_t)(VHDX_LOG_WINDOW / 2 - 1);
		if (end - start > VHDX_LOG_WINDOW)
			return base_read(v, off, buf, len);
		v->window_off = UINT64_MAX;
		int ret = base_read(v, start, v->window, VHDX_LOG_WINDOW);
		if (ret < 0)
			return ret;
		v->window_off = start;
	}
	memcpy(buf, v->window + (off - v->window_off), len);
	return 0;
}

static void overlay(const struct vhdx_write *w, const uint8_t *sector, uint64_t off,
		    uint8_t *buf, uint64_t len)
{
	uint64_t from = w->off > off ? w->off : off;
	uint64_t to = w->off + w->len < off + len ? w->off + w->len : off + len;
	if (w->src == UINT64_MAX)
		memset(buf + (from - off), 0, to - from);
	else
		memcpy(buf + (from - off), sector + (from - w->off), to - from);
}

int vhdx_view_read(struct vhdx_view *v, uint64_t off, void *buf, uint64_t len)
{
	int ret = base_read(v, off, buf, len);
	for (uint32_t i = 0; ret == 0 && i < v->n_w; i++) {
		const struct vhdx_write *w = &v->w[i];
		if (w->off >= off + len || w->off + w->len <= off)
			continue;
		if (w->src != UINT64_MAX) {
			ret = log_read(v, w->src, v->sector, VHDX_LOG_SECTOR);
			memcpy(v->sector, w->lead, 8);
			memcpy(v->sector + VHDX_LOG_SECTOR - 4, w->trail, 4);
		}
		if (ret == 0)
			overlay(w, v->sector, off, buf, len);
	}
	return ret;
}

bool vhdx_view_touched(const struct vhdx_view *v, uint64_t off, uint64_t len)
{
	for (uint32_t i = 0; i < v->n_w; i++)
		if (v->w[i].off < off + len && v->w[i].off + v->w[i].len > off)
			return true;
	return false;
}

void vhdx_view_free(struct vhdx_view *v)
{
	core_free(v->ctx, v->w);
	core_free(v->ctx, v->sector);
	core_free(v->ctx, v->window);
	v->w = NULL;
	v->sector = v->window = NULL;
	v->n_w = 0;
}

/* ---- the circular log, as qemu walks it ---------------------------------- */

struct log {
	uint64_t offset;
	uint32_t length;
	uint32_t read, write;
};

struct entry_hdr {
	uint32_t checksum, entry_length, descriptor_count;
	uint64_t seq, flushed_file_offset, last_file_offset;
	uint8_t log_guid[16];
};

static uint32_t inc_idx(uint32_t idx, uint32_t length)
{
	idx += VHDX_LOG_SECTOR;
	return idx >= length ? 0 : idx;
}

static int peek_hdr(struct vhdx_view *v, const struct log *l, struct entry_hdr *h, bool *sig_ok)
{
	uint32_t read = l->read;
	if ((uint64_t)read + LOG_HDR_LEN > l->length)
		read = 0;
	if (read == l->write)
		return -CD_EINVAL;
	uint8_t b[LOG_HDR_LEN];
	int ret = log_read(v, l->offset + read, b, LOG_HDR_LEN);
	if (ret < 0)
		return ret;
	*sig_ok = load_le32(b) == LOG_SIGNATURE;
	*h = (struct entry_hdr){
		.checksum = load_le32(b + 4),
		.entry_length = load_le32(b + 8),
		.seq = load_le64(b + 16),
		.descriptor_count = load_le32(b + 24),
		.flushed_file_offset = load_le64(b + 48),
		.last_file_offset = load_le64(b + 56),
	};
	memcpy(h->log_guid, b + 32, 16);
	return 0;
}

static bool hdr_valid(const struct log *l, const struct entry_hdr *h, bool sig_ok,
		      const uint8_t guid[16])
{
	return sig_ok && h->entry_length <= l->length && h->entry_length % VHDX_LOG_SECTOR == 0 &&
	       h->seq != 0 && memcmp(h->log_guid, guid, 16) == 0 &&
	       (uint64_t)h->descriptor_count * DESC_LEN <= h->entry_length;
}

/* Sectors holding the header and count descriptors (never 0). */
static uint32_t desc_sectors(uint32_t count)
{
	count += 2;
	return count / 128 + (count % 128 != 0);
}

/* Reads the next sector of the log into buf and advances; false when the
 * sequence's end (write) is reached. */
static int next_sector(struct vhdx_view *v, struct log *l, uint8_t *buf, bool *got)
{
	*got = false;
	if (l->read == l->write)
		return 0;
	int ret = log_read(v, l->offset + l->read, buf, VHDX_LOG_SECTOR);
	if (ret < 0)
		return ret;
	l->read = inc_idx(l->read, l->length);
	*got = true;
	return 0;
}

struct desc {
	uint32_t signature, trailing;
	uint64_t leading_or_zero_len, file_offset, seq;
};

static struct desc desc_at(const uint8_t *d)
{
	return (struct desc){
		.signature = load_le32(d),
		.trailing = load_le32(d + 4),
		.leading_or_zero_len = load_le64(d + 8),
		.file_offset = load_le64(d + 16),
		.seq = load_le64(d + 24),
	};
}

static bool desc_valid(const struct desc *d, const struct entry_hdr *h)
{
	if (d->seq != h->seq || d->file_offset % VHDX_LOG_SECTOR)
		return false;
	if (d->signature == ZERO_SIGNATURE)
		return d->leading_or_zero_len % VHDX_LOG_SECTOR == 0;
	return d->signature == DESC_SIGNATURE;
}

/*
 * qemu's vhdx_log_read_desc, streaming: walks the entry's descriptor
 * sectors (advancing the log), checks every descriptor, folds the sectors
 * into *crc (the first with its checksum field as zero) and, when each is
 * not NULL, hands every descriptor to it in order.  0; -CD_EINVAL for an
 * invalid header or descriptor (qemu fails the open then).
 */
typedef int (*desc_fn)(void *arg, const struct desc *d, uint32_t index);

static int read_desc(struct vhdx_view *v, struct log *l, const uint8_t guid[16],
		     struct entry_hdr *h, uint32_t *crc, desc_fn each, void *arg)
{
	bool sig_ok;
	int ret = peek_hdr(v, l, h, &sig_ok);
	if (ret < 0)
		return ret;
	if (!hdr_valid(l, h, sig_ok, guid))
		return -CD_EINVAL;
	uint32_t n = desc_sectors(h->descriptor_count), done = 0;
	for (uint32_t s = 0; s < n; s++) {
		bool got;
		if ((ret = next_sector(v, l, v->sector, &got)) < 0)
			return ret;
		if (!got)
			return -CD_EINVAL;
		*crc = vhdx_crc32c(*crc, v->sector, VHDX_LOG_SECTOR, s == 0 ? 4 : SIZE_MAX);
		/* the first sector holds the header and 126 descriptors */
		for (uint32_t k = s == 0 ? 2 : 0; k < 128 && done < h->descriptor_count; k++, done++) {
			struct desc d = desc_at(v->sector + DESC_LEN * k);
			if (!desc_valid(&d, h))
				return -CD_EINVAL;
			if (each && (ret = each(arg, &d, done)) < 0)
				return ret;
		}
	}
	return 0;
}

/* qemu's vhdx_validate_log_entry: *valid with the entry's header, the log
 * advanced past what was read (one sector for an entry that is no entry). */
static int validate_entry(struct vhdx_view *v, struct log *l, const uint8_t guid[16],
			  uint64_t seq, bool *valid, struct entry_hdr *out)
{
	*valid = false;
	struct entry_hdr h;
	bool sig_ok;
	int ret = peek_hdr(v, l, &h, &sig_ok);
	if (ret < 0 || !hdr_valid(l, &h, sig_ok, guid) || (seq > 0 && h.seq != seq + 1)) {
		l->read = inc_idx(l->read, l->length);
		return ret;
	}
	uint32_t crc = 0;
	if ((ret = read_desc(v, l, guid, &h, &crc, NULL, NULL)) < 0)
		return ret;
	uint32_t total = h.entry_length / VHDX_LOG_SECTOR, dsec = desc_sectors(h.descriptor_count);
	for (uint32_t i = dsec; i < total; i++) {
		bool got;
		if ((ret = next_sector(v, l, v->sector, &got)) < 0)
			return ret;
		if (!got)
			return 0;
		crc = vhdx_crc32c(crc, v->sector, VHDX_LOG_SECTOR, SIZE_MAX);
	}
	if (crc == h.checksum) {
		*valid = true;
		*out = h;
	}
	return 0;
}

struct sequence {
	bool valid;
	struct log log;          /* read: its first entry; write: past its last */
	uint32_t count;
	struct entry_hdr hdr;    /* its first entry's */
};

static int search(struct vhdx_view *v, const struct log *whole, const uint8_t guid[16],
		  struct sequence *best)
{
	struct log cur = *whole;
	cur.write = cur.length; /* as if full */
	cur.read = 0;
	*best = (struct sequence){ 0 };
	for (;;) {
		uint64_t seq = 0;
		struct sequence s = { 0 };
		uint32_t tail = cur.read;
		bool valid;
		struct entry_hdr h;
		int ret = validate_entry(v, &cur, guid, seq, &valid, &h);
		if (ret < 0)
			return ret;
		if (valid) {
			s = (struct sequence){ .valid = true, .log = cur, .count = 1, .hdr = h };
			s.log.read = tail;
			s.log.write = cur.read;
			for (;;) {
				if ((ret = validate_entry(v, &cur, guid, seq, &valid, &h)) < 0)
					return ret;
				if (!valid)
					break;
				s.log.write = cur.read;
				s.count++;
				seq = h.seq;
			}
		}
		if (s.valid && (!best->valid || s.hdr.seq > best->hdr.seq))
			*best = s;
		if (cur.read < tail)
			return 0;
	}
}

/* ---- replay ----------------------------------------------------------- */

struct replay {
	struct vhdx_view *v;
	struct log *l;
	uint64_t file_len;
	int refused;             /* why cordon refused a write, for the message */
};

/* Writes cordon refuses where qemu would make them (vhdx_log_replay says
 * which in its message). */
enum { REFUSE_NONE, REFUSE_TOO_MANY, REFUSE_INTO_LOG };

static int add_write(struct replay *r, uint64_t off, uint64_t len, uint64_t src,
		     const struct desc *d)
{
	struct vhdx_view *v = r->v;
	uint64_t end;
	if (ADD_OVERFLOW(off, len, &end) || end > QEMU_MAX_LENGTH)
		return -CD_EIO; /* where qemu's own write would fail */
	if (off < v->log_off + v->log_len && end > v->log_off) {
		r->refused = REFUSE_INTO_LOG;
		return -CD_EINVAL;
	}
	if (v->n_w == VHDX_REPLAY_WRITES_MAX) {
		r->refused = REFUSE_TOO_MANY;
		return -CD_EFBIG;
	}
	struct vhdx_write *w = &v->w[v->n_w++];
	*w = (struct vhdx_write){ .off = off, .len = len, .src = src };
	if (src != UINT64_MAX) {
		store_le64(w->lead, d->leading_or_zero_len);
		store_le32(w->trail, d->trailing);
	}
	if (end > r->file_len)
		r->file_len = end; /* qemu's writes grow the file */
	return 0;
}

/* qemu's vhdx_log_flush_desc, in memory. */
static int apply(void *arg, const struct desc *d, uint32_t index)
{
	(void)index;
	struct replay *r = arg;
	if (d->signature == ZERO_SIGNATURE)
		return d->leading_or_zero_len == 0
			       ? 0 : add_write(r, d->file_offset, d->leading_or_zero_len,
					       UINT64_MAX, d);
	/* a data descriptor: its sector is the next one in the log */
	if (r->l->read == r->l->write)
		return -CD_EINVAL;
	uint64_t src = r->l->offset + r->l->read;
	uint8_t head[8], tail[4];
	int ret = log_read(r->v, src, head, 8);
	if (ret == 0)
		ret = log_read(r->v, src + VHDX_LOG_SECTOR - 4, tail, 4);
	if (ret < 0)
		return ret;
	r->l->read = inc_idx(r->l->read, r->l->length);
	/* qemu checks the sequence number the sector carries, not its
	 * "data" signature */
	uint64_t seq = (uint64_t)load_le32(head + 4) << 32 | load_le32(tail);
	if (seq != d->seq)
		return -CD_EINVAL;
	return add_write(r, d->file_offset, VHDX_LOG_SECTOR, src, d);
}

/* 0, or -errno with *refused saying whether cordon refused a write. */
static int replay(struct vhdx_view *v, struct sequence *s, const uint8_t guid[16],
		  int *refused)
{
	struct replay r = { .v = v, .l = &s->log, .file_len = v->len };
	for (uint32_t i = 0; i < s->count; i++) {
		struct entry_hdr h;
		bool sig_ok;
		int ret = peek_hdr(v, &s->log, &h, &sig_ok);
		if (ret < 0)
			return ret;
		if (h.flushed_file_offset > r.file_len)
			return -CD_EINVAL; /* the file was truncated */
		/* First every descriptor is checked (qemu reads them all before
		 * flushing one), then they are applied. */
		struct log start = s->log;
		uint32_t crc = 0;
		if ((ret = read_desc(v, &s->log, guid, &h, &crc, NULL, NULL)) < 0)
			return ret;
		/* the data sectors follow the descriptor sectors */
		struct log data = s->log;
		r.l = &data;
		struct log walk = start;
		ret = read_desc(v, &walk, guid, &h, &crc, apply, &r);
		*refused = r.refused;
		if (ret < 0)
			return ret;
		s->log = data;
		if (r.file_len < h.last_file_offset) {
			uint64_t grown = h.last_file_offset;
			if (grown % VHDX_MiB) {
				grown = (grown + VHDX_MiB - 1) & ~(uint64_t)(VHDX_MiB - 1);
				if (grown > (uint64_t)INT64_MAX)
					return -CD_EINVAL;
				r.file_len = grown;
			}
		}
	}
	v->len = r.file_len;
	return 0;
}

int vhdx_log_replay(struct vhdx_view *v, const struct vhdx_header *h, const char *name)
{
	struct core_ctx *ctx = v->ctx;
	static const uint8_t zero_guid[16];
	v->log_off = h->log_offset;
	v->log_len = h->log_length;
	if (h->log_offset < VHDX_MiB || h->log_offset % VHDX_MiB || h->log_version != 0)
		return core_fail(ctx, -CD_EINVAL, "Could not open '%s': %s", name,
				 cd_strerror(CD_EINVAL));
	if (memcmp(h->log_guid, zero_guid, 16) == 0 || h->log_length == 0)
		return 0; /* no log to replay */
	if (h->log_length % VHDX_MiB)
		return core_fail(ctx, -CD_EINVAL, "Could not open '%s': %s", name,
				 cd_strerror(CD_EINVAL));
	v->window = core_alloc(ctx, VHDX_LOG_WINDOW, 64);
	v->sector = core_alloc(ctx, VHDX_LOG_SECTOR, 64);
	v->w = core_alloc(ctx, VHDX_REPLAY_WRITES_MAX * sizeof(*v->w), 8);
	if (!v->window || !v->sector || !v->w)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	v->window_off = UINT64_MAX;
	struct log whole = { .offset = h->log_offset, .length = h->log_length };
	struct sequence s;
	int refused = REFUSE_NONE;
	int ret = search(v, &whole, h->log_guid, &s);
	if (ret == 0 && s.valid)
		ret = replay(v, &s, h->log_guid, &refused);
	if (ret < 0 && refused == REFUSE_TOO_MANY)
		return core_fail(ctx, ret, "Could not open '%s': its log writes more than "
				 "%u sectors: too many for cordon to replay in memory", name,
				 VHDX_REPLAY_WRITES_MAX);
	if (ret < 0 && refused == REFUSE_INTO_LOG)
		return core_fail(ctx, ret, "Could not open '%s': its log writes into the "
				 "log itself: cordon refuses to replay it", name);
	if (ret < 0)
		return core_fail(ctx, ret, "Could not open '%s': %s", name, cd_strerror(ret));
	return 0;
}
