/*
 * Results and progress end to end: core's encoder (src/core/result.c) sends
 * records through memdev, which keeps them with the host's own checks
 * (src/host/result_store.c); render_json.c must then print what qemu-img
 * 7.2 prints byte for byte (the expected texts below are qemu-img info
 * --output=json outputs captured from qemu-img itself).  Malformed records
 * are refused whole; progress lines follow qemu's rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/result.h"
#include "../../src/host/progress.h"
#include "../../src/host/render_human.h"
#include "../../src/host/render_json.h"
#include "memdev.h"

struct fx {
	struct memdevs m;
	struct core_ctx ctx;
	struct result_out r;
};

static void fx_init(struct fx *f)
{
	memdevs_init(&f->m);
	core_ctx_init(&f->ctx, &f->m.env);
	assert_int_equal(result_init(&f->r, &f->ctx), 0);
}

static void fx_free(struct fx *f)
{
	assert_int_equal(f->m.mem_used, 0);
	assert_int_equal(f->m.violations, 0);
	memdevs_free(&f->m);
}

/* The store's JSON, as a string the caller frees. */
static char *json_of(const struct result_store *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	render_json(f, s);
	fclose(f);
	return text;
}

/* qemu-img info --output=json of a qcow2 with a snapshot and a bitmap. */
static const char qemu_info_json[] =
	"{\n"
	"    \"snapshots\": [\n"
	"        {\n"
	"            \"icount\": 0,\n"
	"            \"vm-clock-nsec\": 0,\n"
	"            \"name\": \"snap1\",\n"
	"            \"date-sec\": 1796162298,\n"
	"            \"date-nsec\": 774688000,\n"
	"            \"vm-clock-sec\": 0,\n"
	"            \"id\": \"1\",\n"
	"            \"vm-state-size\": 0\n"
	"        }\n"
	"    ],\n"
	"    \"virtual-size\": 1048576,\n"
	"    \"filename\": \"j.qcow2\",\n"
	"    \"cluster-size\": 65536,\n"
	"    \"format\": \"qcow2\",\n"
	"    \"actual-size\": 221184,\n"
	"    \"format-specific\": {\n"
	"        \"type\": \"qcow2\",\n"
	"        \"data\": {\n"
	"            \"compat\": \"1.1\",\n"
	"            \"compression-type\": \"zlib\",\n"
	"            \"lazy-refcounts\": false,\n"
	"            \"bitmaps\": [\n"
	"                {\n"
	"                    \"flags\": [\n"
	"                        \"auto\"\n"
	"                    ],\n"
	"                    \"name\": \"bm0\",\n"
	"                    \"granularity\": 65536\n"
	"                }\n"
	"            ],\n"
	"            \"refcount-bits\": 16,\n"
	"            \"corrupt\": false,\n"
	"            \"extended-l2\": false\n"
	"        }\n"
	"    },\n"
	"    \"dirty-flag\": false\n"
	"}\n";

/* The records of qemu_info_json, as a command would send them. */
static void send_info(struct result_out *r)
{
	result_begin_object(r, NULL);
	result_begin_array(r, "snapshots");
	result_begin_object(r, NULL);
	result_uint(r, "icount", 0);
	result_uint(r, "vm-clock-nsec", 0);
	result_string(r, "name", "snap1");
	result_int(r, "date-sec", 1796162298);
	result_int(r, "date-nsec", 774688000);
	result_uint(r, "vm-clock-sec", 0);
	result_string(r, "id", "1");
	result_uint(r, "vm-state-size", 0);
	result_end_object(r);
	result_end_array(r);
	result_uint(r, "virtual-size", 1048576);
	result_string(r, "filename", "j.qcow2");
	result_uint(r, "cluster-size", 65536);
	result_string(r, "format", "qcow2");
	result_int(r, "actual-size", 221184);
	result_begin_object(r, "format-specific");
	result_string(r, "type", "qcow2");
	result_begin_object(r, "data");
	result_string(r, "compat", "1.1");
	result_string(r, "compression-type", "zlib");
	result_bool(r, "lazy-refcounts", false);
	result_begin_array(r, "bitmaps");
	result_begin_object(r, NULL);
	result_begin_array(r, "flags");
	result_string(r, NULL, "auto");
	result_end_array(r);
	result_string(r, "name", "bm0");
	result_uint(r, "granularity", 65536);
	result_end_object(r);
	result_end_array(r);
	result_uint(r, "refcount-bits", 16);
	result_bool(r, "corrupt", false);
	result_bool(r, "extended-l2", false);
	result_end_object(r);
	result_end_object(r);
	result_bool(r, "dirty-flag", false);
	result_end_object(r);
}

