#!/usr/bin/env bash
# Multi-host libvirt testbed on one machine (root), bare (no novalet): see src/cli/testbed/testbed.ts.
# With agents and a controller: `novalet testbed up` (README "Several hosts on one machine").
#   scripts/testbed.sh up N [prefix]   # N hosts, prints JSON (uris, ips, sharedDir)
#   scripts/testbed.sh down [prefix]   # tear down one, or all testbeds
#   scripts/testbed.sh list | cleanup
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx test/support/testbed-cli.ts "$@"
