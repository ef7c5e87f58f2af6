#!/usr/bin/env bash
# Install everything novalet needs on a fresh Debian 12 (bookworm) machine.
# Idempotent; a fast no-op when everything is already there. Run as root.
#   scripts/install.sh            # packages + libvirt config + npm ci + native build + npm run build
#   NOVALET_SKIP_NPM=1 scripts/install.sh   # system part only
#   NOVALET_SKIP_NATIVE=1 scripts/install.sh  # everything but `npm run build:native`
#   NOVALET_SKIP_BUILD=1 scripts/install.sh   # everything but `npm run build` (dist/, the agent's unit runs it)
#   NOVALET_FORCE_APT=1 scripts/install.sh  # run apt-get even if every package is installed
#   NOVALET_WITH_CEPH=1 scripts/install.sh  # also Ceph 16 (~53 MB download, ~250 MB installed): the rbd volume tests
#                                           # (scripts/test.sh, CI's entry, sets it; scripts/up.sh does not)
# Node.js 20 itself is a prerequisite (bookworm ships Node 18): install it first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root

PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config
      qemu-system-x86 qemu-utils dnsmasq-base iptables busybox-static iproute2 cpio
      ca-certificates util-linux mount coreutils procps psmisc gzip xz-utils python3 make g++
      python3-openstackclient python3-novaclient python3-openstacksdk genisoimage nftables postgresql)
# python3-openstack*/novaclient: the stock clients the end-to-end tests (test/e2e/) drive.
# util-linux: unshare/nsenter/flock; mount: losetup (testbed shared block storage);
# python3/make/g++: node-gyp for the native binding; qemu-utils: qemu-img; genisoimage: config drives (+ isoinfo)
# nftables (nft): tenant networks' port filters; dnsmasq-base: their per-network DHCP (src/agent/network/)
# postgresql: the PostgreSQL store's tests (scripts/postgres.sh runs its own cluster with pg_ctl, no systemd)
# Ceph (opt-in, large): scripts/ceph.sh's single-node cluster for the rbd tests (volumes-rbd, the testbed's
# --storage ceph; skipped without it, except under scripts/test.sh / CI which install it); qemu-block-extra: QEMU's rbd driver; uuid-runtime: uuidgen
if [ "${NOVALET_WITH_CEPH:-0}" = 1 ]; then PKGS+=(ceph-mon ceph-osd ceph-mgr ceph-common qemu-block-extra uuid-runtime); fi

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${st:0:2}" = "ii" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ "${NOVALET_FORCE_APT:-0}" = 1 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # postgresql's package would create and start a system cluster; novalet runs its own (scripts/postgres.sh)
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
  fi
  apt-get update -q
  # NOT libvirt-daemon-system: it pulls in systemd.
  apt-get install -y -q --no-install-recommends "${PKGS[@]}"
else
  log "all ${#PKGS[@]} packages present"
fi

# The QEMU driver refuses to start without this user, even with user="root".
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/lib/novalet
write_root_libvirtd_conf
write_root_qemu_conf

if [ "${NOVALET_SKIP_NPM:-0}" = 1 ]; then
  log "NOVALET_SKIP_NPM=1: skipping npm ci / native build"; exit 0
fi
command -v node >/dev/null || die "node (v20) is not installed; install Node.js 20 first"
case "$(node -v)" in v20.*) ;; *) log "WARNING: node $(node -v) found, package.json wants >=20 <21";; esac

# npm ci only when node_modules is older than the lockfile (or absent).
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
else
  log "node_modules up to date"
fi

if [ "${NOVALET_SKIP_NATIVE:-0}" = 1 ]; then
  log "NOVALET_SKIP_NATIVE=1: skipping the native build"
elif [ -f native/binding.gyp ]; then
  # Rebuild only if a native source is newer than the built addon.
  built=$(find native/build -name '*.node' -print -quit 2>/dev/null || true)
  if [ -z "$built" ] || [ -n "$(find native -path native/build -prune -o -type f -newer "$built" -print -quit)" ]; then
    log "npm run build:native"
    npm run build:native
  else
    log "native addon up to date ($built)"
  fi
else
  log "native/binding.gyp does not exist yet: skipping the native build"
fi

# The compiled build (dist/): the agent's systemd unit runs it (tsx costs the agent ~40 MB of RSS; see
# src/agent/README.md). Rebuilt only when a source, tsconfig.json or the lockfile is newer than the last build.
stamp=dist/.build-stamp
if [ "${NOVALET_SKIP_BUILD:-0}" = 1 ]; then
  log "NOVALET_SKIP_BUILD=1: skipping npm run build"
elif [ ! -f "$stamp" ] || [ -n "$(find src tsconfig.json package-lock.json -newer "$stamp" -print -quit)" ]; then
  log "npm run build"
  # tsc emits even when some file does not typecheck; what the agent needs is its entry point
  npm run build || [ -f dist/src/cli/main.js ] || die "npm run build produced no dist/src/cli/main.js"
  touch "$stamp"
else
  log "compiled build up to date (dist/)"
fi

# `novalet` on PATH (the README's commands use it): the checkout's launcher (tsx, no build needed)
ln -sfn "$PWD/bin/novalet.js" /usr/local/bin/novalet
log "done"
