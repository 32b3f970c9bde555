#!/usr/bin/env bash
# All tests: installs what is missing, builds, then unit tests (ASan+UBSan),
# a smoke run of every fuzz target, and the integration suite against the
# real qemu-img under every sandbox this machine has.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make test
