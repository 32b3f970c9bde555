#!/usr/bin/env bash
# make coverage: runs the instrumented unit tests, then every instrumented
# fuzz target once over its corpora (the tree's seeds and the working corpus
# fuzz-smoke and fuzz-long grow in build/fuzz/corpus), and prints the line
# and function coverage of each file of src/core and the total.
#   scripts/coverage.sh COV_DIR "unit binaries" "fuzz binaries"
set -euo pipefail
cov=$1 unit=$2 fuzz=$3
prof=$cov/prof
rm -rf "$prof" && mkdir -p "$prof"
for t in $unit; do
	LLVM_PROFILE_FILE="$prof/$(basename "$t")-%p.profraw" "$t" >/dev/null 2>&1 || {
		echo "coverage: $t failed" >&2; exit 1; }
done
for f in $fuzz; do
	n=$(basename "$f")
	dirs=()
	for d in "build/fuzz/corpus/$n" "fuzz/corpus/$n"; do
		[ -d "$d" ] && [ -n "$(ls -A "$d")" ] && dirs+=("$d")
	done
	[ ${#dirs[@]} -eq 0 ] && continue
	LLVM_PROFILE_FILE="$prof/$n-%p.profraw" "$f" -runs=0 -close_fd_mask=3 "${dirs[@]}" \
		>/dev/null 2>&1 || { echo "coverage: $n failed on its corpus" >&2; exit 1; }
done
llvm-profdata-14 merge -sparse -o "$cov/cordon.profdata" "$prof"/*.profraw
set -- $unit $fuzz
first=$1
shift
objects=()
for b in "$@"; do objects+=(-object "$b"); done
llvm-cov-14 report -instr-profile="$cov/cordon.profdata" "$first" "${objects[@]}" src/core \
	2>/dev/null | awk '$1 ~ /\.[ch]$/ && $10 != "-" { sub("^.*src/core/", "", $1); \
		printf "%-32s lines %7s  functions %7s\n", $1, $10, $7 } \
		$1 == "TOTAL" { total = sprintf("%-32s lines %7s  functions %7s", \
		"~ src/core, total", $10, $7) } END { print total }' | LC_ALL=C sort
