#!/usr/bin/env bash
# A single-node Ceph 16 (1 mon, 1 mgr, 1 OSD with bluestore on a file) for the rbd volume backend's tests, started
# by hand: no systemd, no cephadm. Everything lives under DIR (config, keyrings, data, logs, sockets, pid files).
#   scripts/ceph.sh start DIR [ADDR]   # HEALTH_OK in ~17-20 s; pool `volumes`, user client.novalet (profile rbd)
#   scripts/ceph.sh stop DIR           # OSD first (with the mon gone it waits 5 s), then mgr, then mon
#   scripts/ceph.sh status DIR         # exit 0 if the cluster answers
# After start: DIR/ceph.conf and DIR/ceph.client.novalet.keyring are what the controller's volumes.rbd config
# names ({"pool": "volumes", "user": "novalet", "conf": "DIR/ceph.conf", "keyring": "DIR/ceph.client.novalet.keyring"}).
# Packages: ceph-mon ceph-osd ceph-mgr ceph-common (and qemu-block-extra for QEMU's rbd driver), uuid-runtime.
set -euo pipefail

cmd=${1:-}
C=${2:-}
[ -n "$cmd" ] && [ -n "$C" ] || { echo "usage: $0 start|stop|status DIR [ADDR]" >&2; exit 2; }
ADDR=${3:-127.0.0.1}

status() { [ -f "$C/ceph.conf" ] && timeout 10 ceph --conf "$C/ceph.conf" -s --connect-timeout 5 >/dev/null 2>&1; }

stop() {
  for f in "$C"/run/osd.*.pid "$C/run/mgr.x.pid" "$C/run/mon.a.pid"; do
    [ -f "$f" ] || continue
    p=$(cat "$f"); kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}

start() {
  command -v ceph-mon >/dev/null || { echo "ceph-mon missing: apt-get install ceph-mon ceph-osd ceph-mgr ceph-common" >&2; exit 1; }
  if status; then echo "ceph: already running in $C"; return 0; fi
  stop
  rm -rf "$C"; mkdir -p "$C"/{run,log,mon,mgr,osd}
  local fsid; fsid=$(uuidgen)
  cat > "$C/ceph.conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:$ADDR:3300/0
public_addr = $ADDR
cluster_addr = $ADDR
ms_bind_msgr1 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
run_dir = $C/run
admin_socket = $C/run/\$cluster-\$name.asok
log_file = $C/log/\$cluster-\$name.log
pid_file = $C/run/\$name.pid
keyring = $C/ceph.client.admin.keyring
[mon]
mon_data = $C/mon/\$cluster-\$id
[mgr]
mgr_data = $C/mgr/\$cluster-\$id
keyring = $C/mgr/\$cluster-\$id/keyring
[osd]
osd_data = $C/osd/\$cluster-\$id
keyring = $C/osd/\$cluster-\$id/keyring
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 5368709120
osd_memory_target = 939524096
CONF
  export CEPH_CONF=$C/ceph.conf
  ceph-authtool --create-keyring "$C/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$C/ceph.client.admin.keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$C/mon.keyring" --import-keyring "$C/ceph.client.admin.keyring" >/dev/null
  monmaptool --create --addv a "[v2:$ADDR:3300]" --fsid "$fsid" "$C/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$C/monmap" --keyring "$C/mon.keyring"
  ceph-mon -i a
  ceph -s --connect-timeout 30 >/dev/null
  mkdir -p "$C/mgr/ceph-x"
  ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$C/mgr/ceph-x/keyring"
  ceph-mgr -i x
  local uuid secret id
  uuid=$(uuidgen); secret=$(ceph-authtool --gen-print-key)
  id=$(echo "{\"cephx_secret\": \"$secret\"}" | ceph osd new "$uuid" -i -)
  mkdir -p "$C/osd/ceph-$id"
  ceph-authtool --create-keyring "$C/osd/ceph-$id/keyring" --name "osd.$id" --add-key "$secret" >/dev/null
  ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" > "$C/log/osd-mkfs.out" 2>&1
  ceph-osd -i "$id"
  for _ in $(seq 1 300); do ceph osd stat 2>/dev/null | grep -q '1 up' && break; sleep 0.2; done
  ceph osd pool create volumes 8 8 >/dev/null
  ceph osd pool application enable volumes rbd >/dev/null
  rbd pool init volumes
  # the controller's user: rbd on the volumes pool, and fencing dead hosts: `profile rbd` lets it add a blocklist
  # entry of the form IP:port/nonce only, the extra command lets it remove one when the fenced host is back
  ceph auth get-or-create client.novalet mon 'profile rbd, allow command "osd blocklist"' osd 'profile rbd pool=volumes' mgr 'profile rbd pool=volumes' \
    -o "$C/ceph.client.novalet.keyring"
  for _ in $(seq 1 300); do ceph pg stat 2>/dev/null | grep -qE '^[0-9]+ pgs: [0-9]+ active\+clean;' && break; sleep 0.5; done
  for _ in $(seq 1 120); do ceph health 2>/dev/null | grep -q HEALTH_OK && break; sleep 0.5; done
  echo "ceph: $(ceph health) in $C"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status DIR [ADDR]" >&2; exit 2 ;;
esac
