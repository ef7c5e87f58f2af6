# Shared helpers for novalet's shell scripts. Source it, don't run it.
# shellcheck shell=bash

NOVALET_STATE_DIR=${NOVALET_STATE_DIR:-/var/lib/novalet}
NOVALET_HOST_UUID_FILE=${NOVALET_HOST_UUID_FILE:-$NOVALET_STATE_DIR/host-uuid}

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# Print a persistent UUID for the root-namespace libvirtd (there is no SMBIOS
# on these machines, so libvirt would otherwise invent a new one every start).
novalet_host_uuid() {
  if [ ! -s "$NOVALET_HOST_UUID_FILE" ]; then
    mkdir -p "$(dirname "$NOVALET_HOST_UUID_FILE")"
    cat /proc/sys/kernel/random/uuid > "$NOVALET_HOST_UUID_FILE.tmp"
    mv "$NOVALET_HOST_UUID_FILE.tmp" "$NOVALET_HOST_UUID_FILE"
  fi
  tr -d '[:space:]' < "$NOVALET_HOST_UUID_FILE"
}

# Write a file only if its content changes (keeps runs idempotent and quiet).
write_if_changed() { # path; content on stdin
  local path=$1 tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 1; fi
  mkdir -p "$(dirname "$path")"
  install -m 0644 "$tmp" "$path"; rm -f "$tmp"
  log "wrote $path"
  return 0
}

# libvirtd.conf for the root-namespace daemon (no TCP listener: the multi-host
# testbed runs its own daemons with their own configs inside namespaces).
write_root_libvirtd_conf() {
  local uuid; uuid=$(novalet_host_uuid)
  write_if_changed /etc/libvirt/libvirtd.conf <<CONF || true
# Managed by novalet scripts/install.sh + scripts/libvirtd.sh
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
listen_tls = 0
listen_tcp = 0
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
}

write_root_qemu_conf() {
  write_if_changed /etc/libvirt/qemu.conf <<'CONF' || true
# Managed by novalet scripts/install.sh
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
CONF
}
