/*
 * The qcow2 writer against in-memory devices.  Every image it writes is
 * decoded here by a minimal reader written from the qcow2 spec, independent
 * of src/core (header fields, L1/L2 walk, refcounts), and compared with the
 * expected virtual disk, which is described as spans of pattern bytes over
 * zeros so that sizes of hundreds of GiB stay cheap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/core.h"
#include "../../src/core/format.h"
#include "../../src/core/qcow2/qcow2_writer_priv.h"
#include "../../src/host/output_cap.h"
#include "memdev.h"
#include "test_job.h"

#define CS 65536ull
#define GiB (1ull << 30)
#define MiB (1ull << 20)

/* A run of the virtual disk that is written (not zero()ed).  zero: its
 * bytes are zeros, passed through write() all the same. */
struct span {
	uint64_t off, len;
	int zero;
};

struct disk {
	uint64_t size;
	const struct span *spans; /* sorted, not overlapping */
	size_t n;
};

static uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)((off * 131u) ^ (off >> 9) ^ 0x5a);
}

/* Expected bytes [off, off+len) of the virtual disk. */
static void expected(const struct disk *d, uint64_t off, uint8_t *buf, uint64_t len)
{
	memset(buf, 0, len);
	for (size_t i = 0; i < d->n; i++) {
		const struct span *s = &d->spans[i];
		uint64_t a = s->off > off ? s->off : off;
		uint64_t b = s->off + s->len < off + len ? s->off + s->len : off + len;
		for (uint64_t o = a; !s->zero && o < b; o++)
			buf[o - off] = pattern_byte(o);
	}
}

/* ---- an independent minimal qcow2 reader --------------------------------- */

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

struct img {
	const uint8_t *p;
	uint64_t len, nclusters;
	uint8_t *use; /* references per host cluster */
};

static void mark(struct img *im, uint64_t off, uint64_t clusters)
{
	assert_int_equal(off % CS, 0);
	for (uint64_t c = off / CS; c < off / CS + clusters; c++) {
		if (c >= im->nclusters)
			fail_msg("cluster %llu past end of file", (unsigned long long)c);
		if (++im->use[c] != 1)
			fail_msg("cluster %llu used twice", (unsigned long long)c);
	}
}

static void check_header(const uint8_t *h, uint64_t vsize)
{
	assert_int_equal(be(h, 4), 0x514649fb);
	assert_int_equal(be(h + 4, 4), 3);
	assert_int_equal(be(h + 8, 8), 0);  /* no backing file */
	assert_int_equal(be(h + 20, 4), 16);
	assert_int_equal(be(h + 24, 8), vsize);
	assert_int_equal(be(h + 32, 4), 0); /* no encryption */
	assert_int_equal(be(h + 36, 4), (vsize + 512 * MiB - 1) / (512 * MiB));
	assert_int_equal(be(h + 60, 4), 0); /* no snapshots */
	assert_int_equal(be(h + 64, 8), 0);
	assert_int_equal(be(h + 72, 8), 0); /* incompatible, compatible, */
	assert_int_equal(be(h + 80, 8), 0); /* autoclear features */
	assert_int_equal(be(h + 88, 8), 0);
	assert_int_equal(be(h + 96, 4), 4); /* 16-bit refcounts */
	assert_int_equal(be(h + 100, 4), 112);
	assert_int_equal(h[104], 0);        /* zlib */
	uint64_t at = 112;
	int saw_features = 0;
	for (;;) { /* header extensions up to the end marker */
		assert_true(at + 8 <= CS);
		uint32_t type = (uint32_t)be(h + at, 4), len = (uint32_t)be(h + at + 4, 4);
		if (type == 0)
			break;
		saw_features |= type == 0x6803f857 && len == 8 * 48;
		at += 8 + (len + 7) / 8 * 8;
	}
	assert_true(saw_features);
}

static void check_data(const struct img *im, const struct disk *d, uint64_t vc,
		       uint64_t host, uint8_t *want)
{
	uint64_t off = vc * CS, n = d->size - off < CS ? d->size - off : CS;
	expected(d, off, want, CS);
	for (uint64_t i = n; i < CS; i++)
		assert_int_equal(want[i], 0);
	int nonzero = 0;
	for (uint64_t i = 0; i < CS; i++)
		nonzero |= want[i];
	if (!nonzero)
		fail_msg("zero cluster %llu was allocated", (unsigned long long)vc);
	if (memcmp(im->p + host, want, CS) != 0)
		fail_msg("cluster %llu differs", (unsigned long long)vc);
}

