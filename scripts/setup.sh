#!/usr/bin/env bash
# Installs the Debian packages cordon's build and tests need, only when one is
# missing.  Safe to run any number of times; needs root only when installing.
set -euo pipefail

packages=(
	gcc make binutils            # the product and the KVM guest image
	clang libclang-rt-14-dev     # ASan/UBSan unit tests and libFuzzer
	llvm-14                      # llvm-cov and llvm-profdata: make coverage
	libcmocka-dev                # unit tests
	zlib1g-dev libzstd-dev       # qcow2 compression (decoders built into the guest)
	qemu-utils                   # qemu-img: the oracle for integration tests
	python3 python3-pytest       # integration tests
	python3-pytest-xdist         # ... run in parallel
	python3-libvhdi              # a second VHD reader for the vpc tests
	python3-libvmdk              # a second VMDK reader for the vmdk tests
	python3-oslo.utils           # a real client of qemu-img info's output
	vmdk-stream-converter        # a second streamOptimized writer
	hyperfine                    # bench/
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: need root to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
