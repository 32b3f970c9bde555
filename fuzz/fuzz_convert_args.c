/*
 * libFuzzer target for convert's command line (src/cli/convert_args.c):
 * the input is argv, NUL-separated, drawn mostly from convert's own
 * options and values.  Beyond "no crash, no UB, no leak", every accepted
 * command line must satisfy what the rest of cordon relies on and what
 * qemu-img would have checked (the expectations tests/unit/
 * test_convert_args.c spells out): at least one input and an output, the
 * last operand; -S a multiple of 512 up to 16 MiB; -m between 1 and 16; a
 * source cache mode qemu knows; the output cache mode as given; -q turns
 * progress off.  A refused one has printed its message.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/convert_args.h"
#include "../src/core/convert.h"

#define MAXARGS 24

/* Words that make the parser go places: options, values, names. */
static const char *const words[] = {
	"-f", "-O", "-B", "-C", "-c", "-F", "-o", "-l", "-S", "-p", "-t", "-T", "-q",
	"-n", "-m", "-W", "-U", "-r", "--", "--salvage", "--target-is-zero",
	"--bitmaps", "--skip-broken-bitmaps", "--image-opts", "--target-image-opts",
	"--object", "--force-share", "--sandbox=process", "--backing-allow=none",
	"raw", "qcow2", "vmdk", "0", "4k", "64k", "1000", "16M", "32M", "0x10", "17",
	"unsafe", "none", "off", "bogus", "a.img", "b.img", "out.img", "-Sx", "-m8",
	"-pq", "-Ux",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAXARGS + 2];
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	int argc = 0;
	argv[argc++] = "convert";
	/* Each piece: a byte < 0x40 picks a word, else the text up to the
	 * next NUL is the argument as it is. */
	for (size_t i = 0; i < size && argc < MAXARGS + 1;) {
		if ((uint8_t)copy[i] < 0x40) {
			argv[argc++] = (char *)words[(uint8_t)copy[i] % (sizeof(words) /
									   sizeof(words[0]))];
			i++;
			continue;
		}
		argv[argc++] = &copy[i];
		i += strlen(&copy[i]) + 1;
	}
	argv[argc] = NULL;
	int n_args = argc;
	char *orig[MAXARGS + 2];
	memcpy(orig, argv, sizeof(argv));

	optind = 0;
	opterr = 0;
	struct convert_args a;
	enum convert_args_result r = convert_args_parse(argc, argv, &a);
	if (r == CONVERT_ARGS_RUN) {
		assert(a.n_in >= 1 && a.in && a.out);
		/* The output is the last operand, after GNU getopt's permutation. */
		assert(a.out == argv[argc - 1]);
		for (uint32_t i = 0; i < a.n_in; i++)
			assert(a.in[i] != NULL);
		assert(a.min_sparse % 512 == 0 && a.min_sparse <= CONVERT_MAX_SPARSE);
		assert(a.coroutines >= 1 && a.coroutines <= 16);
		assert(a.src_cache != CACHE_INVALID);
		assert(a.out_cache == cache_mode_parse(a.cache));
		assert(!(a.quiet && a.progress));
		assert(a.out_fmt != NULL);
	}
	/* argv is permuted, never replaced: every pointer is one it was given. */
	for (int i = 1; i < n_args; i++) {
		int found = 0;
		for (int j = 1; j < n_args; j++)
			found |= argv[i] == orig[j];
		assert(found);
	}
	common_opts_free(&a.common);
	free(copy);
	return 0;
}