/* Walks L1 and L2; returns the number of allocated data clusters. */
static uint64_t walk_tables(struct img *im, const struct disk *d, uint8_t *buf)
{
	const uint8_t *h = im->p;
	uint64_t l1_size = be(h + 36, 4), l1_off = be(h + 40, 8), data = 0;
	assert_true(l1_size ? l1_off != 0 : l1_off == 0);
	mark(im, l1_off, (l1_size * 8 + CS - 1) / CS);
	for (uint64_t i = 0; i < l1_size; i++) {
		uint64_t e = be(im->p + l1_off + i * 8, 8), l2 = e & 0x00fffffffffffe00ull;
		assert_int_equal(e & 0x7f000000000001ffull, 0); /* reserved bits */
		if (!l2) {
			assert_int_equal(e, 0);
			continue;
		}
		assert_true(e >> 63); /* COPIED: refcount 1 */
		mark(im, l2, 1);
		for (uint64_t j = 0; j < CS / 8; j++) {
			uint64_t f = be(im->p + l2 + j * 8, 8), host = f & 0x00fffffffffffe00ull;
			assert_int_equal(f & 0x7f000000000001ffull, 0); /* not compressed, no zero flag */
			if (!host) {
				assert_int_equal(f, 0);
				continue;
			}
			assert_true(f >> 63);
			uint64_t vc = i * (CS / 8) + j;
			assert_true(vc * CS < d->size);
			mark(im, host, 1);
			check_data(im, d, vc, host, buf);
			data++;
		}
	}
	return data;
}

static void check_refcounts(struct img *im)
{
	const uint8_t *h = im->p;
	uint64_t rt_off = be(h + 48, 8), rt_clusters = be(h + 56, 4);
	assert_true(rt_clusters >= 1);
	mark(im, rt_off, rt_clusters);
	uint64_t covered = 0;
	for (uint64_t i = 0; i < rt_clusters * CS / 8; i++) {
		uint64_t b = be(im->p + rt_off + i * 8, 8);
		if (!b)
			continue;
		mark(im, b, 1);
		for (uint64_t j = 0; j < CS / 2; j++) {
			uint64_t c = i * (CS / 2) + j, ref = be(im->p + b + j * 2, 2);
			if (ref != (c < im->nclusters ? im->use[c] : 0))
				fail_msg("cluster %llu: refcount %llu", (unsigned long long)c,
					 (unsigned long long)ref);
			covered = c + 1;
		}
	}
	assert_true(covered >= im->nclusters);
	for (uint64_t c = 0; c < im->nclusters; c++) /* no leaks */
		if (im->use[c] != 1)
			fail_msg("cluster %llu unused", (unsigned long long)c);
}

/* Number of clusters of the disk that are not all zeros. */
static uint64_t nonzero_clusters(const struct disk *d, uint8_t *buf)
{
	uint64_t n = 0, last = UINT64_MAX;
	for (size_t i = 0; i < d->n; i++) {
		const struct span *s = &d->spans[i];
		for (uint64_t c = s->off / CS; !s->zero && s->len && c <= (s->off + s->len - 1) / CS; c++) {
			if (c == last)
				continue;
			last = c;
			expected(d, c * CS, buf, CS);
			for (uint64_t k = 0; k < CS; k++)
				if (buf[k]) {
					n++;
					break;
				}
		}
	}
	return n;
}

static void check_image(const uint8_t *p, uint64_t len, const struct disk *d)
{
	assert_true(len >= CS && len % CS == 0);
	struct img im = { .p = p, .len = len, .nclusters = len / CS };
	im.use = calloc(im.nclusters, 1);
	uint8_t *buf = malloc(CS);
	check_header(p, d->size);
	mark(&im, 0, 1);
	uint64_t data = walk_tables(&im, d, buf);
	check_refcounts(&im);
	assert_int_equal(data, nonzero_clusters(d, buf));
	free(buf);
	free(im.use);
}

/* ---- driving the writer directly ------------------------------------------ */

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

/* What dd asks of a writer (writer_open would set w->sparse from it). */
static const struct writer_opts dd_opts = { .min_sparse = 512 };

/* piece: bytes per call, or 0 for random pieces. */
static int drive(struct image_writer *w, const struct disk *d, uint64_t piece)
{
	uint64_t pos = 0, max = 3 * CS;
	uint8_t *buf = malloc(max);
	int ret = w->ops->create(w, &dd_opts);
	for (size_t i = 0; ret == 0 && i <= d->n; i++) {
		uint64_t next = i < d->n ? d->spans[i].off : d->size;
		if (next > pos)
			ret = w->ops->zero(w, pos, next - pos);
		pos = next;
		uint64_t end = i < d->n ? next + d->spans[i].len : pos;
		while (ret == 0 && pos < end) {
			uint64_t n = piece ? piece : 1 + rng() % (rng() % 2 ? 700 : max);
			if (n > end - pos)
				n = end - pos;
			if (n > max)
				n = max;
			expected(d, pos, buf, n);
			ret = w->ops->write(w, pos, buf, n);
			pos += n;
		}
	}
	if (ret == 0)
		ret = w->ops->finish(w);
	free(buf);
	return ret;
}

