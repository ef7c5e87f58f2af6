#!/usr/bin/env bash
# The README's first command: the all-in-one on this host, then a smoke run through the stock client.
#   install (packages, npm, native build) -> libvirtd -> test guest -> `novalet up` as a background service
#   (systemd unit where systemd runs, else a detached process) -> wait for the API -> `openstack server create
#   --wait`, check the guest booted, delete it. Idempotent: a running all-in-one is reused.
# Env: NOVALET_DATA_DIR (default /var/lib/novalet), NOVALET_LISTEN (default 127.0.0.1:8774), NOVALET_SKIP_SMOKE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root
REPO=$(pwd)
DATA_DIR=${NOVALET_DATA_DIR:-/var/lib/novalet}
# V8 flags of the controller's unit (systemd/novalet-controller.service says why)
NODE_FLAGS="--heap-growing-percent=30"
LISTEN=${NOVALET_LISTEN:-127.0.0.1:8774}
LOG_DIR=/var/log/novalet
PID_FILE=/run/novalet-up.pid

bash scripts/install.sh
bash scripts/libvirtd.sh start
bash scripts/build-guest.sh

api_up() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://${LISTEN}/identity/v3"; }

if api_up; then
  log "novalet up already answers on http://${LISTEN}"
elif [ -d /run/systemd/system ] && systemctl is-system-running >/dev/null 2>&1; then
  write_if_changed /etc/systemd/system/novalet-up.service <<UNIT || true
[Unit]
Description=novalet all-in-one (controller + agent on this host)
After=network-online.target libvirtd.service
Wants=network-online.target

[Service]
# the compiled build (install.sh keeps dist/ current); glibc malloc arenas capped (README: Running in production)
Environment=MALLOC_ARENA_MAX=2
ExecStart=/usr/bin/env node ${NODE_FLAGS} ${REPO}/dist/src/cli/main.js up --data-dir ${DATA_DIR} --listen ${LISTEN}
# guests must survive restarts: only the novalet process is signalled
KillMode=process
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now novalet-up.service
else
  mkdir -p "$LOG_DIR"
  log "starting novalet up (log: $LOG_DIR/up.log)"
  MALLOC_ARENA_MAX=2 setsid nohup node ${NODE_FLAGS} dist/src/cli/main.js up --data-dir "$DATA_DIR" --listen "$LISTEN" >>"$LOG_DIR/up.log" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
fi

for _ in $(seq 1 120); do api_up && [ -s "$DATA_DIR/clouds.yaml" ] && break; sleep 1; done
api_up || die "novalet up did not answer on http://${LISTEN} (see $LOG_DIR/up.log)"
export OS_CLIENT_CONFIG_FILE="$DATA_DIR/clouds.yaml"
# Debian's clients run on /usr/bin/python3 (a pyenv python3 earlier on PATH lacks their modules)
export PATH="/usr/bin:$PATH"

if [ "${NOVALET_SKIP_SMOKE:-0}" != 1 ]; then
  name="smoke-$(date +%s)"
  log "smoke: openstack server create --wait $name"
  openstack --os-cloud novalet server create --image novalet-guest --flavor m1.tiny --network private --wait "$name" \
    -f value -c id -c status -c addresses
  id=$(openstack --os-cloud novalet server show "$name" -f value -c id)
  console="$DATA_DIR/agent/instances/$id/console.log"
  for _ in $(seq 1 90); do grep -qa NOVALET-READY "$console" 2>/dev/null && break; sleep 1; done
  grep -qa NOVALET-READY "$console" || die "guest of $name did not boot (console: $console)"
  log "smoke: guest booted: $(grep -a NOVALET-READY "$console" | tail -1 | tr -d '\r')"
  openstack --os-cloud novalet server delete --wait "$name" >/dev/null
  log "smoke: deleted $name"
fi

cat <<MSG

novalet is up: http://${LISTEN}  (data: ${DATA_DIR})
  export OS_CLIENT_CONFIG_FILE=${DATA_DIR}/clouds.yaml
  openstack --os-cloud novalet server create --image novalet-guest --flavor m1.tiny --network private --wait vm1
  openstack --os-cloud novalet-admin hypervisor list
MSG
