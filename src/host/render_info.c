/* qemu-img info's human text (see render_info.h). */
#include "render_info.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "qdict_order.h"
#include "render_human.h"

void render_size(char *buf, size_t len, uint64_t v)
{
	static const char *const suffixes[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	int e;
	/* The exponent minus one is floor(log2(v * 1024 / 1000)): a power is
	 * taken once the integer part reaches 1000. */
	frexp((double)v / (1000.0 / 1024.0), &e);
	int i = (e - 1) / 10;
	if (i < 0)
		i = 0;
	if (i > 6)
		i = 6;
	uint64_t div = 1ull << (i * 10);
	snprintf(buf, len, "%0.3g %sB", (double)v / (double)div, suffixes[i]);
}

/* The members of one object, found by key. */
struct members {
	const struct result_store *r;
	size_t pos; /* the object's BEGIN */
};

static bool find(const struct members *m, const char *key, struct result_rec *out,
		 size_t *at)
{
	struct result_rec rec;
	size_t pos = m->pos;
	result_store_next(m->r, &pos, &rec); /* the BEGIN */
	size_t klen = strlen(key);
	for (;;) {
		size_t here = pos;
		if (!result_store_next(m->r, &here, &rec) || rec.type == HC_REC_END_OBJECT ||
		    rec.type == HC_REC_END_ARRAY)
			return false;
		if (rec.key && rec.key_len == klen && memcmp(rec.key, key, klen) == 0) {
			*out = rec;
			if (at)
				*at = pos;
			return true;
		}
		pos = result_skip_value(m->r, pos);
	}
}

static void text(FILE *f, const struct result_rec *rec)
{
	if (rec->type == HC_REC_STRING)
		render_human_text(f, (const char *)rec->value, rec->value_len);
}

static bool get_int(const struct members *m, const char *key, int64_t *v)
{
	struct result_rec rec;
	if (!find(m, key, &rec, NULL) || (rec.type != HC_REC_INT && rec.type != HC_REC_UINT &&
					   rec.type != HC_REC_BOOL))
		return false;
	*v = rec.i;
	return true;
}

static bool same_text(const struct result_rec *a, const struct result_rec *b)
{
	return a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0;
}

/* qemu's bdrv_snapshot_dump(): the header (sn NULL) or one row. */
static void snapshot_header(FILE *f)
{
	fprintf(f, "%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
		"ICOUNT");
}

/* A string member as printf's %-Ns would pad it: by bytes. */
static void padded(FILE *f, const struct members *m, const char *key, int width)
{
	struct result_rec rec;
	size_t n = 0;
	if (find(m, key, &rec, NULL) && rec.type == HC_REC_STRING) {
		text(f, &rec);
		n = rec.value_len;
	}
	for (; n < (size_t)width; n++)
		fputc(' ', f);
}

static void snapshot_row(FILE *f, const struct members *m)
{
	int64_t vm_state = 0, date_sec = 0, clock_sec = 0, clock_nsec = 0, icount = 0;
	get_int(m, "vm-state-size", &vm_state);
	get_int(m, "date-sec", &date_sec);
	get_int(m, "vm-clock-sec", &clock_sec);
	get_int(m, "vm-clock-nsec", &clock_nsec);
	bool has_icount = get_int(m, "icount", &icount);
	/* qemu rebuilds vm_clock_nsec from the two fields, in uint64_t */
	uint64_t clock = (uint64_t)clock_sec * 1000000000ull + (uint64_t)clock_nsec;
	int64_t secs = (int64_t)(clock / 1000000000u);
	char clock_buf[128], size_buf[64], date_buf[64] = "", icount_buf[32] = "";
	snprintf(clock_buf, sizeof(clock_buf), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
		 (int)((secs / 60) % 60), (int)(secs % 60), (int)((clock / 1000000) % 1000));
	render_size(size_buf, sizeof(size_buf), (uint64_t)vm_state);
	time_t t = (time_t)date_sec;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(date_buf, sizeof(date_buf), "%Y-%m-%d %H:%M:%S", &tm);
	if (has_icount)
		snprintf(icount_buf, sizeof(icount_buf), "%" PRId64, icount);
	padded(f, m, "id", 9);
	fputc(' ', f);
	padded(f, m, "name", 16);
	fprintf(f, " %8s%20s%13s%11s", size_buf, date_buf, clock_buf, icount_buf);
}

static void snapshots(FILE *f, const struct result_store *r, size_t pos)
{
	struct result_rec rec;
	fputs("Snapshot list:\n", f);
	snapshot_header(f);
	fputc('\n', f);
	result_store_next(r, &pos, &rec); /* the array's BEGIN */
	for (;;) {
		size_t here = pos;
		if (!result_store_next(r, &here, &rec) || rec.type != HC_REC_BEGIN_OBJECT)
			break;
		struct members m = { r, pos };
		snapshot_row(f, &m);
		fputc('\n', f);
		pos = result_skip_value(r, pos);
	}
}

static void one_image(FILE *f, const struct result_store *r, size_t pos)
{
	struct members m = { r, pos };
	struct result_rec rec, full;
	int64_t vsize = 0, actual = 0, v = 0;
	char size_buf[64], dsize_buf[64] = "unavailable";
	get_int(&m, "virtual-size", &vsize);
	render_size(size_buf, sizeof(size_buf), (uint64_t)vsize);
	if (get_int(&m, "actual-size", &actual))
		render_size(dsize_buf, sizeof(dsize_buf), (uint64_t)actual);
	fputs("image: ", f);
	if (find(&m, "filename", &rec, NULL))
		text(f, &rec);
	fputs("\nfile format: ", f);
	if (find(&m, "format", &rec, NULL))
		text(f, &rec);
	fprintf(f, "\nvirtual size: %s (%" PRId64 " bytes)\ndisk size: %s\n", size_buf, vsize,
		dsize_buf);
	if (get_int(&m, "encrypted", &v) && v)
		fputs("encrypted: yes\n", f);
	if (get_int(&m, "cluster-size", &v))
		fprintf(f, "cluster_size: %" PRId64 "\n", v);
	if (get_int(&m, "dirty-flag", &v) && v)
		fputs("cleanly shut down: no\n", f);
	if (find(&m, "backing-filename", &rec, NULL)) {
		fputs("backing file: ", f);
		text(f, &rec);
		if (!find(&m, "full-backing-filename", &full, NULL)) {
			fputs(" (cannot determine actual path)", f);
		} else if (!same_text(&rec, &full)) {
			fputs(" (actual path: ", f);
			text(f, &full);
			fputc(')', f);
		}
		fputc('\n', f);
		if (find(&m, "backing-filename-format", &rec, NULL)) {
			fputs("backing file format: ", f);
			text(f, &rec);
			fputc('\n', f);
		}
	}
	size_t at;
	if (find(&m, "snapshots", &rec, &at) && rec.type == HC_REC_BEGIN_ARRAY)
		snapshots(f, r, at);
	if (find(&m, "format-specific", &rec, &at) && rec.type == HC_REC_BEGIN_OBJECT) {
		struct members spec = { r, at };
		if (find(&spec, "data", &rec, &at) && rec.type == HC_REC_BEGIN_OBJECT) {
			fputs("Format specific information:\n", f);
			render_human_tree(f, r, &at, 1);
		}
	}
}

void render_info_human(FILE *f, const struct result_store *r)
{
	struct result_rec rec;
	size_t pos = 0, at = 0;
	if (!result_store_next(r, &at, &rec))
		return;
	if (rec.type == HC_REC_BEGIN_OBJECT) {
		one_image(f, r, pos);
		return;
	}
	if (rec.type != HC_REC_BEGIN_ARRAY)
		return;
	for (int i = 0;; i++) {
		size_t here = at;
		if (!result_store_next(r, &here, &rec) || rec.type != HC_REC_BEGIN_OBJECT)
			break;
		if (i > 0)
			fputc('\n', f);
		one_image(f, r, at);
		at = result_skip_value(r, at);
	}
}
