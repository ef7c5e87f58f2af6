#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): installs what the tests need, starts the local
# libvirtd, builds the test guest, removes testbeds left by a crashed run, then runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root
t0=$(date +%s)
bash scripts/install.sh
bash scripts/libvirtd.sh start
bash scripts/build-guest.sh
bash scripts/testbed.sh cleanup
log "setup took $(( $(date +%s) - t0 )) s; running the tests"
npm test