static void write_and_check(const struct disk *d, uint64_t piece, bool zeroed)
{
	struct memdevs m;
	memdevs_init(&m);
	m.mem_cap = QW_BATCH_BYTES + 3 * CS; /* the writer's whole budget */
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	struct image_writer w = { .ops = &qcow2_writer_ops, .ctx = &ctx,
				  .dev = TEST_OUT, .size = d->size,
				  .zeroed = zeroed, .sparse = true };
	if (!zeroed) { /* a device full of old bytes: all must be overwritten */
		m.dev[0].data = malloc(8 * MiB);
		memset(m.dev[0].data, 0xa5, 8 * MiB);
		m.dev[0].size = 8 * MiB;
	}
	assert_int_equal(drive(&w, d, piece), 0);
	assert_int_equal(m.violations, 0);
	assert_int_equal(m.mem_used, 0);
	check_image(m.dev[0].data, m.dev[0].size, d);
	/* The host's cap for this virtual size is never too small. */
	assert_true(m.dev[0].size <= output_cap("qcow2", d->size));
	if (zeroed) /* every byte is written at most once */
		assert_true(m.written <= m.dev[0].size);
	memdevs_free(&m);
}

#define DISK(sz, ...) (&(struct disk){ .size = (sz), \
	.spans = (const struct span[]){ __VA_ARGS__ }, \
	.n = sizeof((const struct span[]){ __VA_ARGS__ }) / sizeof(struct span) })
#define EMPTY(sz) (&(struct disk){ .size = (sz) })

static void small_shapes(void **state)
{
	(void)state;
	const uint64_t pieces[] = { 0, 1 * CS, 777, 4096, 4 * MiB };
	const struct disk *disks[] = {
		EMPTY(0),
		EMPTY(512),
		EMPTY(3 * MiB),
		DISK(512, { 0, 1, 0 }),
		DISK(512, { 0, 512, 0 }),
		DISK(CS - 512, { 0, CS - 512, 0 }),
		DISK(CS, { 0, CS, 0 }),
		DISK(CS + 512, { 0, CS + 512, 0 }),
		DISK(3 * MiB + 512, { 5, 70000, 0 }, { 3 * CS + 1, 2 * CS, 1 },
		     { 6 * CS - 3, 7, 0 }, { 2 * MiB, MiB + 512, 0 }),
		DISK(2 * MiB, { 0, 2 * MiB, 1 }),             /* written zeros */
		DISK(2 * MiB, { CS - 1, 2, 0 }, { MiB, CS, 1 }), /* data straddles */
	};
	for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++)
		for (size_t j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++) {
			rng_state = i * 100 + j;
			write_and_check(disks[i], pieces[j], true);
		}
}

static void large_sparse_sizes(void **state)
{
	(void)state;
	/* Data at both ends, across L2 ranges (512 MiB), up to 300 GiB. */
	write_and_check(DISK(GiB, { 0, 100000, 0 }, { GiB - 70000, 70000, 0 }), 0, true);
	write_and_check(DISK(5 * GiB, { 512 * MiB - 100, 200, 0 },
			     { 4 * GiB + 3, CS, 0 }, { 5 * GiB - 512, 512, 0 }), 777, true);
	write_and_check(DISK(300 * GiB, { 0, 512, 0 }, { 7 * GiB, 3 * CS, 0 },
			     { 299 * GiB, CS + 5, 0 }, { 300 * GiB - 1, 1, 0 }), 0, true);
	write_and_check(EMPTY(300 * GiB), 0, true);
	/* Past 4 TiB the L1 table needs more than one cluster. */
	write_and_check(DISK(10000 * GiB, { 0, 512, 0 }, { 4096 * GiB + CS, 512, 0 },
			     { 10000 * GiB - CS, CS, 0 }), 0, true);
}

static void device_not_zeroed(void **state)
{
	(void)state;
	write_and_check(DISK(3 * MiB + 512, { 5, 70000, 0 }, { 2 * MiB, MiB + 512, 0 }), 0, false);
	write_and_check(DISK(5 * GiB, { 0, 1, 0 }, { 4 * GiB, CS, 0 }), 777, false);
	write_and_check(EMPTY(0), 0, false);
}

