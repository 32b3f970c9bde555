#!/usr/bin/env bash
# Speed of cordon info against qemu-img info, whole process, on a 64 KiB
# qcow2 and on a 3-deep chain (qcow2 -> qcow2 -> vpc), human and JSON, with
# and without --backing-chain.  Medians of hyperfine runs; never a
# pass/fail threshold.  Run alone (`bash bench/info.sh`) or from
# bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cordon=$PWD/build/cordon
runs=${BENCH_INFO_RUNS:-40}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cordon-bench-info.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

median() { # hyperfine json -> median seconds
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
bench() { # name command...
	local name=$1; shift
	hyperfine -N --style none --runs "$runs" --warmup 3 --export-json "$name.json" \
		"$*" >/dev/null 2>&1
	median "$name.json"
}
ratio() { /usr/bin/python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:6.2f}x")' "$1" "$2"; }
ms() { /usr/bin/python3 -c 'import sys; print(f"{float(sys.argv[1])*1000:7.2f} ms")' "$1"; }

kinds=(process)
[ -w /dev/kvm ] && kinds=(kvm process)

qemu-img create -q -f qcow2 small.qcow2 64K
qemu-img create -q -f vpc base.vhd 64M
qemu-img create -q -f qcow2 -b base.vhd -F vpc mid.qcow2
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2

echo "== info: whole process, medians of $runs runs"
for c in "small.qcow2" "--output=json small.qcow2" "top.qcow2" \
	"--backing-chain top.qcow2" "--backing-chain --output=json top.qcow2"; do
	n=$(echo "$c" | tr -c 'a-z0-9\n' _)
	# shellcheck disable=SC2086  # the options are words
	q=$(bench "q_$n" qemu-img info $c)
	line="qemu-img info $c$(printf '%*s' $((40 - ${#c})) '')$(ms "$q")"
	for k in "${kinds[@]}"; do
		# shellcheck disable=SC2086
		t=$(bench "c_${n}_$k" "$cordon" info --sandbox="$k" $c)
		line+="   $k $(ms "$t") ($(ratio "$q" "$t") faster)"
	done
	echo "$line"
done
