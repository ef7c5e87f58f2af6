#!/usr/bin/env bash
# Start/stop the root-namespace libvirtd without systemd.
#   scripts/libvirtd.sh start   # no-op if already answering; waits until virsh answers
#   scripts/libvirtd.sh stop    # stops ONLY the daemon
#   scripts/libvirtd.sh status  # exit 0 if running and answering
# NOTE: QEMU processes survive libvirtd's death (and a restarted libvirtd
# re-attaches to them as long as /run persists). `stop` does not destroy domains:
# tests must destroy their own domains before stopping the daemon.
# Env: NOVALET_LIBVIRTD_TIMEOUT (seconds, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PIDFILE=/run/libvirtd.pid
URI=qemu:///system
TIMEOUT=${NOVALET_LIBVIRTD_TIMEOUT:-20}

daemon_pid() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -d "/proc/$pid" ] && grep -q libvirtd "/proc/$pid/comm" 2>/dev/null || return 1
  # Only a daemon in OUR mount+net namespace counts (testbed daemons have their own /run).
  [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] || return 1
  echo "$pid"
}
answers() { timeout 10 virsh -c "$URI" version >/dev/null 2>&1; }

start() {
  need_root
  if daemon_pid >/dev/null && answers; then log "libvirtd already running (pid $(daemon_pid))"; return 0; fi
  command -v libvirtd >/dev/null || die "libvirtd not installed: run scripts/install.sh"
  getent passwd libvirt-qemu >/dev/null || die "user libvirt-qemu missing: run scripts/install.sh"
  mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt
  write_root_libvirtd_conf   # keeps host_uuid stable (/var/lib/novalet/host-uuid)
  write_root_qemu_conf
  if ! daemon_pid >/dev/null; then
    rm -f "$PIDFILE"
    libvirtd -d -p "$PIDFILE" -f /etc/libvirt/libvirtd.conf
  fi
  local i=0
  while ! answers; do
    i=$((i + 1))
    [ $i -le $((TIMEOUT * 4)) ] || die "libvirtd did not answer within ${TIMEOUT}s (see /var/log/libvirt/libvirtd.log)"
    sleep 0.25
  done
  log "libvirtd running (pid $(daemon_pid)), host uuid $(novalet_host_uuid)"
}

stop() {
  need_root
  local pid
  if ! pid=$(daemon_pid); then log "libvirtd not running"; rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  if [ -d "/proc/$pid" ]; then log "libvirtd did not exit, SIGKILL"; kill -KILL "$pid" || true; fi
  rm -f "$PIDFILE"
  log "libvirtd stopped (running QEMU processes, if any, keep running)"
}

status() {
  local pid
  if pid=$(daemon_pid) && answers; then echo "running pid=$pid uri=$URI host_uuid=$(novalet_host_uuid)"; return 0; fi
  echo "not running"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