static void info_json_is_qemus_text(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	send_info(&f.r);
	assert_int_equal(result_finish(&f.r), 0);
	assert_true(result_store_complete(&f.m.results));
	char *text = json_of(&f.m.results);
	assert_string_equal(text, qemu_info_json);
	free(text);
	fx_free(&f);
}

/* Where the object under `key` begins. */
static size_t find_key(const struct result_store *s, const char *key)
{
	size_t pos = 0, at = 0;
	struct result_rec rec;
	while (result_store_next(s, &pos, &rec)) {
		if (rec.key && rec.key_len == strlen(key) && !memcmp(rec.key, key, rec.key_len))
			return at;
		at = pos;
	}
	fail_msg("no key %s", key);
	return 0;
}

/* qemu-img info's "Format specific information" for the same image, as
 * qemu-img prints it (block/qapi.c dump_qobject at indentation 1). */
static void format_specific_as_qemu_dumps_it(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	send_info(&f.r);
	assert_int_equal(result_finish(&f.r), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	size_t pos = find_key(&f.m.results, "data");
	assert_true(render_human_tree(out, &f.m.results, &pos, 1));
	fclose(out);
	assert_string_equal(text, "    compat: 1.1\n"
				  "    compression type: zlib\n"
				  "    lazy refcounts: false\n"
				  "    bitmaps:\n"
				  "        [0]:\n"
				  "            flags:\n"
				  "                [0]: auto\n"
				  "            name: bm0\n"
				  "            granularity: 65536\n"
				  "    refcount bits: 16\n"
				  "    corrupt: false\n"
				  "    extended l2: false\n");
	free(text);
	/* not an object or array: nothing */
	pos = find_key(&f.m.results, "filename");
	out = open_memstream(&text, &len);
	assert_false(render_human_tree(out, &f.m.results, &pos, 0));
	fclose(out);
	assert_string_equal(text, "");
	free(text);
	fx_free(&f);
}

/* Controls in strings are escaped, empty containers print their key;
 * members in QDict order (flags, name, n: buckets 20, 39, 88). */
static void human_text_escapes_controls(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	result_begin_object(&f.r, NULL);
	result_string(&f.r, "name", "a\x1b[2Jb");
	result_begin_array(&f.r, "flags");
	result_end_array(&f.r);
	result_int(&f.r, "n", -5);
	result_end_object(&f.r);
	assert_int_equal(result_finish(&f.r), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	size_t pos = 0;
	assert_true(render_human_tree(out, &f.m.results, &pos, 0));
	fclose(out);
	assert_string_equal(text, "flags:\nname: a\\x1b[2Jb\nn: -5\n");
	assert_int_equal(pos, f.m.results.len);
	free(text);
	fx_free(&f);
}

/* A file name with a control, a tab, a quote, a backslash, U+00E9, U+1F600
 * and a stray 0xff byte; an empty array; a top-level array (as
 * --backing-chain prints); members in QDict order. */
static void strings_and_empty_arrays_as_qemu_writes_them(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct result_out *r = &f.r;
	const char name[] = "a\001b\tc\"d\\e\xc3\xa9" "f\xf0\x9f\x98\x80g\xffh.qcow2";
	result_begin_array(r, NULL);
	result_begin_object(r, NULL);
	result_string(r, "filename", name);
	result_begin_array(r, "flags");
	result_end_array(r);
	result_int(r, "n", -1);
	result_uint(r, "u", UINT64_MAX);
	result_end_object(r);
	result_end_array(r);
	assert_int_equal(result_finish(r), 0);
	char *text = json_of(&f.m.results);
	assert_string_equal(text,
			    "[\n"
			    "    {\n"
			    "        \"flags\": [\n"
			    "        ],\n"
			    "        \"n\": -1,\n"
			    "        \"filename\": \"a\\u0001b\\tc\\\"d\\\\e\\u00E9f\\uD83D\\uDE00g"
			    "\\uFFFDh.qcow2\",\n"
			    "        \"u\": 18446744073709551615\n"
			    "    }\n"
			    "]\n");
	free(text);
	fx_free(&f);
}

/* More than one buffer of records: several calls, one document. */
static void a_long_result_takes_several_calls(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct result_out *r = &f.r;
	result_begin_array(r, NULL);
	for (int i = 0; i < 3000; i++)
		result_uint(r, NULL, (uint64_t)i);
	result_end_array(r);
	assert_int_equal(result_finish(r), 0);
	assert_true(f.m.calls[HC_OP_RESULT] > 1);
	assert_true(result_store_complete(&f.m.results));
	char *text = json_of(&f.m.results);
	assert_non_null(strstr(text, "    0,\n    1,\n"));
	assert_non_null(strstr(text, "    2999\n]\n"));
	free(text);
	fx_free(&f);
}

/* An error is kept; nothing more is sent after it. */
static void the_first_error_sticks(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	static char huge[20000];
	memset(huge, 'x', sizeof(huge) - 1);
	result_begin_object(&f.r, NULL);
	result_string(&f.r, "k", huge);
	result_end_object(&f.r);
	assert_int_equal(result_finish(&f.r), -CD_EINVAL);
	assert_int_equal(f.m.calls[HC_OP_RESULT], 0);
	fx_free(&f);
}

/* ---- the host's checks ------------------------------------------------- */

struct rec_spec {
	uint16_t type;
	const char *key;
	const void *value;
	uint32_t value_len;
};

/* Encodes records by hand, as a hostile sandbox could. */
static size_t encode(uint8_t *buf, const struct rec_spec *specs, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t key_len = specs[i].key ? strlen(specs[i].key) : 0;
		struct hc_record h = { specs[i].type, (uint16_t)key_len, specs[i].value_len };
		memcpy(buf + len, &h, sizeof(h));
		memcpy(buf + len + 8, specs[i].key ? specs[i].key : "", key_len);
		memcpy(buf + len + 8 + key_len, specs[i].value ? specs[i].value : "",
		       specs[i].value_len);
		len += 8 + ((key_len + specs[i].value_len + 7) & ~(size_t)7);
	}
	return len;
}

static const uint8_t eight[8];

static void malformed_records_are_refused_whole(void **state)
{
	(void)state;
	static const struct {
		struct rec_spec recs[3];
		size_t n;
		const char *why;
	} cases[] = {
		{ { { 9, NULL, NULL, 0 } }, 1, "unknown type" },
		{ { { HC_REC_UINT, NULL, eight, 4 } }, 1, "wrong size" },
		{ { { HC_REC_BOOL, NULL, "\2", 1 } }, 1, "neither 0 nor 1" },
		{ { { HC_REC_STRING, NULL, "a\0b", 3 } }, 1, "NUL" },
		{ { { HC_REC_BEGIN_OBJECT, NULL, NULL, 0 }, { HC_REC_UINT, NULL, eight, 8 } },
		  2, "without a key" },
		{ { { HC_REC_BEGIN_ARRAY, NULL, NULL, 0 }, { HC_REC_UINT, "k", eight, 8 } },
		  2, "a key where none belongs" },
		{ { { HC_REC_BEGIN_OBJECT, NULL, NULL, 0 }, { HC_REC_STRING, "a b", "x", 1 } },
		  2, "a key with a character" },
		{ { { HC_REC_BEGIN_ARRAY, NULL, NULL, 0 }, { HC_REC_END_OBJECT, NULL, NULL, 0 } },
		  2, "closes nothing" },
		{ { { HC_REC_END_ARRAY, NULL, NULL, 0 } }, 1, "closes nothing" },
		{ { { HC_REC_UINT, "k", eight, 8 } }, 1, "a key where none belongs" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct result_store s;
		result_store_init(&s);
		uint8_t buf[256];
		size_t len = encode(buf, cases[c].recs, cases[c].n);
		char why[128] = "";
		assert_int_equal(result_store_add(&s, buf, len, why, sizeof(why)), -1);
		if (!strstr(why, cases[c].why))
			fail_msg("case %zu: '%s' does not say '%s'", c, why, cases[c].why);
		assert_int_equal(s.len, 0);
		assert_int_equal(s.depth, 0);
		result_store_free(&s);
	}
}

static void cut_short_deep_and_oversized_are_refused(void **state)
{
	(void)state;
	struct result_store s;
	result_store_init(&s);
	char why[128];
	/* An opening batch that is kept, then a bad one that is not. */
	struct rec_spec open_obj = { HC_REC_BEGIN_OBJECT, NULL, NULL, 0 };
	uint8_t buf[1024];
	size_t len = encode(buf, &open_obj, 1);
	assert_int_equal(result_store_add(&s, buf, len, why, sizeof(why)), 0);
	assert_false(result_store_complete(&s));
	/* Header claims more than the call holds. */
	struct hc_record h = { HC_REC_STRING, 1, 100 };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 8, "k", 1);
	assert_int_equal(result_store_add(&s, buf, 16, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than"));
	/* Half a header. */
	assert_int_equal(result_store_add(&s, buf, 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cut short"));
	/* Nesting past the limit (one object is already open). */
	struct rec_spec deep[HC_MAX_RESULT_DEPTH];
	for (unsigned i = 0; i < HC_MAX_RESULT_DEPTH; i++)
		deep[i] = (struct rec_spec){ HC_REC_BEGIN_OBJECT, "k", NULL, 0 };
	len = encode(buf, deep, HC_MAX_RESULT_DEPTH);
	assert_int_equal(result_store_add(&s, buf, len, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too deep"));
	/* More than one call may carry. */
	uint8_t *big = calloc(1, HC_MAX_RESULT_CALL + 8);
	assert_int_equal(result_store_add(&s, big, HC_MAX_RESULT_CALL + 8, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "more results"));
	free(big);
	/* Only the first batch was kept. */
	assert_int_equal(s.len, 8);
	assert_int_equal(s.depth, 1);
	result_store_free(&s);
}

/* ---- progress ----------------------------------------------------------- */

static char *progress_text(const uint64_t *done, size_t n, uint64_t total, int *refused)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct progress p;
	progress_init(&p, f, 1.0f);
	*refused = 0;
	for (size_t i = 0; i < n; i++)
		*refused += progress_report(&p, done[i], total) < 0;
	progress_end(&p);
	fclose(f);
	return text;
}

/* qemu_progress_print(): a line when the value moved by more than 1%, and
 * at 0 and 100; a newline at the end. */
static void progress_lines_follow_qemus_rule(void **state)
{
	(void)state;
	static const uint64_t done[] = { 0, 5, 10, 15, 30, 31, 1000 };
	int refused;
	char *text = progress_text(done, 7, 1000, &refused);
	assert_int_equal(refused, 0);
	assert_string_equal(text, "    (0.00/100%)\r    (1.50/100%)\r    (3.00/100%)\r"
				  "    (100.00/100%)\r\n");
	free(text);
	/* Nothing to do: all done. */
	static const uint64_t none[] = { 0 };
	text = progress_text(none, 1, 0, &refused);
	assert_string_equal(text, "    (100.00/100%)\r\n");
	free(text);
}

static void progress_backwards_or_past_the_end_is_refused(void **state)
{
	(void)state;
	static const uint64_t done[] = { 50, 40, 101, 100 };
	int refused;
	char *text = progress_text(done, 4, 100, &refused);
	assert_int_equal(refused, 2);
	assert_string_equal(text, "    (50.00/100%)\r    (100.00/100%)\r\n");
	free(text);
	/* Not shown: still checked, nothing printed. */
	struct progress p;
	progress_init(&p, NULL, 1.0f);
	assert_int_equal(progress_report(&p, 10, 100), 0);
	assert_int_equal(progress_report(&p, 9, 100), -1);
	progress_end(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(info_json_is_qemus_text),
		cmocka_unit_test(format_specific_as_qemu_dumps_it),
		cmocka_unit_test(human_text_escapes_controls),
		cmocka_unit_test(strings_and_empty_arrays_as_qemu_writes_them),
		cmocka_unit_test(a_long_result_takes_several_calls),
		cmocka_unit_test(the_first_error_sticks),
		cmocka_unit_test(malformed_records_are_refused_whole),
		cmocka_unit_test(cut_short_deep_and_oversized_are_refused),
		cmocka_unit_test(progress_lines_follow_qemus_rule),
		cmocka_unit_test(progress_backwards_or_past_the_end_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
