#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): installs what the tests need, starts the local
# libvirtd and PostgreSQL, builds the test guest, removes testbeds left by a crashed run, then runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root
t0=$(date +%s)
# Ceph's packages too: the rbd volume tests run in CI (a missing Ceph fails them instead of skipping them there)
export NOVALET_WITH_CEPH=1 NOVALET_REQUIRE_CEPH=1
bash scripts/install.sh
bash scripts/libvirtd.sh start
bash scripts/build-guest.sh
bash scripts/testbed.sh cleanup
# the store contract suite runs against PostgreSQL too (test/support/postgres.ts): a local server, its URL for the tests
NOVALET_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start | tail -n 1)
export NOVALET_TEST_POSTGRES_URL
log "setup took $(( $(date +%s) - t0 )) s; running the tests"
npm test
