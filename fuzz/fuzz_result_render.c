/*
 * libFuzzer target for what the host does with a sandbox's results and
 * progress reports: result_store_add() over calls of fuzzer-chosen length
 * (each refused whole or kept), render_json() of what was kept, and
 * progress_report() over fuzzer-chosen (done, total) pairs.
 *
 * Checks beyond "no crash, no UB": a refused call leaves the store as it
 * was; the store stays within its limits; a complete store renders as a
 * sequence of valid JSON values and as qemu's human tree in lines without
 * terminal controls (both checked apart from the renderers, in
 * render_check.h); every progress line is qemu's "    (N.NN/100%)\r" with
 * N never above 100.
 *
 * Input: a sequence of chunks, each [kind:1][len:2 LE][len bytes]; kind
 * even = result call, odd = progress report (16 bytes: done, total).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/host/progress.h"
#include "../src/host/render_human.h"
#include "../src/host/render_json.h"
#include "../src/host/result_store.h"
#include "render_check.h"

static void check_progress(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		if (*p == '\n') {
			CHECK(p + 1 == end);
			break;
		}
		CHECK(end - p >= 5 && memcmp(p, "    (", 5) == 0);
		char *after;
		double v = strtod(p + 5, &after);
		CHECK(v >= 0 && v <= 100);
		CHECK(end - after >= 7 && memcmp(after - 3, ".", 1) == 0);
		CHECK(memcmp(after, "/100%)\r", 7) == 0);
		p = after + 7;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result_store store;
	result_store_init(&store);
	char *ptext = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&ptext, &plen);
	CHECK(pf);
	struct progress prog;
	progress_init(&prog, pf, 1.0f);

	while (size >= 3) {
		uint8_t kind = data[0];
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		data += 3, size -= 3;
		if (len > size)
			len = size;
		if (kind & 1) {
			uint64_t v[2] = { 0, 0 };
			memcpy(v, data, len < sizeof(v) ? len : sizeof(v));
			/* Small totals as well as huge ones. */
			if (kind & 2)
				v[0] %= 1000, v[1] %= 1000;
			uint64_t before = prog.done;
			int ret = progress_report(&prog, v[0], v[1]);
			CHECK(ret == 0 || prog.done == before);
			CHECK(ret == -1 || (v[0] <= v[1] && v[0] >= before));
		} else {
			size_t old_len = store.len;
			uint32_t old_depth = store.depth;
			char why[160];
			if (result_store_add(&store, data, len, why, sizeof(why)) < 0) {
				CHECK(store.len == old_len && store.depth == old_depth);
				CHECK(why[0] != '\0');
			}
			CHECK(store.len <= HC_MAX_RESULT_BYTES);
			CHECK(store.depth <= HC_MAX_RESULT_DEPTH);
		}
		data += len, size -= len;
	}
	progress_end(&prog);
	fclose(pf);
	check_progress(ptext, plen);
	free(ptext);

	if (result_store_complete(&store)) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		CHECK(f);
		render_json(f, &store);
		fclose(f);
		check_json(text, len);
		free(text);
		/* The human tree of every top-level value: printable lines. */
		f = open_memstream(&text, &len);
		CHECK(f);
		for (size_t pos = 0; pos < store.len;) {
			size_t before = pos;
			struct result_rec rec;
			if (!render_human_tree(f, &store, &pos, 0))
				CHECK(result_store_next(&store, &pos, &rec));
			CHECK(pos > before);
		}
		fclose(f);
		check_human(text, len);
		free(text);
	}
	result_store_free(&store);
	return 0;
}
