#!/usr/bin/env bash
# Speed of cordon dd as ratios against qemu-img dd, coreutils dd and cp, of
# cordon convert against qemu-img convert and of cordon info against
# qemu-img info (bench/info.sh), on the same files, in one run.  Timings are medians of hyperfine runs with the
# page cache warm (the input is read once first), outputs removed between
# runs.  Never used as a pass/fail threshold.
#
#   BENCH_SIZE_MB=1024   size of the big raw input (default 1024)
#   BENCH_QEMU_MB=128    window qemu-img dd bs=512 is timed on (scaled up);
#                        set it to BENCH_SIZE_MB for the full run (~160 s)
#   BENCH_TMPFS=1        repeat the image cases in /dev/shm, where writing
#                        back costs nothing: the tools' own work (0: skip)
set -euo pipefail
cd "$(dirname "$0")/.."
cordon=$PWD/build/cordon
repo=$PWD
size_mb=${BENCH_SIZE_MB:-1024}
qemu_mb=${BENCH_QEMU_MB:-128}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cordon-bench.XXXXXX")
shm=""
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
cd "$work"

median() { # hyperfine json -> median seconds
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
bench() { # name runs prepare command...
	local name=$1 runs=$2 prep=$3; shift 3
	hyperfine -N --style none --runs "$runs" --warmup 1 --prepare "$prep" \
		--export-json "$name.json" "$*" >/dev/null 2>&1
	median "$name.json"
}
ratio() { /usr/bin/python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:8.2f}x")' "$1" "$2"; }
ms() { /usr/bin/python3 -c 'import sys; print(f"{float(sys.argv[1])*1000:9.1f} ms")' "$1"; }

# hyperfine -N runs --prepare without a shell too: "rm -f x; sync" would
# remove nothing.  A script does both.
printf '#!/bin/sh\nrm -f "$@"; sync\n' > clean.sh
chmod +x clean.sh

kinds=(process)
# KVM where /dev/kvm opens for writing; the process sandbox always.
[ -w /dev/kvm ] && kinds=(kvm process)

echo "== start-up: a trivial dd (1 MiB raw input, whole image)"
head -c 1M /dev/urandom > small.raw
q_small=$(bench q_small 30 "rm -f o.raw" qemu-img dd if=small.raw of=o.raw)
echo "qemu-img dd               $(ms "$q_small")"
for k in "${kinds[@]}"; do
	c=$(bench "c_small_$k" 30 "rm -f o.raw" "$cordon" dd --sandbox="$k" if=small.raw of=o.raw)
	echo "cordon dd ($k)$(printf '%*s' $((11 - ${#k})) '')$(ms "$c")   qemu-img/cordon $(ratio "$q_small" "$c")"
	c0=$(bench "c_zero_$k" 30 "rm -f o.raw" "$cordon" dd --sandbox="$k" count=0 if=small.raw of=o.raw)
	echo "  sandbox start + empty dd ($k): $(ms "$c0")"
done

echo
bash "$repo/bench/info.sh"

echo
echo "== ${size_mb} MiB raw -> raw, bs default (512)"
head -c "${size_mb}M" /dev/urandom > big.raw
cat big.raw > /dev/null
t_cp=$(bench cp 5 "rm -f o.raw" cp big.raw o.raw)
t_dd=$(bench dd 5 "rm -f o.raw" dd if=big.raw of=o.raw bs=1M status=none)
echo "cp                        $(ms "$t_cp")"
echo "dd bs=1M (coreutils)      $(ms "$t_dd")"
for k in "${kinds[@]}"; do
	c=$(bench "c_big_$k" 5 "rm -f o.raw" "$cordon" dd --sandbox="$k" if=big.raw of=o.raw)
	nc=$(CORDON_HOST_COPY=0 bench "c_big_nocopy_$k" 5 "rm -f o.raw" "$cordon" dd --sandbox="$k" if=big.raw of=o.raw)
	echo "cordon dd ($k)$(printf '%*s' $((11 - ${#k})) '')$(ms "$c")   cordon/cp $(ratio "$c" "$t_cp")   cordon/dd $(ratio "$c" "$t_dd")"
	echo "  without host-side copy  $(ms "$nc")   (every byte through the sandbox; CORDON_HOST_COPY=0)"
done
# cordon flushes the output before renaming it into place (qemu-img flushes
# on close too); cp does not, so cp followed by sync is the like-for-like.
printf '#!/bin/sh\ncp "$1" "$2" && sync "$2"\n' > cpsync.sh
chmod +x cpsync.sh
t_cps=$(bench cp_sync 5 "rm -f o.raw" ./cpsync.sh big.raw o.raw)
echo "cp + sync                 $(ms "$t_cps")"
for k in "${kinds[@]}"; do
	echo "  cordon ($k) / (cp + sync): $(ratio "$(median "c_big_$k.json")" "$t_cps")"
done

rm -f o.raw
start=$(date +%s%N)
qemu-img dd if=big.raw of=o.raw count=$((qemu_mb * 2048))
end=$(date +%s%N)
q_big=$(/usr/bin/python3 -c "print(($end - $start) / 1e9 * $size_mb / $qemu_mb)")
note=""
[ "$qemu_mb" != "$size_mb" ] && note=" (timed on ${qemu_mb} MiB, scaled to ${size_mb} MiB)"
echo "qemu-img dd bs=512        $(ms "$q_big")$note"
for k in "${kinds[@]}"; do
	echo "  qemu-img/cordon ($k): $(ratio "$q_big" "$(median "c_big_$k.json")")"
done

echo
echo "== scattered: 512 MiB with one byte in every 64 KiB (8192 data blocks), bs=64k"
/usr/bin/python3 -c '
f = open("scattered.raw", "wb"); f.truncate(512 << 20)
for i in range(8192):
    f.seek(i * 65536); f.write(b"\x01")'
for fmt in raw qcow2; do
	q=$(bench "q_sc_$fmt" 5 "rm -f o.img" qemu-img dd -O "$fmt" bs=64k if=scattered.raw of=o.img)
	echo "qemu-img dd -O $fmt$(printf '%*s' $((10 - ${#fmt})) '')$(ms "$q")"
	for k in "${kinds[@]}"; do
		c=$(bench "c_sc_${fmt}_$k" 5 "rm -f o.img" "$cordon" dd --sandbox="$k" -O "$fmt" bs=64k if=scattered.raw of=o.img)
		echo "  cordon dd ($k)$(printf '%*s' $((11 - ${#k})) '')$(ms "$c")   qemu-img/cordon $(ratio "$q" "$c")"
	done
done

# image -> raw and raw -> image, each against qemu-img dd bs=1M and qemu-img
# convert on the same files.  cordon dd and qemu-img dd flush the output
# before they finish; qemu-img convert writes with cache=unsafe and does
# not, so it is also timed followed by a sync of its output (like-for-like,
# as cp + sync above).  Each run starts with the page cache flushed, so one
# run's writeback does not land in the next one's time.
printf '#!/bin/sh\nqemu-img convert "$@" && sync "$(eval echo \\${$#})"\n' > convsync.sh
chmod +x convsync.sh
report() { # cordon's time against the three
	echo "  cordon dd ($1)$(printf '%*s' $((11 - ${#1})) '')$(ms "$2")   qemu-img dd/cordon $(ratio "$3" "$2")   convert/cordon $(ratio "$4" "$2")   (convert + sync)/cordon $(ratio "$5" "$2")"
}
to_raw() { # label fmt image
	local q qc qs c k
	q=$(bench "q_$1" 3 "./clean.sh o.raw" qemu-img dd -f "$2" -O raw bs=1M if="$3" of=o.raw)
	qc=$(bench "qc_$1" 3 "./clean.sh o.raw" qemu-img convert -f "$2" -O raw "$3" o.raw)
	qs=$(bench "qs_$1" 3 "./clean.sh o.raw" ./convsync.sh -f "$2" -O raw "$3" o.raw)
	echo "$3 -> raw: qemu-img dd bs=1M $(ms "$q"), convert $(ms "$qc"), convert + sync $(ms "$qs")"
	for k in "${kinds[@]}"; do
		c=$(bench "c_$1_$k" 3 "./clean.sh o.raw" "$cordon" dd --sandbox="$k" -f "$2" -O raw bs=1M if="$3" of=o.raw)
		report "$k" "$c" "$q" "$qc" "$qs"
	done
}
from_raw() { # label fmt
	local q qc qs c k
	q=$(bench "q_$1" 3 "./clean.sh o.img" qemu-img dd -O "$2" bs=1M if=big.raw of=o.img)
	qc=$(bench "qc_$1" 3 "./clean.sh o.img" qemu-img convert -f raw -O "$2" big.raw o.img)
	qs=$(bench "qs_$1" 3 "./clean.sh o.img" ./convsync.sh -f raw -O "$2" big.raw o.img)
	echo "raw -> $2: qemu-img dd bs=1M $(ms "$q"), convert $(ms "$qc"), convert + sync $(ms "$qs")"
	for k in "${kinds[@]}"; do
		c=$(bench "c_$1_$k" 3 "./clean.sh o.img" "$cordon" dd --sandbox="$k" -O "$2" bs=1M if=big.raw of=o.img)
		report "$k" "$c" "$q" "$qc" "$qs"
	done
}

echo
echo "== VHD and VHDX: ${size_mb} MiB dense (made by qemu-img convert from big.raw)"
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on big.raw fixed.vhd
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on big.raw dyn.vhd
qemu-img convert -f raw -O vhdx big.raw dyn.vhdx
cat fixed.vhd dyn.vhd dyn.vhdx > /dev/null
to_raw vhd_fixed vpc fixed.vhd
to_raw vhd_dyn vpc dyn.vhd
to_raw vhdx_dyn vhdx dyn.vhdx
from_raw to_vhd vpc
from_raw to_vhdx vhdx

echo
echo "== VMDK: ${size_mb} MiB dense (made by qemu-img convert from big.raw)"
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse big.raw sparse.vmdk
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized big.raw stream.vmdk
cat sparse.vmdk stream.vmdk > /dev/null
to_raw vmdk_sparse vmdk sparse.vmdk
to_raw vmdk_stream vmdk stream.vmdk
from_raw to_vmdk vmdk

# cordon convert against qemu-img convert, like for like: both write with
# cache mode unsafe (convert's default: no flush), so neither waits for the
# disk; each run starts with the page cache flushed.
conv() { # label in_fmt input out_fmt
	local q c k
	q=$(bench "qcv_$1" 5 "./clean.sh o.img" qemu-img convert -f "$2" -O "$4" "$3" o.img)
	echo "$3 -> $4: qemu-img convert $(ms "$q")"
	for k in "${kinds[@]}"; do
		c=$(bench "ccv_$1_$k" 5 "./clean.sh o.img" "$cordon" convert --sandbox="$k" -f "$2" -O "$4" "$3" o.img)
		echo "  cordon convert ($k)$(printf '%*s' $((11 - ${#k})) '')$(ms "$c")   qemu-img convert/cordon $(ratio "$q" "$c")"
	done
}

echo
echo "== convert: ${size_mb} MiB, cordon convert against qemu-img convert"
qemu-img convert -f raw -O qcow2 big.raw dense.qcow2
# sparse: 1/8 of the disk written, in 1 MiB pieces 8 MiB apart
/usr/bin/python3 -c '
import os, sys
n = int(sys.argv[1])
f = open("sparse.raw", "wb"); f.truncate(n << 20)
for i in range(0, n, 8):
    f.seek(i << 20); f.write(os.urandom(1 << 20))' "$size_mb"
qemu-img convert -f raw -O qcow2 sparse.raw sparse.qcow2
cat dense.qcow2 sparse.qcow2 > /dev/null
conv qcow2_raw qcow2 dense.qcow2 raw
conv sqcow2_raw qcow2 sparse.qcow2 raw
conv raw_qcow2 raw big.raw qcow2
conv vmdk_qcow2 vmdk sparse.vmdk qcow2
conv qcow2_vhdx qcow2 dense.qcow2 vhdx
conv vhd_fixed_raw vpc fixed.vhd raw
conv vhd_dyn_raw vpc dyn.vhd raw
conv raw_vpc raw big.raw vpc
conv vhdx_raw vhdx dyn.vhdx raw
conv raw_vhdx raw big.raw vhdx
conv vmdk_sparse_raw vmdk sparse.vmdk raw
conv vmdk_stream_raw vmdk stream.vmdk raw
conv raw_vmdk raw big.raw vmdk
rm -f sparse.raw

# The same cases in memory.  On disk every tool that flushes (cordon dd,
# qemu-img dd, convert + sync) waits for the disk; qemu-img convert alone
# does not.  In tmpfs a flush costs nothing, so what is left is each tool's
# own work: reading, parsing, copying, writing.
if [ "${BENCH_TMPFS:-1}" = 1 ] && [ -d /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/cordon-bench.XXXXXX)
	cp big.raw fixed.vhd dyn.vhd dyn.vhdx sparse.vmdk stream.vmdk convsync.sh clean.sh "$shm"/
	cd "$shm"
	echo
	echo "== in memory (tmpfs, $shm): the same images, no disk"
	to_raw shm_vhd_dyn vpc dyn.vhd
	to_raw shm_vhdx_dyn vhdx dyn.vhdx
	to_raw shm_vmdk_sparse vmdk sparse.vmdk
	to_raw shm_vmdk_stream vmdk stream.vmdk
	from_raw shm_to_vhd vpc
	from_raw shm_to_vhdx vhdx
	from_raw shm_to_vmdk vmdk
	from_raw shm_to_qcow2 qcow2
fi
