#!/usr/bin/env bash
# The main job on a sample it makes itself: a sparse 64 MiB raw image with
# data at a few offsets, copied by `cordon dd` (whole, and a window), each
# checked byte for byte against `qemu-img dd` on the same operands.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -s build/cordon
cordon=build/cordon
work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

img="$work/sample.raw"
truncate -s 64M "$img"
for off in 0 7 50 33; do # MiB offsets, inside the 64 MiB
	head -c 1M /dev/urandom | dd of="$img" bs=1M seek="$off" conv=notrunc status=none
done
echo "sample: $img (64 MiB raw, 4 MiB of data, the rest holes)"

run() {
	local name=$1; shift
	rm -f "$work/c.out" "$work/q.out"
	local t0 t1
	t0=$(date +%s%N)
	"$cordon" dd "$@" if="$img" of="$work/c.out"
	t1=$(date +%s%N)
	qemu-img dd "$@" if="$img" of="$work/q.out"
	if cmp -s "$work/c.out" "$work/q.out"; then
		printf '%-34s %4d ms  identical to qemu-img dd (%s bytes, %s KiB allocated)\n' \
			"$name" $(((t1 - t0) / 1000000)) "$(stat -c %s "$work/c.out")" \
			"$(du -k "$work/c.out" | cut -f1)"
	else
		echo "$name: DIFFERS from qemu-img dd" >&2
		exit 1
	fi
}

run "cordon dd bs=1M" bs=1M
run "cordon dd bs=777 skip=1000 count=9000" bs=777 skip=1000 count=9000
run "cordon dd bs=4k skip=1024 count=4096" bs=4k skip=1024 count=4096
echo "sandbox used: ${CORDON_SANDBOX:-auto}"