static void random_shapes(void **state)
{
	(void)state;
	for (int round = 0; round < 40; round++) {
		rng_state = 1000 + (uint64_t)round;
		struct span spans[12];
		size_t n = 0;
		uint64_t pos = rng() % (2 * CS);
		while (n < 12 && rng() % 8) {
			uint64_t len = 1 + rng() % (rng() % 2 ? 3 * CS : 2000);
			spans[n++] = (struct span){ pos, len, (int)(rng() % 5 == 0) };
			pos += len + rng() % (rng() % 2 ? 3 * CS : 100);
		}
		uint64_t size = (pos + 511) / 512 * 512;
		struct disk d = { .size = size, .spans = spans, .n = n };
		write_and_check(&d, rng() % 3 ? 0 : 1 + rng() % 5000, true);
	}
}

/* Any split into pieces gives the same bytes as one write per span. */
static void pieces_do_not_change_the_image(void **state)
{
	(void)state;
	const struct disk *d = DISK(9 * MiB, { 100, 3 * MiB, 0 }, { 4 * MiB, 7, 1 },
				    { 5 * MiB - 3, 3 * MiB, 0 });
	uint8_t *first = NULL;
	uint64_t first_len = 0;
	for (uint64_t piece = 0; piece < 6; piece++) {
		struct memdevs m;
		memdevs_init(&m);
		struct core_ctx ctx;
		core_ctx_init(&ctx, &m.env);
		struct image_writer w = { .ops = &qcow2_writer_ops, .ctx = &ctx,
					  .size = d->size, .zeroed = true };
		rng_state = piece;
		assert_int_equal(drive(&w, d, piece == 5 ? 16 * MiB : piece * 1111), 0);
		if (!first) {
			first_len = m.dev[0].size;
			first = malloc(first_len);
			memcpy(first, m.dev[0].data, first_len);
		} else {
			assert_int_equal(m.dev[0].size, first_len);
			assert_memory_equal(m.dev[0].data, first, first_len);
		}
		memdevs_free(&m);
	}
	free(first);
}

static void contract_and_memory_errors(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	uint8_t buf[1024] = { 1 };
	struct image_writer w = { .ops = &qcow2_writer_ops, .ctx = &ctx,
				  .size = 4 * CS, .zeroed = true, .sparse = true };
	assert_int_equal(w.ops->create(&w, &dd_opts), 0);
	assert_int_equal(w.ops->write(&w, 1000, buf, 1000), 0);
	/* Backwards: refused, and the writer is released. */
	assert_int_equal(w.ops->write(&w, 1500, buf, 10), -CD_EINVAL);
	assert_int_equal(m.mem_used, 0);
	assert_int_equal(w.ops->finish(&w), -CD_EINVAL);

	/* Each create below is a new output as far as the host is concerned. */
	m.dev[0].created = false;
	assert_int_equal(w.ops->create(&w, &dd_opts), 0);
	assert_int_equal(w.ops->zero(&w, 0, 4 * CS - 10), 0);
	assert_int_equal(w.ops->write(&w, 4 * CS - 10, buf, 11), -CD_EINVAL); /* past end */
	assert_int_equal(m.mem_used, 0);

	m.mem_cap = QW_BATCH_BYTES; /* not enough for the tables too */
	assert_int_equal(w.ops->create(&w, &dd_opts), -CD_ENOMEM);
	assert_int_equal(m.mem_used, 0);
	m.mem_cap = 0;

	/* Past qemu's largest L1 table (2 PiB with 64 KiB clusters). */
	w.size = (1ull << 51) + 512;
	assert_int_equal(w.ops->create(&w, &dd_opts), -CD_EFBIG);
	assert_int_equal(m.mem_used, 0);
	w.size = 1ull << 51;
	m.dev[0].created = false;
	assert_int_equal(w.ops->create(&w, &dd_opts), 0);
	assert_int_equal(w.ops->finish(&w), 0);
	assert_int_equal(m.mem_used, 0);
	assert_int_equal(m.violations, 0);
	memdevs_free(&m);
}

