#!/usr/bin/env bash
# Multi-host libvirt testbed on one machine (root). See test/support/testbed.ts.
#   scripts/testbed.sh up N [prefix]   # N hosts, prints JSON (uris, ips, sharedDir)
#   scripts/testbed.sh down [prefix]   # tear down one, or all testbeds
#   scripts/testbed.sh list | cleanup
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx test/support/testbed-cli.ts "$@"
