#!/usr/bin/env bash
# The README's first command: brings everything up on this host and runs the main job.
# Today: install, start libvirtd, build the test guest, then a smoke run that boots the guest through the
# project's own binding and shuts it down by ACPI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root
bash scripts/install.sh
bash scripts/libvirtd.sh start
bash scripts/build-guest.sh
exec node --import tsx scripts/smoke.ts "$@"