static void refcount_sizes(void **state)
{
	(void)state;
	const uint64_t used[] = { 1, 2, 32766, 32767, 32768, 65534, 65535,
				  8192ull * 32768 - 2, 8192ull * 32768, 1ull << 40 };
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		struct qw_refs r;
		assert_int_equal(qw_solve_refs(used[i], &r), 0);
		assert_int_equal(r.table_start, used[i]);
		assert_int_equal(r.total, used[i] + r.table_n + r.blocks_n);
		/* covers everything, and one block less would not */
		assert_true(r.blocks_n * 32768 >= r.total);
		assert_true((r.blocks_n - 1) * 32768 < r.total);
		assert_true(r.table_n * 8192 >= r.blocks_n);
		assert_true((r.table_n - 1) * 8192 < r.blocks_n);
	}
	struct qw_refs r;
	assert_int_equal(qw_solve_refs(1ull << 47, &r), -CD_EFBIG);
	assert_int_equal(qw_solve_refs(UINT64_MAX - 2, &r), -CD_EFBIG);
}

/* The host caps a qcow2 output at output_cap(); the largest file the writer
 * can make for a virtual size -- every cluster allocated, one L2 table per
 * L1 entry, refcounts for all of it -- must stay under that cap. */
static void host_cap_covers_the_largest_file(void **state)
{
	(void)state;
	const uint64_t sizes[] = { 0, 1, 512, CS, CS + 1, QW_L2_SPAN, QW_L2_SPAN + 1,
				   3ull << 30, 300ull << 30, 1ull << 40, 1ull << 48,
				   1ull << 51 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = sizes[i];
		uint64_t l1 = (v + QW_L2_SPAN - 1) / QW_L2_SPAN;
		uint64_t l1c = (l1 + QW_ENTRIES_PER_CLUSTER - 1) / QW_ENTRIES_PER_CLUSTER;
		uint64_t used = 1 + l1c + (v + CS - 1) / CS + l1;
		struct qw_refs r;
		assert_int_equal(qw_solve_refs(used, &r), 0);
		if (r.total * CS > output_cap("qcow2", v))
			fail_msg("virtual %llu: file up to %llu, cap %llu", (unsigned long long)v,
				 (unsigned long long)(r.total * CS),
				 (unsigned long long)output_cap("qcow2", v));
	}
	assert_int_equal(output_cap("raw", 12345), 12345);
}

/* ---- through dd --------------------------------------------------------- */

static void dd_case(uint64_t in_len, uint64_t hole_off, uint64_t hole_len,
		    uint64_t bs, int have_count, uint64_t count, uint64_t skip)
{
	struct memdevs m;
	memdevs_init(&m);
	uint64_t start = skip * bs, end = have_count && count * bs < in_len ? count * bs : in_len;
	end = end > (in_len + 511) / 512 * 512 ? (in_len + 511) / 512 * 512 : end;
	if (!have_count)
		end = (in_len + 511) / 512 * 512;
	uint8_t *in = malloc(in_len ? in_len : 1);
	for (uint64_t i = 0; i < in_len; i++)
		in[i] = i >= start ? pattern_byte(i - start) : 0x77;
	memset(in + hole_off, 0, hole_len);
	uint32_t dev = memdevs_add_input(&m, in, in_len);
	memdevs_punch(&m, dev, hole_off, hole_len);

	struct cordon_job job = test_dd_job("qcow2", bs, have_count, count, skip != 0, skip);
	assert_int_equal(core_run(&m.env, &job), 0);

	/* The window's data, with the hole as a zero span cut out of it. */
	uint64_t data_end = (end < in_len ? end : in_len) - start;
	uint64_t h0 = hole_off - start, h1 = h0 + hole_len;
	struct span spans[2] = { { 0, h0, 0 }, { h1, data_end - h1, 0 } };
	struct disk d = { .size = (end - start + 511) / 512 * 512, .spans = spans, .n = 2 };
	check_image(m.dev[0].data, m.dev[0].size, &d);
	assert_int_equal(m.violations, 0);
	assert_int_equal(m.mem_used, 0);
	assert_int_equal(m.copied, 0); /* everything passed through the writer */
	free(in);
	memdevs_free(&m);
}

static void dd_windows(void **state)
{
	(void)state;
	dd_case(3 * MiB + 100, MiB, MiB, 512, 0, 0, 0);
	dd_case(3 * MiB + 100, MiB, MiB, 777, 1, 3000, 1000);
	dd_case(3 * MiB, 2 * MiB - 4096, 8192, 65536, 1, 40, 10);
	dd_case(300000, 65536, 4096, 1, 1, 299999, 65000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_shapes),
		cmocka_unit_test(large_sparse_sizes),
		cmocka_unit_test(device_not_zeroed),
		cmocka_unit_test(random_shapes),
		cmocka_unit_test(pieces_do_not_change_the_image),
		cmocka_unit_test(contract_and_memory_errors),
		cmocka_unit_test(refcount_sizes),
		cmocka_unit_test(host_cap_covers_the_largest_file),
		cmocka_unit_test(dd_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
